//! The resources as the event log records them and every webhook carries them: accounts,
//! payments, plans and their installments, the event envelopes, and the import document. The
//! `/v1` and `/api` faces answer with the same documents, so one definition serves both the
//! faces and the services that record events; the rest of each face's wire stays in the face.

pub mod accounts;
pub mod events;
pub mod import;
pub mod payments;
pub mod plans;

/// Datetimes on the wire: ISO-8601 in UTC with microseconds, `2026-11-21T06:04:27.123456Z`.
pub fn datetime(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Dates on the wire: `YYYY-MM-DD`.
pub fn date(d: Option<chrono::NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}
