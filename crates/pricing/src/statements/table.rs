//! The helpers every layout parser shares: lines as cells, a label and trailing numbers;
//! section markers; the card-type summary table; fee sections; the merchant number and period.

use rust_decimal::Decimal;

use super::cards::CardClass;
use super::fees::{self, Details, FeeCol};
use super::numbers::{self, Number};
use super::{FeeKind, FeeRow, StatementError, TextLine};

/// One line as cells: text label cells first, then the trailing run of numbers.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub page: u32,
    /// The label cells joined by one space.
    pub label: String,
    /// The label upper-cased, spaces collapsed, without a trailing ':'.
    pub key: String,
    /// The label cells on their own (for layouts that print a date or type before the text).
    pub label_cells: Vec<String>,
    /// The trailing numeric cells, parsed, with their text.
    pub values: Vec<(Number, String)>,
    /// The whole line upper-cased, cells joined by one space.
    pub upper: String,
}

/// A statement's lines as rows.
#[derive(Debug, Clone)]
pub(crate) struct Doc {
    pub rows: Vec<Row>,
}

impl Doc {
    pub fn new(lines: &[TextLine]) -> Doc {
        let rows = lines
            .iter()
            .filter_map(|line| {
                let cells = cells(line);
                (!cells.is_empty()).then(|| row(line.page, cells))
            })
            .collect();
        Doc { rows }
    }

    /// True when any line contains `needle` (upper case).
    pub fn contains(&self, needle: &str) -> bool {
        self.rows.iter().any(|r| r.upper.contains(needle))
    }

    /// The first row at or after `from` whose label is exactly `key` and that has no numbers:
    /// a section title.
    pub fn section(&self, from: usize, key: &str) -> Option<usize> {
        (from..self.rows.len()).find(|&i| self.rows[i].key == key && self.rows[i].values.is_empty())
    }

    /// The amount on the first row at or after `from` labelled exactly `key`.
    pub fn amount(&self, from: usize, key: &str) -> Option<(usize, Decimal)> {
        (from..self.rows.len()).find_map(|i| {
            let row = &self.rows[i];
            (row.key == key)
                .then(|| row.last_cents())
                .flatten()
                .map(|a| (i, a))
        })
    }

    /// The page of row `i` (the last page when past the end).
    pub fn page(&self, i: usize) -> u32 {
        self.rows.get(i).or(self.rows.last()).map_or(1, |r| r.page)
    }

    /// The merchant number: the first run of digits (dashes allowed) after one of `labels`.
    pub fn merchant_id(&self, labels: &[&str]) -> Option<String> {
        self.after_label(labels, |rest| {
            rest.split_whitespace()
                .map(|w| w.trim_matches([':', '#', '.', ',']))
                .find(|w| {
                    w.bytes().filter(u8::is_ascii_digit).count() >= 4
                        && w.bytes().all(|b| b.is_ascii_digit() || b == b'-')
                })
                .map(str::to_owned)
        })
    }

    /// The statement period after one of `labels`, as ISO dates.
    pub fn period(&self, labels: &[&str]) -> Option<(String, String)> {
        self.after_label(labels, |rest| {
            numbers::period(rest).map(|(start, end)| (start.iso(), end.iso()))
        })
    }

    fn after_label<T>(&self, labels: &[&str], read: impl Fn(&str) -> Option<T>) -> Option<T> {
        self.rows.iter().find_map(|row| {
            labels.iter().find_map(|label| {
                let at = row.upper.find(label)?;
                read(&row.upper[at + label.len()..])
            })
        })
    }
}

impl Row {
    /// The last number, when printed to the cent (an amount column).
    pub fn last_cents(&self) -> Option<Decimal> {
        self.values.last().and_then(|(n, _)| n.cents())
    }
}

/// A line's spans as cells: spaces collapsed; a cell of several numbers split into one cell
/// each ("12 $345.67"); a lone "$", "-" or "(" joined to the cell after it and a lone "%" or
/// "CR" to the number before it, so a number is always one cell.
fn cells(line: &TextLine) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for span in &line.spans {
        let text = span.text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            continue;
        }
        let tokens: Vec<&str> = text.split(' ').collect();
        if tokens.len() > 1
            && Number::parse(&text).is_none()
            && tokens.iter().all(|t| Number::parse(t).is_some())
        {
            out.extend(tokens.iter().map(|t| (*t).to_owned()));
        } else {
            out.push(text);
        }
    }
    let mut merged: Vec<String> = Vec::with_capacity(out.len());
    let mut pending_prefix = String::new();
    for cell in out {
        if matches!(cell.as_str(), "$" | "-" | "(" | "-$" | "($") {
            pending_prefix.push_str(&cell);
            continue;
        }
        let cell = std::mem::take(&mut pending_prefix) + &cell;
        let joins_previous = matches!(cell.as_str(), "%" | "CR")
            && merged.last().is_some_and(|p| Number::parse(p).is_some());
        match merged.last_mut() {
            Some(previous) if joins_previous => {
                previous.push(' ');
                previous.push_str(&cell);
            }
            _ => merged.push(cell),
        }
    }
    if !pending_prefix.is_empty() {
        merged.push(pending_prefix);
    }
    merged
}

fn row(page: u32, cells: Vec<String>) -> Row {
    let numeric_tail = cells
        .iter()
        .rev()
        .take_while(|c| Number::parse(c).is_some())
        .count();
    let split = cells.len() - numeric_tail;
    let values = cells[split..]
        .iter()
        .filter_map(|c| Number::parse(c).map(|n| (n, c.clone())))
        .collect();
    let label_cells = cells[..split].to_vec();
    let label = label_cells.join(" ");
    Row {
        page,
        key: key(&label),
        upper: cells.join(" ").to_uppercase(),
        label,
        label_cells,
        values,
    }
}

/// Upper case, trailing ':' dropped: how section titles and total labels are compared.
pub(crate) fn key(label: &str) -> String {
    label.trim_end_matches(':').trim().to_uppercase()
}

/// What a column of a card-type summary table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Col {
    SalesCount,
    SalesAmount,
    RefundCount,
    RefundAmount,
    /// The processor's discount per item, in dollars.
    DiscountPerItem,
    /// The processor's discount rate, printed as a percentage ("1.95").
    DiscountRate,
    /// The discount charged, in dollars.
    Discount,
    /// Printed but not needed (average ticket, net sales).
    Skip,
}

/// How to read one card-type summary table.
pub(crate) struct CardTableSpec<'a> {
    /// The table's title, for messages.
    pub title: &'a str,
    /// Row index the rows start after (the title or header row).
    pub start: usize,
    pub columns: &'a [Col],
    /// The columns of the Total row, which often leaves some out.
    pub total_columns: &'a [Col],
    pub classify: fn(&str) -> Option<CardClass>,
}

/// One card-type row as read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CardRow {
    pub card_type: String,
    pub class: Option<CardClass>,
    pub sales: Figures,
    /// Where the table prints the processor's discount.
    pub discount: Option<Discount>,
}

/// The processor's discount printed on a card-type row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Discount {
    pub per_item: Decimal,
    /// A fraction.
    pub rate: Decimal,
    pub amount: Decimal,
}

/// Sales and refunds of a row or of the Total line; refunds as positive magnitudes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Figures {
    pub sales_count: u64,
    pub sales_amount: Decimal,
    pub refund_count: u64,
    pub refund_amount: Decimal,
}

/// A table's rows, its Total line, and the row index after it.
pub(crate) struct CardTable {
    pub rows: Vec<CardRow>,
    pub total: Figures,
    pub end: usize,
}

/// Reads the values of a row against the columns; `None` unless each value fits its column.
fn read_columns(row: &Row, columns: &[Col]) -> Option<(Figures, Option<Discount>)> {
    if row.values.len() != columns.len() {
        return None;
    }
    let mut figures = Figures::default();
    let (mut per_item, mut rate, mut discount) = (None, None, None);
    for ((number, _), col) in row.values.iter().zip(columns) {
        match col {
            Col::SalesCount => figures.sales_count = number.count()?,
            Col::RefundCount => figures.refund_count = number.count()?,
            Col::SalesAmount => figures.sales_amount = number.money()?,
            Col::RefundAmount => figures.refund_amount = number.money()?.abs(),
            Col::DiscountPerItem => per_item = Some(number.money()?),
            Col::DiscountRate => rate = Some(number.rate(true)?),
            Col::Discount => discount = Some(number.cents()?),
            Col::Skip => {}
        }
    }
    let discount = match (per_item, rate, discount) {
        (Some(per_item), Some(rate), Some(amount)) => Some(Discount {
            per_item,
            rate,
            amount,
        }),
        _ => None,
    };
    Some((figures, discount))
}

/// Reads the rows after `spec.start` until the Total line. Lines that do not have the table's
/// shape (repeated headers, page furniture) are passed over: a row lost that way shows up when
/// the rows are reconciled with the totals.
pub(crate) fn card_table(doc: &Doc, spec: &CardTableSpec) -> Result<CardTable, StatementError> {
    let mut rows = Vec::new();
    for i in spec.start + 1..doc.rows.len() {
        let row = &doc.rows[i];
        if row.label.is_empty() {
            continue;
        }
        if row.key.starts_with("TOTAL")
            && let Some((total, _)) = read_columns(row, spec.total_columns)
        {
            return Ok(CardTable {
                rows,
                total,
                end: i + 1,
            });
        }
        if let Some((sales, discount)) = read_columns(row, spec.columns) {
            rows.push(CardRow {
                card_type: row.label.clone(),
                class: (spec.classify)(&row.label),
                sales,
                discount,
            });
        }
    }
    Err(StatementError::Malformed {
        page: doc.page(spec.start),
        reason: format!("the {} table has no Total line", spec.title),
    })
}

/// Who a section's fees go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kinds {
    All(FeeKind),
    /// By the printed type column where there is one, else by the description's words.
    ByDescription,
}

/// How to read one fee section.
pub(crate) struct FeeSectionSpec<'a> {
    /// Row index of the section title.
    pub start: usize,
    /// The label of the line that closes the section (a total).
    pub end: &'a str,
    /// The columns printed between the description and the amount.
    pub columns: &'a [FeeCol],
    /// The statement prints fees as negative amounts.
    pub negative: bool,
    pub kinds: Kinds,
}

/// Fee rows of a section, the amount on its closing line, and the row index after it.
pub(crate) struct FeeSection {
    pub fees: Vec<FeeRow>,
    pub closing: Decimal,
    pub end: usize,
}

/// Reads fee rows from the section title to the closing line. A fee row has a description and
/// ends in an amount to the cent; other lines with a label starting "TOTAL" are subtotals.
pub(crate) fn fee_section(doc: &Doc, spec: &FeeSectionSpec) -> Result<FeeSection, StatementError> {
    let mut fees = Vec::new();
    for i in spec.start + 1..doc.rows.len() {
        let row = &doc.rows[i];
        let Some(amount) = row.last_cents() else {
            continue;
        };
        let amount = if spec.negative { -amount } else { amount };
        if row.key == spec.end {
            return Ok(FeeSection {
                fees,
                closing: amount,
                end: i + 1,
            });
        }
        if row.key.starts_with("TOTAL") {
            continue;
        }
        if let Some(fee) = fee_row(row, spec, amount) {
            fees.push(fee);
        }
    }
    Err(StatementError::Malformed {
        page: doc.page(spec.start),
        reason: format!("the fee section has no {} line", spec.end),
    })
}

fn fee_row(row: &Row, spec: &FeeSectionSpec, amount: Decimal) -> Option<FeeRow> {
    let before = &row.values[..row.values.len() - 1];
    // Numbers beyond the section's columns belong to the description (a span split apart).
    let spill = before.len().saturating_sub(spec.columns.len());
    let mut printed_type = None;
    let mut words: Vec<&str> = Vec::new();
    for cell in &row.label_cells {
        if is_date(cell) {
            continue;
        }
        // A printed type column ("CF", "Service charges") beside the description.
        if row.label_cells.len() > 1
            && printed_type.is_none()
            && let Some(t) = fees::printed_type(cell)
        {
            printed_type = Some(t);
            continue;
        }
        words.push(cell);
    }
    words.extend(before[..spill].iter().map(|(_, text)| text.as_str()));
    let description = words.join(" ");
    if description.is_empty() {
        return None;
    }
    let numbers: Vec<Number> = before[spill..].iter().map(|(n, _)| *n).collect();
    let details = fees::columns(&numbers, spec.columns, amount, fees::grammar(&description));
    let kind = match spec.kinds {
        Kinds::All(kind) => kind,
        Kinds::ByDescription => fees::kind(&description, printed_type),
    };
    let Details {
        count,
        volume,
        rate,
        per_item,
    } = details;
    Some(FeeRow {
        description,
        count,
        volume,
        rate,
        per_item,
        amount,
        kind,
    })
}

fn is_date(cell: &str) -> bool {
    let parts: Vec<&str> = cell.split('/').collect();
    parts.len() >= 2
        && parts.len() <= 3
        && parts
            .iter()
            .all(|p| (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}
