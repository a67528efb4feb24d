//! `ingo`: signed IngoPay session creations per second, beside an unsigned authenticated
//! `POST /v1/import` of the same size in the same run (goal ≥ 0.8×), and the time from an
//! `authorized_url` to the hosted page's HTML.

use crate::Options;
use crate::support::{ms, percentile, serve};
use quittance_domain::{Clock, SystemClock};
use quittance_services::credentials::issue_credentials;
use quittance_services::ingo::participants::{self, ParticipantChanges};
use quittance_services::ingo::signing::client_headers;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PATH: &str = "/api/v1/sessions/point-in-time/plugin";

/// A session request whose `participant_unique_id1` is `n`, zero-padded, so every body (and
/// so every signature) differs while all have one size.
fn session_body(n: u64) -> String {
    format!(
        r#"{{"participant_unique_id1":"BENCH-{n:012}","participant_unique_id2":"DEF-5678","recipient_information":{{"first_name":"Jack","last_name":"Frost","address_line1":"123 Main St","address_line2":"","city":"Atlanta","state":"GA","zip_code":"30313","email_address":"jack@example.com","phone_number":"1231231234","mobile_number":"1231231234"}}}}"#
    )
}

/// A master account of the same length as `session_body`, for `POST /v1/import`.
fn import_body(n: u64, length: usize) -> String {
    let base = format!(
        r#"{{"account_number":"BENCH-{n:012}","first_name":"Jack","last_name":"Frost","email":"jack@example.com","phone":"1231231234","address":{{"line1":"123 Main St","line2":"","city":"Atlanta","state":"GA","postal_code":"30313"}},"sub_accounts":[{{"reference":"V-{n:012}","original_balance":"10.00"}}]}}"#
    );
    // Padded in address.line2 to the session body's length.
    let pad = length.saturating_sub(base.len());
    base.replacen(
        r#""line2":"""#,
        &format!(r#""line2":"{}""#, "x".repeat(pad)),
        1,
    )
}

/// `clients` loops for `seconds`, each sending `make(n)` for the next `n` from `first`;
/// answers the requests made and their latencies. Any non-2xx answer stops the run.
async fn closed_loop<F>(
    clients: usize,
    seconds: u64,
    first: u64,
    make: Arc<F>,
) -> Result<(f64, Vec<Duration>), String>
where
    F: Fn(u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let counter = Arc::new(AtomicU64::new(first));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (make, counter) = (make.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let request = make(counter.fetch_add(1, Ordering::Relaxed));
                let sent = Instant::now();
                let response = request.send().await.map_err(|e| e.to_string())?;
                let status = response.status();
                let body = response.bytes().await.map_err(|e| e.to_string())?;
                if !status.is_success() {
                    return Err(format!(
                        "answered {status}: {}",
                        String::from_utf8_lossy(&body)
                    ));
                }
                latencies.push(sent.elapsed());
            }
            Ok::<_, String>(latencies)
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.map_err(|e| e.to_string())??);
    }
    Ok((started.elapsed().as_secs_f64(), latencies))
}

pub async fn ingo_bench(options: &Options) -> Result<(), String> {
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (served, state) = serve(work.path()).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let participant = participants::create(
        &state,
        &issued.organization_id,
        &ParticipantChanges {
            host_uris: Some(vec!["https://host.example".to_owned()]),
            ..ParticipantChanges::default()
        },
    )
    .await
    .map_err(|e| e.message().to_owned())?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(options.concurrency)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let length = session_body(0).len();
    println!(
        "\n## IngoPay sessions: signed POST {PATH} vs unsigned POST /v1/import, {length}-byte bodies, {} concurrent clients, {} s each in 5 alternating slices (SQLite, synchronous=FULL)",
        options.concurrency, options.seconds
    );

    let (username, secret) = (
        participant.participant.username.clone(),
        participant.secret.expose().to_owned(),
    );
    let (client, url) = (http.clone(), format!("{}{PATH}", served.base));
    let sign = Arc::new(move |n| {
        let body = session_body(n);
        let line = format!("POST {PATH} HTTP/1.1");
        let mut request = client.post(&url).body(body.clone());
        for (name, value) in client_headers(
            &username,
            &secret,
            &line,
            SystemClock.now(),
            body.as_bytes(),
        ) {
            request = request.header(name, value);
        }
        request
    });
    let (client, url, key) = (
        http.clone(),
        format!("{}/v1/import", served.base),
        issued.api_key.expose().to_owned(),
    );
    let import = Arc::new(move |n| {
        client
            .post(&url)
            .header("authorization", &key)
            .header("content-type", "application/json")
            .body(import_body(n, length))
    });
    // Five slices of each, alternating, so that drift on a shared machine falls on both.
    let slice = (options.seconds / 5).max(1);
    let (mut signed, mut plain) = (Vec::new(), Vec::new());
    let (mut signed_time, mut plain_time) = (0.0, 0.0);
    for round in 0..5u64 {
        let first = round * 100_000_000;
        let (t, l) = closed_loop(options.concurrency, slice, first, sign.clone()).await?;
        signed_time += t;
        signed.extend(l);
        let (t, l) = closed_loop(options.concurrency, slice, first, import.clone()).await?;
        plain_time += t;
        plain.extend(l);
    }
    signed.sort();
    plain.sort();
    let signed_rate = signed.len() as f64 / signed_time;
    let plain_rate = plain.len() as f64 / plain_time;
    println!(
        "signed sessions  {signed_rate:>7.0}/s  p50 {:.2} ms  p99 {:.2} ms  ({} sessions)",
        ms(percentile(&signed, 0.5)),
        ms(percentile(&signed, 0.99)),
        signed.len()
    );
    println!(
        "unsigned import  {plain_rate:>7.0}/s  p50 {:.2} ms  p99 {:.2} ms  ({} accounts)",
        ms(percentile(&plain, 0.5)),
        ms(percentile(&plain, 0.99)),
        plain.len()
    );
    println!(
        "ratio {:.2}× (goal ≥ 0.8×; the load generator shares the 2 cores)",
        signed_rate / plain_rate
    );

    // authorized_url → the page's HTML: open the URL (one-use, sets the cookie, 303), then the
    // page itself, one recipient at a time.
    let mut opened = Vec::new();
    for n in 0..200u64 {
        let body = session_body(1_000_000_000 + n);
        let line = format!("POST {PATH} HTTP/1.1");
        let mut request = http
            .post(format!("{}{PATH}", served.base))
            .body(body.clone());
        for (name, value) in client_headers(
            &participant.participant.username,
            participant.secret.expose(),
            &line,
            SystemClock.now(),
            body.as_bytes(),
        ) {
            request = request.header(name, value);
        }
        let made: serde_json::Value = request
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let authorized = made["data"]["authorized_url"]
            .as_str()
            .ok_or("no authorized_url")?;
        let path = &authorized[authorized.find("/session/").ok_or("no path")?..];
        let started = Instant::now();
        let link = http
            .get(format!("{}{path}", served.base))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let cookie = link
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .ok_or("no cookie")?
            .to_owned();
        let location = link
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or("no redirect")?
            .to_owned();
        let page = http
            .get(format!("{}{location}", served.base))
            .header("cookie", cookie)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let ok = page.status().is_success();
        let html = page.text().await.map_err(|e| e.to_string())?;
        if !ok || !html.contains("first_name") {
            return Err("the hosted page did not open".to_owned());
        }
        opened.push(started.elapsed());
    }
    opened.sort();
    println!(
        "authorized_url to the page's HTML (redirect and page, 200 recipients one by one): p50 {:.2} ms  p99 {:.2} ms",
        ms(percentile(&opened, 0.5)),
        ms(percentile(&opened, 0.99))
    );
    Ok(())
}
