//! Bulk import: a CSV file (one row per sub-account) or an NDJSON stream (one import
//! document per line), of any size.
//!
//! A parser thread reads the file and hands over bounded chunks of validated documents, so
//! memory stays flat whatever the file's size. Each chunk is applied in one transaction: every
//! account in its own savepoint (a bad row is rolled back alone, never half-written), and the
//! job's counters and rejected rows are written in that same transaction, so progress is never
//! ahead of or behind the data. Consecutive CSV rows of one account are applied as one
//! document; a refusal concerns the whole account (its currency, its total), so it rejects each
//! of that account's rows.

use crate::error::ServiceError;
use crate::resources::accounts::AddressBody;
use crate::resources::import::{ImportDocumentRequest, SubAccountImportRequest};
use crate::wire::AmountText;
use crate::wire::parse_json;
use chrono::{DateTime, Utc};
use quittance_domain::ids::{ImportId, OrganizationId};
use quittance_domain::import::{ImportDocument, ImportFormat};
use quittance_domain::{Clock, FieldError};
use quittance_store::repo::imports::{self, ClientCache, ImportError, ImportTally, Rejection};
use quittance_store::{Db, StoreError, Tx};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Input rows per transaction.
const CHUNK_ROWS: usize = 20_000;
/// Most sub-accounts folded into one document from consecutive CSV rows.
const MAX_ROWS_PER_DOCUMENT: usize = 500;

/// The CSV columns, in the order the documentation lists them. `account_number`,
/// `reference` and `original_balance` are required; the others may be left out or blank.
pub const CSV_COLUMNS: &[&str] = &[
    "account_number",
    "status",
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "country",
    "currency",
    "reference",
    "client_number",
    "client_name",
    "original_balance",
    "balance",
    "service_date",
    "placement_date",
    "description",
    "sub_account_status",
];
const REQUIRED_CSV_COLUMNS: &[&str] = &["account_number", "reference", "original_balance"];

/// How far the parser has read, for progress bars.
#[derive(Debug, Default)]
pub struct Progress {
    pub bytes_read: AtomicU64,
}

struct CountingReader<R> {
    inner: R,
    progress: Arc<Progress>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress
            .bytes_read
            .fetch_add(u64::try_from(n).unwrap_or(0), Ordering::Relaxed);
        Ok(n)
    }
}

/// One account's consecutive rows, folded into one document.
#[derive(Clone)]
struct PendingDocument {
    folded: ImportDocument,
    row_numbers: Vec<i64>,
}

#[derive(Default)]
struct Chunk {
    documents: Vec<PendingDocument>,
    rejections: Vec<Rejection>,
    rows_read: i64,
}

/// Runs an import job to its end: reads `path`, applies it for `org`, and marks the job
/// completed (or failed with the reason). Returns the final counters.
pub async fn run(
    db: &Db,
    org: &OrganizationId,
    id: &ImportId,
    path: &Path,
    format: ImportFormat,
    clock: Arc<dyn Clock>,
    progress: Arc<Progress>,
) -> Result<ImportTally, String> {
    let result = apply_file(db, org, id, path, format, clock.as_ref(), progress).await;
    let error = result.as_ref().err().cloned();
    let (job, now) = (id.clone(), clock.now());
    db.write(move |tx| {
        Box::pin(async move { imports::finish_import(tx, &job, error.as_deref(), now).await })
    })
    .await
    .map_err(|e| format!("could not record the end of the import: {e}"))?;
    result
}

async fn apply_file(
    db: &Db,
    org: &OrganizationId,
    id: &ImportId,
    path: &Path,
    format: ImportFormat,
    clock: &dyn Clock,
    progress: Arc<Progress>,
) -> Result<ImportTally, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let reader = CountingReader {
        inner: file,
        progress,
    };
    let (sender, mut chunks) = mpsc::channel::<Result<Chunk, String>>(2);
    let parser = std::thread::Builder::new()
        .name("import-parser".to_owned())
        .spawn(move || {
            let outcome = match format {
                ImportFormat::Csv => parse_csv(reader, &sender),
                ImportFormat::Ndjson => parse_ndjson(reader, &sender),
            };
            if let Err(e) = outcome {
                let _ = sender.blocking_send(Err(e));
            }
        })
        .map_err(|e| format!("cannot start the import parser: {e}"))?;
    let mut total = ImportTally::default();
    let mut clients = ClientCache::default();
    let mut failure = None;
    while let Some(next) = chunks.recv().await {
        let chunk = match next {
            Ok(chunk) => chunk,
            Err(e) => {
                failure = Some(e);
                break;
            }
        };
        let chunk = Arc::new(chunk);
        // A conflict means another writer created the same account or client meanwhile (two
        // imports at once on PostgreSQL): the chunk rolled back whole, and a second pass sees
        // the other writer's rows.
        let mut outcome =
            apply_chunk_once(db, org, id, &chunk, std::mem::take(&mut clients), clock).await;
        if matches!(outcome, Err(StoreError::Conflict(_))) {
            outcome = apply_chunk_once(db, org, id, &chunk, ClientCache::default(), clock).await;
        }
        match outcome {
            Ok((cache, tally)) => {
                clients = cache;
                total.add(&tally);
            }
            Err(e) => {
                failure = Some(format!("the database refused a chunk: {e}"));
                break;
            }
        }
    }
    // Dropping the receiver stops a parser that is still reading.
    drop(chunks);
    let _ = parser.join();
    match failure {
        Some(e) => Err(e),
        None => Ok(total),
    }
}

async fn apply_chunk_once(
    db: &Db,
    org: &OrganizationId,
    id: &ImportId,
    chunk: &Arc<Chunk>,
    clients: ClientCache,
    clock: &dyn Clock,
) -> Result<(ClientCache, ImportTally), StoreError> {
    let (org, job, chunk, now) = (org.clone(), id.clone(), chunk.clone(), clock.now());
    db.write(move |tx| Box::pin(apply_chunk(tx, org, job, chunk, clients, now)))
        .await
}

/// Applies one document. A refusal comes before the document writes anything (the contract
/// of `apply_document`), so no savepoint is needed to undo it; savepoints are costly here
/// (SQLite copies every page they touch, PostgreSQL opens a subtransaction).
async fn apply_or_refuse(
    tx: &mut dyn Tx,
    org: &OrganizationId,
    doc: &ImportDocument,
    now: DateTime<Utc>,
    clients: &mut ClientCache,
) -> Result<Result<imports::DocumentOutcome, FieldError>, StoreError> {
    match imports::apply_document(tx, org, doc, now, clients).await {
        Ok(outcome) => Ok(Ok(outcome)),
        Err(ImportError::Field(refusal)) => Ok(Err(refusal)),
        Err(ImportError::Store(e)) => Err(e),
    }
}

async fn apply_chunk(
    tx: &mut dyn Tx,
    org: OrganizationId,
    job: ImportId,
    chunk: Arc<Chunk>,
    mut clients: ClientCache,
    now: DateTime<Utc>,
) -> Result<(ClientCache, ImportTally), StoreError> {
    let mut tally = ImportTally {
        rows_read: chunk.rows_read,
        ..ImportTally::default()
    };
    let mut rejections = chunk.rejections.clone();
    for pending in &chunk.documents {
        let rows = i64::try_from(pending.row_numbers.len()).unwrap_or(i64::MAX);
        match apply_or_refuse(tx, &org, &pending.folded, now, &mut clients).await? {
            Ok(outcome) => {
                if outcome.changes_an_existing_account() {
                    crate::events::account_changed(tx, &org, &outcome.account_id, now).await?;
                }
                tally.add_document(&outcome, rows);
            }
            // A refusal concerns the whole account, so it applies to each of its rows.
            Err(refusal) => {
                rejections.extend(pending.row_numbers.iter().map(|row_number| Rejection {
                    row_number: *row_number,
                    field: Some(refusal.field.clone()),
                    reason: refusal.message.clone(),
                }))
            }
        }
    }
    rejections.sort_by_key(|r| r.row_number);
    tally.rows_rejected = i64::try_from(rejections.len()).unwrap_or(i64::MAX);
    imports::record_progress(tx, &job, &tally, &rejections, now).await?;
    Ok((clients, tally))
}

/// Adds a validated row to the chunk, folding it into the previous document when it is the
/// same account; sends the chunk when it is full. `false` when the receiver has gone.
fn push_row(
    chunk: &mut Chunk,
    sender: &mpsc::Sender<Result<Chunk, String>>,
    row_number: i64,
    doc: ImportDocument,
) -> bool {
    chunk.rows_read += 1;
    match chunk.documents.last_mut() {
        Some(last)
            if last.row_numbers.len() < MAX_ROWS_PER_DOCUMENT && last.folded.can_absorb(&doc) =>
        {
            last.folded.absorb(doc);
            last.row_numbers.push(row_number);
        }
        _ => chunk.documents.push(PendingDocument {
            folded: doc,
            row_numbers: vec![row_number],
        }),
    }
    flush_if_full(chunk, sender)
}

fn reject_row(
    chunk: &mut Chunk,
    sender: &mpsc::Sender<Result<Chunk, String>>,
    rejection: Rejection,
) -> bool {
    chunk.rows_read += 1;
    chunk.rejections.push(rejection);
    flush_if_full(chunk, sender)
}

fn flush_if_full(chunk: &mut Chunk, sender: &mpsc::Sender<Result<Chunk, String>>) -> bool {
    if usize::try_from(chunk.rows_read).unwrap_or(usize::MAX) < CHUNK_ROWS {
        return true;
    }
    // The last account may still grow with the next rows: it moves to the next chunk, and its
    // rows are counted there.
    let held = chunk.documents.pop();
    let held_rows = held
        .as_ref()
        .map_or(0, |d| i64::try_from(d.row_numbers.len()).unwrap_or(0));
    let mut full = std::mem::take(chunk);
    full.rows_read -= held_rows;
    let sent = sender.blocking_send(Ok(full)).is_ok();
    if let Some(held) = held {
        chunk.rows_read = held_rows;
        chunk.documents.push(held);
    }
    sent
}

/// Sends what is left at the end of the file.
fn finish(chunk: Chunk, sender: &mpsc::Sender<Result<Chunk, String>>) {
    if chunk.rows_read > 0 {
        let _ = sender.blocking_send(Ok(chunk));
    }
}

fn parse_csv<R: Read>(
    reader: R,
    sender: &mpsc::Sender<Result<Chunk, String>>,
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(BufReader::with_capacity(1 << 16, reader));
    let headers: Vec<String> = csv
        .headers()
        .map_err(|e| format!("cannot read the CSV header: {e}"))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    // Named by its position, never its text: a file without a header has data there.
    if let Some(position) = headers
        .iter()
        .position(|h| !CSV_COLUMNS.contains(&h.as_str()))
    {
        return Err(format!(
            "the CSV header's column {} is not a known column (is the first line a header?); the columns are: {}",
            position + 1,
            CSV_COLUMNS.join(", ")
        ));
    }
    if let Some(missing) = REQUIRED_CSV_COLUMNS
        .iter()
        .find(|c| !headers.iter().any(|h| h == *c))
    {
        return Err(format!(
            "the CSV header lacks the required column {missing:?}"
        ));
    }
    let index = |name: &str| headers.iter().position(|h| h == name);
    let columns: Vec<Option<usize>> = CSV_COLUMNS.iter().map(|c| index(c)).collect();
    let mut chunk = Chunk::default();
    let mut record = csv::StringRecord::new();
    loop {
        let row_number = i64::try_from(csv.position().line()).unwrap_or(i64::MAX);
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let cell = |name: &str| -> Option<String> {
                    let at = CSV_COLUMNS
                        .iter()
                        .position(|c| *c == name)
                        .and_then(|i| columns[i])?;
                    record
                        .get(at)
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .map(str::to_owned)
                };
                let keep_going = match csv_document(&cell) {
                    Ok(doc) => push_row(&mut chunk, sender, row_number, doc),
                    Err(e) => reject_row(
                        &mut chunk,
                        sender,
                        Rejection {
                            row_number,
                            field: Some(csv_column(&e.field)),
                            reason: e.message,
                        },
                    ),
                };
                if !keep_going {
                    return Ok(());
                }
            }
            Err(e) => {
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(format!("cannot read the file: {e}"));
                }
                let rejection = Rejection {
                    row_number,
                    field: None,
                    reason: format!("malformed CSV row: {e}"),
                };
                if !reject_row(&mut chunk, sender, rejection) {
                    return Ok(());
                }
            }
        }
    }
    finish(chunk, sender);
    Ok(())
}

/// A CSV row as an import document of one sub-account.
fn csv_document(cell: &dyn Fn(&str) -> Option<String>) -> Result<ImportDocument, FieldError> {
    let address = AddressBody {
        line1: cell("address_line1"),
        line2: cell("address_line2"),
        city: cell("city"),
        state: cell("state"),
        postal_code: cell("postal_code"),
        country: cell("country"),
    };
    let has_address = [
        &address.line1,
        &address.line2,
        &address.city,
        &address.state,
        &address.postal_code,
        &address.country,
    ]
    .iter()
    .any(|f| f.is_some());
    let request = ImportDocumentRequest {
        account_number: cell("account_number").unwrap_or_default(),
        status: cell("status"),
        first_name: cell("first_name"),
        last_name: cell("last_name"),
        date_of_birth: cell("date_of_birth"),
        email: cell("email"),
        phone: cell("phone"),
        address: has_address.then_some(address),
        currency: cell("currency"),
        sub_accounts: vec![SubAccountImportRequest {
            reference: cell("reference").unwrap_or_default(),
            client_number: cell("client_number"),
            client_name: cell("client_name"),
            original_balance: AmountText(cell("original_balance").unwrap_or_default()),
            balance: cell("balance").map(AmountText),
            service_date: cell("service_date"),
            placement_date: cell("placement_date"),
            description: cell("description"),
            status: cell("sub_account_status"),
        }],
    };
    request.validate()
}

/// The CSV column for a document field: `sub_accounts[0].reference` is `reference`,
/// `address.city` is `city`, the sub-account's `status` is `sub_account_status`.
fn csv_column(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("sub_accounts[0].") {
        return if rest == "status" {
            "sub_account_status".to_owned()
        } else {
            rest.to_owned()
        };
    }
    match field.strip_prefix("address.") {
        Some("line1") => "address_line1".to_owned(),
        Some("line2") => "address_line2".to_owned(),
        Some(other) => other.to_owned(),
        None => field.to_owned(),
    }
}

fn parse_ndjson<R: Read>(
    reader: R,
    sender: &mpsc::Sender<Result<Chunk, String>>,
) -> Result<(), String> {
    let mut lines = BufReader::with_capacity(1 << 16, reader);
    let mut chunk = Chunk::default();
    let mut line = Vec::new();
    let mut line_number: i64 = 0;
    loop {
        line.clear();
        let n = lines
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("cannot read the file: {e}"))?;
        if n == 0 {
            break;
        }
        line_number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = parse_json::<ImportDocumentRequest>(&line)
            .map_err(|e: ServiceError| (e.param().map(str::to_owned), e.message().to_owned()))
            .and_then(|request| request.validate().map_err(|f| (Some(f.field), f.message)));
        let keep_going = match parsed {
            Ok(doc) => push_row(&mut chunk, sender, line_number, doc),
            Err((field, reason)) => reject_row(
                &mut chunk,
                sender,
                Rejection {
                    row_number: line_number,
                    field,
                    reason,
                },
            ),
        };
        if !keep_going {
            return Ok(());
        }
    }
    finish(chunk, sender);
    Ok(())
}

/// Where an import's upload is kept until the job ends.
pub fn spool_path(
    data_dir: &std::path::Path,
    id: &quittance_domain::ids::ImportId,
    format: quittance_domain::import::ImportFormat,
) -> std::path::PathBuf {
    data_dir
        .join("imports")
        .join(format!("{id}.{}", format.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_for_document_fields() {
        assert_eq!(
            csv_column("sub_accounts[0].original_balance"),
            "original_balance"
        );
        assert_eq!(csv_column("sub_accounts[0].status"), "sub_account_status");
        assert_eq!(csv_column("address.line1"), "address_line1");
        assert_eq!(csv_column("address.postal_code"), "postal_code");
        assert_eq!(csv_column("email"), "email");
    }

    #[test]
    fn every_document_field_has_a_csv_column() {
        for field in [
            "account_number",
            "status",
            "first_name",
            "last_name",
            "date_of_birth",
            "email",
            "phone",
            "currency",
        ] {
            assert!(CSV_COLUMNS.contains(&csv_column(field).as_str()), "{field}");
        }
        for field in ["line1", "line2", "city", "state", "postal_code", "country"] {
            assert!(
                CSV_COLUMNS.contains(&csv_column(&format!("address.{field}")).as_str()),
                "{field}"
            );
        }
        for field in [
            "reference",
            "original_balance",
            "balance",
            "service_date",
            "placement_date",
            "description",
            "status",
        ] {
            assert!(
                CSV_COLUMNS.contains(&csv_column(&format!("sub_accounts[0].{field}")).as_str()),
                "{field}"
            );
        }
    }
}

#[cfg(test)]
mod fuzz;
