//! Webhook endpoints and their deliveries: the stored choices, and when a failed delivery is
//! tried again.

use chrono::{DateTime, Duration, Utc};

status_enum!(
    /// Where a delivery stands, per event and endpoint (seed 002's "pending posting retry" is
    /// `pending_retry`, its "posting error" is `failed`).
    DeliveryStatus {
        Pending => "pending",
        PendingRetry => "pending_retry",
        Delivered => "delivered",
        Failed => "failed",
    }
);

status_enum!(
    /// The HTTP method a delivery uses (seed 000 offers all four). GET and DELETE carry the
    /// event in the query string.
    RequestMethod {
        Post => "POST",
        Put => "PUT",
        Get => "GET",
        Delete => "DELETE",
    }
);

impl RequestMethod {
    /// Whether the event travels in the query string rather than a body.
    pub fn in_query(self) -> bool {
        matches!(self, RequestMethod::Get | RequestMethod::Delete)
    }
}

status_enum!(
    /// The body's format (seed 002: JSON, XML or NVP name-value pairs).
    PayloadFormat {
        Json => "json",
        Xml => "xml",
        Nvp => "nvp",
    }
);

impl PayloadFormat {
    /// The Content-Type of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            PayloadFormat::Json => "application/json",
            PayloadFormat::Xml => "application/xml; charset=utf-8",
            PayloadFormat::Nvp => "application/x-www-form-urlencoded",
        }
    }
}

status_enum!(
    /// Which face created an endpoint, which decides the body and signature it gets.
    WebhookApi {
        V1 => "v1",
        IsoAmp => "iso_amp",
        /// A temporary endpoint of `quittance webhooks listen`, served by that command alone.
        Listener => "listener",
    }
);

status_enum!(
    /// How Quittance authenticates to a receiver.
    AccessType {
        Basic => "basic",
        ApiKey => "api_key",
        OAuth2 => "oauth2_client_credentials",
        MutualTls => "mutual_tls",
    }
);

status_enum!(
    /// Where an API key travels (seed 000: "Header / Body").
    KeyTransfer {
        Header => "header",
        Body => "body",
    }
);

status_enum!(
    /// How the wait between attempts grows.
    RetrySchedule {
        /// The same interval every time (seed 002: every 30 minutes).
        Fixed => "fixed",
        /// Doubling from the interval, with jitter, up to a day.
        Exponential => "exponential",
    }
);

/// Attempts that time out before a delivery fails (seed 002: "After two attempts the post
/// will fail").
pub const MAX_TIMEOUTS: i64 = 2;

/// The longest wait between attempts, whatever the schedule or `Retry-After` says.
pub const MAX_RETRY_DELAY: Duration = Duration::days(1);

/// One endpoint's retry rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub schedule: RetrySchedule,
    /// Seconds between attempts (fixed), or before the first retry (exponential).
    pub interval_seconds: i64,
    /// Attempts in all, the first included.
    pub max_attempts: i64,
}

impl Default for RetryPolicy {
    /// Seed 002's: every 30 minutes, five attempts.
    fn default() -> Self {
        RetryPolicy {
            schedule: RetrySchedule::Fixed,
            interval_seconds: 30 * 60,
            max_attempts: 5,
        }
    }
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    RetryAt(DateTime<Utc>),
    GiveUp,
}

/// Why an attempt failed, as far as retrying cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// Attempts made so far, this one included.
    pub attempts: i64,
    /// Of which timed out.
    pub timeouts: i64,
    /// The receiver's `Retry-After`, in seconds.
    pub retry_after: Option<i64>,
}

impl RetryPolicy {
    /// When to try again after `failure` at `now`. `jitter_permille` (0–999, random) spreads
    /// exponential retries: the wait is half the doubled interval plus that share of the other
    /// half. A receiver's `Retry-After` replaces the schedule's wait.
    pub fn after_failure(
        &self,
        failure: Failure,
        now: DateTime<Utc>,
        jitter_permille: i64,
    ) -> AfterFailure {
        if failure.attempts >= self.max_attempts || failure.timeouts >= MAX_TIMEOUTS {
            return AfterFailure::GiveUp;
        }
        let cap = MAX_RETRY_DELAY.num_seconds();
        let wait = match (failure.retry_after, self.schedule) {
            (Some(seconds), _) => seconds.clamp(0, cap),
            (None, RetrySchedule::Fixed) => self.interval_seconds.clamp(0, cap),
            (None, RetrySchedule::Exponential) => {
                let doublings = u32::try_from(failure.attempts.saturating_sub(1)).unwrap_or(0);
                let full = self
                    .interval_seconds
                    .saturating_mul(2i64.saturating_pow(doublings.min(40)))
                    .clamp(0, cap);
                full / 2 + (full - full / 2) * jitter_permille.clamp(0, 999) / 1000
            }
        };
        AfterFailure::RetryAt(now + Duration::seconds(wait))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + seconds, 0).unwrap_or_default()
    }

    fn failed(attempts: i64) -> Failure {
        Failure {
            attempts,
            timeouts: 0,
            retry_after: None,
        }
    }

    #[test]
    fn the_default_is_every_thirty_minutes_five_attempts() {
        let policy = RetryPolicy::default();
        for attempts in 1..5 {
            assert_eq!(
                policy.after_failure(failed(attempts), at(0), 500),
                AfterFailure::RetryAt(at(1800))
            );
        }
        assert_eq!(
            policy.after_failure(failed(5), at(0), 500),
            AfterFailure::GiveUp
        );
    }

    #[test]
    fn two_timeouts_end_the_delivery() {
        let policy = RetryPolicy::default();
        let once = Failure {
            timeouts: 1,
            ..failed(1)
        };
        assert_eq!(
            policy.after_failure(once, at(0), 0),
            AfterFailure::RetryAt(at(1800))
        );
        let twice = Failure {
            timeouts: 2,
            ..failed(2)
        };
        assert_eq!(policy.after_failure(twice, at(0), 0), AfterFailure::GiveUp);
    }

    #[test]
    fn exponential_waits_double_with_jitter_and_stop_at_a_day() {
        let policy = RetryPolicy {
            schedule: RetrySchedule::Exponential,
            interval_seconds: 60,
            max_attempts: 30,
        };
        // Third failure: 60 * 2^2 = 240 s, of which half is fixed and half is jitter.
        assert_eq!(
            policy.after_failure(failed(3), at(0), 0),
            AfterFailure::RetryAt(at(120))
        );
        assert_eq!(
            policy.after_failure(failed(3), at(0), 500),
            AfterFailure::RetryAt(at(180))
        );
        assert_eq!(
            policy.after_failure(failed(3), at(0), 999),
            AfterFailure::RetryAt(at(239))
        );
        assert_eq!(
            policy.after_failure(failed(25), at(0), 999),
            AfterFailure::RetryAt(at(86_400 / 2 + 86_400 / 2 * 999 / 1000))
        );
    }

    #[test]
    fn retry_after_replaces_the_schedule_up_to_a_day() {
        let policy = RetryPolicy::default();
        let asked = |seconds| Failure {
            retry_after: Some(seconds),
            ..failed(1)
        };
        assert_eq!(
            policy.after_failure(asked(7), at(0), 0),
            AfterFailure::RetryAt(at(7))
        );
        assert_eq!(
            policy.after_failure(asked(10 * 86_400), at(0), 0),
            AfterFailure::RetryAt(at(86_400))
        );
    }

    #[test]
    fn get_and_delete_carry_the_event_in_the_query() {
        assert!(RequestMethod::Get.in_query());
        assert!(RequestMethod::Delete.in_query());
        assert!(!RequestMethod::Post.in_query());
        assert!(!RequestMethod::Put.in_query());
    }
}
