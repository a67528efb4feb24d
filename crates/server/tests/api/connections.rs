//! The listener under a slow-connection flood: half-open connections (headers begun, never
//! finished) from one client address, while another measures `/healthz` and payments.

use crate::helpers::{sample_document, spawn_app_with, test_config};
use reqwest::StatusCode;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Opens a connection from `from` and sends the start of a request's headers, never the end.
async fn half_open(from: &str, to: SocketAddr) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    socket.bind(format!("{from}:0").parse().ok()?).ok()?;
    let mut stream = socket.connect(to).await.ok()?;
    stream
        .write_all(b"POST /v1/payments HTTP/1.1\r\nHost: quittance\r\nX-Slow: ")
        .await
        .ok()?;
    Some(stream)
}

/// What a held connection says next: `Some(text)` once the server closed it (its answer, if
/// any), `None` while it stays open.
async fn answer_within(stream: &mut TcpStream, wait: Duration) -> Option<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[(samples.len() * 99 / 100).min(samples.len() - 1)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_flood_of_half_open_connections_is_shed_and_timed_out_while_others_are_served() {
    let header_timeout = Duration::from_secs(2);
    let app = spawn_app_with(quittance_services::config::Config {
        http_header_timeout_seconds: header_timeout.as_secs(),
        max_connections_per_client: 500,
        max_connections: 4000,
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    let account = app.import(&org, sample_document("FLOOD-1")).await["account"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let to: SocketAddr = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");

    // 2,000 half-open connections from 127.0.0.2: the first 500 are held, the rest shed.
    let flood_started = Instant::now();
    let mut flood = Vec::new();
    for _ in 0..2000 {
        if let Some(stream) = half_open("127.0.0.2", to).await {
            flood.push(stream);
        }
    }
    assert_eq!(
        flood.len(),
        2000,
        "every connection was accepted by the kernel"
    );

    // Meanwhile, from 127.0.0.1: health checks and payments all answer.
    let (mut health, mut payments) = (Vec::new(), Vec::new());
    for i in 0..100 {
        let started = Instant::now();
        let answered = app
            .http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .expect("healthz");
        assert_eq!(answered.status(), StatusCode::OK);
        health.push(started.elapsed());
        let started = Instant::now();
        let (status, paid) = app
            .post(
                "/v1/payments",
                &org,
                json!({"account_id": account, "amount": format!("1.{:02}", i % 100),
                    "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2031,
                             "cvv": "123", "holder_name": "Flood Test"}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{paid}");
        payments.push(started.elapsed());
    }

    // Each flood connection is either shed at once (503, the error shape) or closed by the
    // header timeout.
    let (mut shed, mut timed_out) = (0, 0);
    let close_by = header_timeout + Duration::from_secs(3);
    for stream in &mut flood {
        let waited = flood_started.elapsed();
        let answer = answer_within(
            stream,
            close_by
                .saturating_sub(waited)
                .max(Duration::from_millis(10)),
        )
        .await
        .unwrap_or_else(|| panic!("a half-open connection outlived the header timeout"));
        if answer.starts_with("HTTP/1.1 503") {
            assert!(
                answer.contains(r#""error_class":"ServiceUnavailable""#),
                "{answer}"
            );
            shed += 1;
        } else {
            timed_out += 1;
        }
    }
    eprintln!(
        "2,000 half-open connections: {timed_out} held until the header timeout, {shed} shed; p99 /healthz {} ms, POST /v1/payments {} ms",
        p99(health.clone()).as_millis(),
        p99(payments.clone()).as_millis()
    );
    assert_eq!(timed_out, 500, "the per-client cap holds exactly 500");
    assert_eq!(shed, 1500);
    // Served, not starved: starved requests would wait for the flood's header timeout (2 s).
    // The figure itself (about 1 ms and 20 ms here) is printed above; the bound is loose so
    // that a loaded CI machine running a debug build does not fail it.
    assert!(p99(health) < Duration::from_secs(1));
    assert!(p99(payments) < Duration::from_secs(1));
}

#[tokio::test]
async fn a_request_body_that_stalls_is_cut_off_and_one_that_keeps_moving_is_not() {
    let app = spawn_app_with(quittance_services::config::Config {
        http_body_idle_seconds: 1,
        ..test_config()
    })
    .await;
    let org = app.org("acme").await;
    let to: SocketAddr = app
        .base
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    let body = br#"{"account_number": "SLOW-1", "last_name": "Slow",
        "sub_accounts": [{"reference": "V-1", "original_balance": "10.00"}]}"#;
    let head = format!(
        "POST /v1/import HTTP/1.1\r\nHost: quittance\r\nAuthorization: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        org.bearer(),
        body.len()
    );
    // Stalled: half the body, then nothing.
    let mut stalled = TcpStream::connect(to).await.expect("connect");
    stalled.write_all(head.as_bytes()).await.expect("head");
    stalled.write_all(&body[..10]).await.expect("part");
    let started = Instant::now();
    let answer = answer_within(&mut stalled, Duration::from_secs(5))
        .await
        .expect("the stalled upload is cut off");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // Slow but moving: a few bytes every 400 ms, 2.4 s in all, past the 1 s idle limit.
    let mut slow = TcpStream::connect(to).await.expect("connect");
    slow.write_all(head.as_bytes()).await.expect("head");
    for piece in body.chunks(body.len().div_ceil(6)) {
        tokio::time::sleep(Duration::from_millis(400)).await;
        slow.write_all(piece).await.expect("piece");
    }
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), slow.read(&mut answer))
        .await
        .expect("answered")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(
        answer.starts_with("HTTP/1.1 201") || answer.starts_with("HTTP/1.1 200"),
        "{answer}"
    );
}
