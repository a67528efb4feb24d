//! `webhooks`: deliveries per second against a bare HTTP client, and commit-to-attempt latency.

use crate::Options;
use crate::support::{backend_name, bench_database, percentile, serve_on};
use quittance_domain::events::EventType;
use quittance_domain::ids::OrganizationId;
use quittance_domain::{Clock, SystemClock};
use quittance_server::http::state::AppState;
use quittance_services::credentials::issue_credentials;
use quittance_services::webhooks::{delivery, sample};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What the benchmark receiver saw: a count, and when each `webhook-id` first arrived.
#[derive(Default)]
pub struct Arrivals {
    pub count: AtomicU64,
    pub first_seen: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
    pub record_times: std::sync::atomic::AtomicBool,
    pub sample_body: std::sync::Mutex<Option<Vec<u8>>>,
}

/// A receiver on 127.0.0.1 that answers 200 at once.
pub async fn webhook_receiver(arrivals: Arc<Arrivals>) -> Result<String, String> {
    async fn hook(
        axum::extract::State(arrivals): axum::extract::State<Arc<Arrivals>>,
        headers: axum::http::HeaderMap,
        body: axum::body::Bytes,
    ) -> &'static str {
        arrivals.count.fetch_add(1, Ordering::Relaxed);
        if arrivals.record_times.load(Ordering::Relaxed)
            && let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok())
        {
            let mut seen = arrivals
                .first_seen
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            seen.entry(id.to_owned()).or_insert_with(Instant::now);
        }
        let mut sample = arrivals
            .sample_body
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if sample.is_none() {
            *sample = Some(body.to_vec());
        }
        "ok"
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let url = format!(
        "http://{}/hook",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// Records `count` sample events, 500 per transaction.
pub async fn record_events(
    state: &AppState,
    org: &OrganizationId,
    count: u64,
) -> Result<(), String> {
    let mut left = count;
    while left > 0 {
        let batch = left.min(500);
        left -= batch;
        let (org, now) = (org.clone(), state.clock.now());
        state
            .db
            .write(move |tx| {
                Box::pin(async move {
                    for _ in 0..batch {
                        quittance_services::events::record(
                            tx,
                            &org,
                            EventType::PaymentApproved,
                            &sample::sample_data(EventType::PaymentApproved),
                            now,
                        )
                        .await?;
                    }
                    Ok::<_, quittance_store::StoreError>(())
                })
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

pub async fn webhooks_bench(options: &Options) -> Result<(), String> {
    let concurrency = options.concurrency;
    let events = if options.accounts == 0 {
        50_000
    } else {
        options.accounts
    };
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (db, _test_db) = bench_database(work.path()).await?;
    println!(
        "\n## Webhook deliveries: {events} events to a local receiver answering 200, {concurrency} in flight ({})",
        backend_name(&db)
    );
    let arrivals = Arc::new(Arrivals::default());
    let url = webhook_receiver(arrivals.clone()).await?;
    let (served, state) = serve_on(db, work.path()).await?;
    let issued = issue_credentials(&served.db, &state.hasher, "bench", SystemClock.now())
        .await
        .map_err(|e| e.to_string())?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let created = http
        .post(format!("{}/v1/webhooks", served.base))
        .header("Authorization", issued.api_key.expose())
        .json(&serde_json::json!({"url": url, "event_types": ["payment.approved"]}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if created.status() != reqwest::StatusCode::CREATED {
        return Err(format!(
            "creating the webhook answered {}",
            created.status()
        ));
    }
    let org = issued.organization_id.clone();

    // Quittance: signing, sending and the delivery log, draining what is queued.
    record_events(&state, &org, events).await?;
    let started = Instant::now();
    let round = delivery::deliver_due(&state, "", &mut |_| {})
        .await
        .map_err(|e| e.message().to_owned())?;
    let elapsed = started.elapsed();
    if round.delivered != events {
        return Err(format!(
            "{} of {events} delivered: {round:?}",
            round.delivered
        ));
    }
    let quittance_rate = events as f64 / elapsed.as_secs_f64();

    // The bare client: the same bodies to the same receiver, nothing else.
    let body = arrivals
        .sample_body
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .ok_or("the receiver got nothing")?;
    let sent = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, body, sent) = (http.clone(), url.clone(), body.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            while sent.fetch_add(1, Ordering::Relaxed) < events {
                let _ = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    let bare_rate = events as f64 / started.elapsed().as_secs_f64();
    println!(
        "{quittance_rate:.0} deliveries/s with signing and the delivery log; bare HTTP client {bare_rate:.0}/s (goal ≥ 0.25×, measured {:.2}×)",
        quittance_rate / bare_rate
    );

    // Latency: events committed one at a time while the worker runs, as in `serve`.
    arrivals.record_times.store(true, Ordering::Relaxed);
    let worker = tokio::spawn(delivery::run_until(
        state.app.clone(),
        String::new(),
        quittance_services::stop::Stop::never(),
        |_| {},
    ));
    let mut committed = Vec::new();
    for _ in 0..1000 {
        let id = sample::trigger(&state, &org, EventType::PaymentApproved)
            .await
            .map_err(|e| e.message().to_owned())?;
        committed.push((id.to_string(), Instant::now()));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    worker.abort();
    let seen = arrivals
        .first_seen
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut latencies: Vec<Duration> = committed
        .iter()
        .filter_map(|(id, at)| {
            seen.get(id)
                .map(|arrived| arrived.saturating_duration_since(*at))
        })
        .collect();
    if latencies.len() != committed.len() {
        return Err(format!(
            "{} of {} events reached the receiver",
            latencies.len(),
            committed.len()
        ));
    }
    latencies.sort();
    println!(
        "commit to first attempt: p50 {:.2} ms  p99 {:.2} ms  (goal p50 < 50 ms, p99 < 250 ms; 1,000 events, one every 5 ms)",
        percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
        percentile(&latencies, 0.99).as_secs_f64() * 1000.0
    );
    Ok(())
}
