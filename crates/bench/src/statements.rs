//! `statements`: statement analyses end to end on five-page PDFs, and peak RSS.

use crate::Options;
use crate::support::{ms, peak_rss_mib, percentile, serve_with_key};
use std::time::{Duration, Instant};

/// Statement analyses end to end: a five-page First Data statement created, uploaded and
/// started over HTTP and read by the server's own worker, one after another, each timed until
/// the analysis is `completed` (its `statement_analysis.completed` event is written in the same
/// transaction); then the reading alone, in process; and the process's peak RSS.
pub async fn statements_bench(options: &Options) -> Result<(), String> {
    use quittance_statement_fixtures::{Layout, Options as Render, render};
    let count = if options.accounts == 0 {
        100
    } else {
        options.accounts
    };
    let fixture = render(
        Layout::FirstData,
        1,
        &Render {
            pages_at_least: 5,
            ..Render::default()
        },
    );
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (served, key, http) = serve_with_key(work.path(), 1).await?;
    println!(
        "\n## Statement analysis: {count} analyses of a {}-page First Data statement ({} KiB, {} fee rows), one at a time (SQLite)",
        fixture.pages,
        fixture.pdf.len() / 1024,
        fixture.expected.fees.len()
    );
    let api = |path: &str| format!("{}/api/statement_analyses{path}", served.base);
    let mut latencies = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let started = Instant::now();
    for _ in 0..count {
        let began = Instant::now();
        let created: serde_json::Value = http
            .post(api(""))
            .header("Authorization", &key)
            .json(
                &serde_json::json!({"userId": 1, "name": "bench", "merchantName": "Bench Burgers"}),
            )
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let id = created["id"].as_str().ok_or("no analysis id")?;
        let uploaded = http
            .post(api(&format!("/{id}/files?filename=statement.pdf")))
            .header("Authorization", &key)
            .header("Content-Type", "application/pdf")
            .body(fixture.pdf.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let started_one = http
            .post(api(&format!("/{id}/start")))
            .header("Authorization", &key)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if uploaded.status() != 200 || started_one.status() != 202 {
            return Err(format!(
                "upload answered {}, start {}",
                uploaded.status(),
                started_one.status()
            ));
        }
        loop {
            let analysis: serde_json::Value = http
                .get(api(&format!("/{id}")))
                .header("Authorization", &key)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            match analysis["status"].as_str() {
                Some("completed") => break,
                Some("created" | "queued") => tokio::time::sleep(Duration::from_millis(1)).await,
                _ => return Err(format!("the analysis ended {analysis}")),
            }
        }
        latencies.push(began.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "{:.1} analyses/s  p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms per statement, upload to completed (goal < 200 ms)",
        count as f64 / elapsed.as_secs_f64(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    let limits = quittance_statement_pdf::Limits::default();
    let mut reading = Vec::new();
    for _ in 0..count {
        let began = Instant::now();
        let lines = quittance_statement_pdf::text_lines(&fixture.pdf, &limits)
            .map_err(|e| e.to_string())?;
        quittance_pricing::statements::read_statement(&lines).map_err(|e| e.to_string())?;
        reading.push(began.elapsed());
    }
    reading.sort();
    println!(
        "reading alone (PDF text, then the statement): p50 {:.1} ms  p99 {:.1} ms",
        ms(percentile(&reading, 0.5)),
        ms(percentile(&reading, 0.99))
    );
    println!(
        "peak RSS of the whole process (server, worker, client, SQLite cache): {:.0} MiB (goal < 100 MB while parsing)",
        peak_rss_mib("self").unwrap_or(f64::NAN)
    );
    Ok(())
}
