//! The HTTP listener: accepts connections under two caps (open connections overall, and per
//! client address), reads each one under time limits (a request's headers, then its body's
//! progress), and on shutdown stops accepting and lets the requests in flight finish. A
//! connection over a cap is answered 503 at once and closed, so the connections already
//! accepted are never starved by those waiting.

use axum::Router;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// How connections are limited (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// How long a client has to send a request's headers; also how long an idle keep-alive
    /// connection waits for its next request.
    pub header_timeout: Duration,
    /// How long a request body may go without a byte arriving.
    pub body_idle: Duration,
    pub max_connections: usize,
    pub max_per_client: usize,
}

/// The answer to a connection over a cap: the error shape, then the connection closes.
const SHED: &str = "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: 116\r\n\r\n{\"error_class\":\"ServiceUnavailable\",\"message\":\"too many open connections; retry shortly\",\"code\":503,\"request_id\":\"\"}";

/// Open connections, overall and per client address.
#[derive(Default)]
struct Open {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// One accepted connection's place under the caps, given back when it closes.
struct Slot {
    open: Arc<Mutex<Open>>,
    client: IpAddr,
}

impl Slot {
    fn take(open: &Arc<Mutex<Open>>, client: IpAddr, limits: &ConnectionLimits) -> Option<Slot> {
        let mut counts = open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = counts.per_client.get(&client).copied().unwrap_or(0);
        if counts.total >= limits.max_connections || mine >= limits.max_per_client {
            return None;
        }
        counts.total += 1;
        counts.per_client.insert(client, mine + 1);
        Some(Slot {
            open: open.clone(),
            client,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.open.lock().unwrap_or_else(|p| p.into_inner());
        counts.total -= 1;
        if let Some(mine) = counts.per_client.get_mut(&self.client) {
            *mine -= 1;
            if *mine == 0 {
                counts.per_client.remove(&self.client);
            }
        }
    }
}

/// Serves `router` on `listener` until `shutdown` completes, then waits for the connections
/// still open to finish their requests (idle ones close at once).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: let connections close first.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = Slot::take(&open, peer.ip(), &limits) else {
            let _ = stream.try_write(SHED.as_bytes());
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                let mut request = request
                    .map(|body| axum::body::Body::new(IdleBody::new(body, limits.body_idle)));
                request.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(request)
            });
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// A request body that fails once no byte has arrived for `idle`: a slow upload that keeps
/// moving goes on, one that stalls is cut off.
struct IdleBody {
    inner: hyper::body::Incoming,
    idle: Duration,
    deadline: Pin<Box<Sleep>>,
}

impl IdleBody {
    fn new(inner: hyper::body::Incoming, idle: Duration) -> IdleBody {
        IdleBody {
            inner,
            idle,
            deadline: Box::pin(tokio::time::sleep(idle)),
        }
    }
}

impl Body for IdleBody {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = Instant::now() + self.idle;
                self.deadline.as_mut().reset(next);
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(format!(
                    "the request body sent nothing for {} s",
                    self.idle.as_secs()
                )
                .into()))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shed_answer_is_the_error_shape_with_its_length() {
        let (head, body) = SHED.split_once("\r\n\r\n").expect("head and body");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .expect("length")
            .parse()
            .expect("number");
        assert_eq!(length, body.len());
        let parsed: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(parsed["error_class"], "ServiceUnavailable");
        assert_eq!(parsed["code"], 503);
    }

    #[test]
    fn slots_are_capped_overall_and_per_client_and_given_back() {
        let limits = ConnectionLimits {
            header_timeout: Duration::from_secs(1),
            body_idle: Duration::from_secs(1),
            max_connections: 3,
            max_per_client: 2,
        };
        let open = Arc::new(Mutex::new(Open::default()));
        let (a, b): (IpAddr, IpAddr) = (
            "127.0.0.2".parse().expect("ip"),
            "127.0.0.3".parse().expect("ip"),
        );
        let first = Slot::take(&open, a, &limits).expect("a 1");
        let _second = Slot::take(&open, a, &limits).expect("a 2");
        assert!(Slot::take(&open, a, &limits).is_none(), "a is at its cap");
        let _third = Slot::take(&open, b, &limits).expect("b 1");
        assert!(
            Slot::take(&open, b, &limits).is_none(),
            "the total is at its cap"
        );
        drop(first);
        assert!(
            Slot::take(&open, a, &limits).is_some(),
            "a closed one is given back"
        );
    }
}
