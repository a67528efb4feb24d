//! The layouts: how each is recognised and where its tables are. The reading itself is the
//! shared table and fee-section code in `table`.

use rust_decimal::Decimal;

use super::cards::{self, Brand, CardClass, Funding};
use super::fees::FeeCol;
use super::table::{
    CardTable, CardTableSpec, Col, Discount, Doc, FeeSection, FeeSectionSpec, Kinds, card_table,
    fee_section, key,
};
use super::{CardTypeRow, ExcludedCardType, FeeKind, FeeRow, Layout, Statement, StatementError};

/// Marker strings: all of `required` must appear; each of `supporting` (phone numbers, PO
/// boxes, other section titles) adds to the score.
struct Fingerprint {
    layout: Layout,
    required: &'static [&'static str],
    supporting: &'static [&'static str],
}

const FINGERPRINTS: &[Fingerprint] = &[
    Fingerprint {
        layout: Layout::FirstData,
        required: &["SUMMARY BY CARD TYPE"],
        supporting: &[
            "FIRST DATA",
            "FISERV",
            "PO BOX 2394",
            "OMAHA",
            "BUSINESSTRACK",
            "1-877-273-8191",
            "FEES CHARGED",
        ],
    },
    Fingerprint {
        layout: Layout::Tsys,
        required: &["PLAN SUMMARY"],
        supporting: &["TSYS", "DISCOUNT DUE", "PLAN CODE"],
    },
    Fingerprint {
        layout: Layout::Worldpay,
        required: &["PROCESSING ACTIVITY SUMMARY"],
        supporting: &[
            "WORLDPAY",
            "VANTIV",
            "SUMMARY OF ALL FEES",
            "PROCESSING MONTH",
        ],
    },
    Fingerprint {
        layout: Layout::Amex,
        required: &["AMERICAN EXPRESS", "SUMMARY OF CHARGES"],
        supporting: &[
            "1-800-528-5200",
            "SERVICE ESTABLISHMENT",
            "DISCOUNT AND FEES",
        ],
    },
];

/// The best-scoring layout whose required markers are all present; `Generic` when none is.
pub(crate) fn detect(doc: &Doc) -> Layout {
    FINGERPRINTS
        .iter()
        .filter(|f| f.required.iter().all(|m| doc.contains(m)))
        .map(|f| {
            let score = f.supporting.iter().filter(|m| doc.contains(m)).count();
            (score, f.layout)
        })
        // Highest score; the earlier fingerprint on a tie.
        .fold(
            None,
            |best: Option<(usize, Layout)>, (score, layout)| match best {
                Some((s, _)) if s >= score => best,
                _ => Some((score, layout)),
            },
        )
        .map_or(Layout::Generic, |(_, layout)| layout)
}

/// Runs the layout's parser. The statement it returns is not yet reconciled.
pub(crate) fn parse(layout: Layout, doc: &Doc) -> Result<Statement, StatementError> {
    match layout {
        Layout::FirstData => first_data(doc),
        Layout::Tsys => tsys(doc),
        Layout::Worldpay => worldpay(doc),
        Layout::Amex => amex(doc),
        Layout::Generic => generic(doc),
    }
}

const MERCHANT_ID_LABELS: &[&str] = &[
    "MERCHANT NUMBER",
    "MERCHANT ID",
    "MERCHANT #",
    "MERCHANT NO",
    "SERVICE ESTABLISHMENT NUMBER",
    "SE NUMBER",
    "MID",
];
const PERIOD_LABELS: &[&str] = &[
    "STATEMENT PERIOD",
    "PROCESSING MONTH",
    "PERIOD COVERED",
    "STATEMENT MONTH",
    "PERIOD",
];

/// Plan-summary style tables (TSYS, Worldpay): sales, credits, net, average ticket, then the
/// processor's discount per item, rate and amount. The Total line leaves out the per-item and
/// rate columns.
const DISCOUNT_TABLE: &[Col] = &[
    Col::SalesCount,
    Col::SalesAmount,
    Col::RefundCount,
    Col::RefundAmount,
    Col::Skip,
    Col::Skip,
    Col::DiscountPerItem,
    Col::DiscountRate,
    Col::Discount,
];
const DISCOUNT_TABLE_TOTAL: &[Col] = &[
    Col::SalesCount,
    Col::SalesAmount,
    Col::RefundCount,
    Col::RefundAmount,
    Col::Skip,
    Col::Skip,
    Col::Discount,
];

/// The card-type table under `title`, the layout's own section: without it, this is not a
/// statement of that layout.
fn summary_table(
    doc: &Doc,
    title: &str,
    columns: &[Col],
    total_columns: &[Col],
    classify: fn(&str) -> Option<CardClass>,
) -> Result<CardTable, StatementError> {
    let start = doc.section(0, title).ok_or(StatementError::UnknownLayout)?;
    let spec = CardTableSpec {
        title,
        start,
        columns,
        total_columns,
        classify,
    };
    card_table(doc, &spec)
}

fn missing(doc: &Doc, after: usize, what: &str) -> StatementError {
    StatementError::Malformed {
        page: doc.page(after),
        reason: format!("the {what} section is missing"),
    }
}

fn section(doc: &Doc, from: usize, title: &str) -> Result<usize, StatementError> {
    doc.section(from, title)
        .ok_or_else(|| missing(doc, from, title))
}

/// Fiserv / First Data ("Omaha"): SUMMARY BY CARD TYPE (average ticket, gross sales items and
/// amount, refund items and amount, amount submitted), then FEES CHARGED rows (date, type CF or
/// MISC, a description with its grammar, a negative amount) closing on
/// "Total (Misc Fees and Card Fees)".
fn first_data(doc: &Doc) -> Result<Statement, StatementError> {
    const COLUMNS: &[Col] = &[
        Col::Skip,
        Col::SalesCount,
        Col::SalesAmount,
        Col::RefundCount,
        Col::RefundAmount,
        Col::Skip,
    ];
    let table = summary_table(
        doc,
        "SUMMARY BY CARD TYPE",
        COLUMNS,
        COLUMNS,
        cards::card_name,
    )?;
    let fees = fee_section(
        doc,
        &FeeSectionSpec {
            start: section(doc, table.end, "FEES CHARGED")?,
            end: "TOTAL (MISC FEES AND CARD FEES)",
            columns: &[],
            negative: true,
            kinds: Kinds::ByDescription,
        },
    )?;
    let total_fees = fees.closing;
    Ok(assemble(
        doc,
        Layout::FirstData,
        "Fiserv (First Data)",
        table,
        fees.fees,
        total_fees,
    ))
}

/// TSYS: PLAN SUMMARY by plan code with the discount due per plan, a FEES section (count,
/// amount, rate %, per item, total) closing on TOTAL FEES, and the statement's TOTAL CHARGES.
fn tsys(doc: &Doc) -> Result<Statement, StatementError> {
    let table = summary_table(
        doc,
        "PLAN SUMMARY",
        DISCOUNT_TABLE,
        DISCOUNT_TABLE_TOTAL,
        cards::plan_code,
    )?;
    let mut fees = discount_rows(&table);
    let section = fee_section(
        doc,
        &FeeSectionSpec {
            start: section(doc, table.end, "FEES")?,
            end: "TOTAL FEES",
            columns: &[
                FeeCol::Count,
                FeeCol::Volume,
                FeeCol::Rate { bare_percent: true },
                FeeCol::PerItem,
            ],
            negative: false,
            kinds: Kinds::ByDescription,
        },
    )?;
    fees.extend(section.fees);
    let (_, total_fees) = doc
        .amount(section.end, "TOTAL CHARGES")
        .ok_or_else(|| missing(doc, section.end, "TOTAL CHARGES"))?;
    Ok(assemble(doc, Layout::Tsys, "TSYS", table, fees, total_fees))
}

/// Worldpay: PROCESSING ACTIVITY SUMMARY by card type with the processing fees (discount) per
/// card type, INTERCHANGE CHARGES (descriptors like "VI-CPS RETAIL CREDIT@1.51%+$0.10" with
/// number and amount), SERVICE CHARGES AND FEES (descriptions with their grammar), and the
/// TOTAL FEES of the SUMMARY OF ALL FEES.
fn worldpay(doc: &Doc) -> Result<Statement, StatementError> {
    let table = summary_table(
        doc,
        "PROCESSING ACTIVITY SUMMARY",
        DISCOUNT_TABLE,
        DISCOUNT_TABLE_TOTAL,
        cards::card_name,
    )?;
    let mut fees = discount_rows(&table);
    let interchange = fee_section(
        doc,
        &FeeSectionSpec {
            start: section(doc, table.end, "INTERCHANGE CHARGES")?,
            end: "TOTAL INTERCHANGE CHARGES",
            columns: &[FeeCol::Count, FeeCol::Volume],
            negative: false,
            kinds: Kinds::All(FeeKind::PassThrough),
        },
    )?;
    let other = fee_section(
        doc,
        &FeeSectionSpec {
            start: section(doc, interchange.end, "SERVICE CHARGES AND FEES")?,
            end: "TOTAL SERVICE CHARGES AND FEES",
            columns: &[],
            negative: false,
            kinds: Kinds::ByDescription,
        },
    )?;
    fees.extend(interchange.fees);
    fees.extend(other.fees);
    let summary = section(doc, other.end, "SUMMARY OF ALL FEES")?;
    let (_, total_fees) = doc
        .amount(summary, "TOTAL FEES")
        .ok_or_else(|| missing(doc, summary, "TOTAL FEES"))?;
    Ok(assemble(
        doc,
        Layout::Worldpay,
        "Worldpay",
        table,
        fees,
        total_fees,
    ))
}

/// An American Express merchant statement: SUMMARY OF CHARGES by card product (all Amex
/// activity), then DISCOUNT AND FEES closing on TOTAL DISCOUNT AND FEES. Every fee is Amex's
/// own, so pass-through.
fn amex(doc: &Doc) -> Result<Statement, StatementError> {
    const COLUMNS: &[Col] = &[
        Col::SalesCount,
        Col::SalesAmount,
        Col::RefundCount,
        Col::RefundAmount,
        Col::Skip,
    ];
    let table = summary_table(
        doc,
        "SUMMARY OF CHARGES",
        COLUMNS,
        COLUMNS,
        cards::amex_product,
    )?;
    let fees = fee_section(
        doc,
        &FeeSectionSpec {
            start: section(doc, table.end, "DISCOUNT AND FEES")?,
            end: "TOTAL DISCOUNT AND FEES",
            columns: &[],
            negative: false,
            kinds: Kinds::All(FeeKind::PassThrough),
        },
    )?;
    let total_fees = fees.closing;
    Ok(assemble(
        doc,
        Layout::Amex,
        "American Express",
        table,
        fees.fees,
        total_fees,
    ))
}

/// Any other processor: the card-type table is found by its header row ("Card Type" or "Type"
/// and at least a sales count and a sales amount column), the fee table by a header row
/// starting "Description" after it, and the total fees on the "Total ... Fees" line that closes
/// it.
fn generic(doc: &Doc) -> Result<Statement, StatementError> {
    let (start, columns) = doc
        .rows
        .iter()
        .enumerate()
        .find_map(|(i, row)| card_header(&row.label_cells).map(|cols| (i, cols)))
        .ok_or(StatementError::UnknownLayout)?;
    let table = card_table(
        doc,
        &CardTableSpec {
            title: "card type",
            start,
            columns: &columns,
            total_columns: &columns,
            classify: cards::card_name,
        },
    )?;
    let (fee_start, fee_columns) = (table.end..doc.rows.len())
        .find_map(|i| fee_header(&doc.rows[i].label_cells).map(|cols| (i, cols)))
        .ok_or_else(|| missing(doc, table.end, "fee"))?;
    let end = (fee_start..doc.rows.len())
        .map(|i| &doc.rows[i])
        .find(|r| r.key.starts_with("TOTAL") && r.key.contains("FEE") && r.last_cents().is_some())
        .map(|r| r.key.clone())
        .ok_or_else(|| missing(doc, fee_start, "total fees"))?;
    let FeeSection { fees, closing, .. } = fee_section(
        doc,
        &FeeSectionSpec {
            start: fee_start,
            end: &end,
            columns: &fee_columns,
            negative: false,
            kinds: Kinds::ByDescription,
        },
    )?;
    Ok(assemble(
        doc,
        Layout::Generic,
        "Unrecognized processor",
        table,
        fees,
        closing,
    ))
}

fn has_any(text: &str, words: &[&str]) -> bool {
    words.iter().any(|w| text.contains(w))
}

const COUNT_WORDS: &[&str] = &["QTY", "COUNT", "ITEMS", "NUMBER", "#", "TRANS", "NO."];

/// A card-type table header: "Card Type" (or "Type", "Card Brand") then one cell per column.
fn card_header(cells: &[String]) -> Option<Vec<Col>> {
    let (first, rest) = cells.split_first()?;
    if !matches!(
        key(first).as_str(),
        "CARD TYPE" | "TYPE" | "CARD BRAND" | "CARD"
    ) {
        return None;
    }
    let columns: Vec<Col> = rest
        .iter()
        .map(|cell| {
            let h = key(cell);
            if has_any(&h, &["NET", "AVG", "AVERAGE", "DISC", "FEE"]) {
                Col::Skip
            } else if has_any(&h, &["REFUND", "CREDIT", "RETURN"]) {
                if has_any(&h, COUNT_WORDS) {
                    Col::RefundCount
                } else {
                    Col::RefundAmount
                }
            } else if has_any(&h, &["SALE", "GROSS", "VOLUME"]) {
                if has_any(&h, COUNT_WORDS) {
                    Col::SalesCount
                } else {
                    Col::SalesAmount
                }
            } else {
                Col::Skip
            }
        })
        .collect();
    let once = |c: Col| columns.iter().filter(|x| **x == c).count() == 1;
    let at_most_once = |c: Col| columns.iter().filter(|x| **x == c).count() <= 1;
    (once(Col::SalesCount)
        && once(Col::SalesAmount)
        && at_most_once(Col::RefundCount)
        && at_most_once(Col::RefundAmount))
    .then_some(columns)
}

/// A fee table header: "Description", the detail columns, and the amount column last.
fn fee_header(cells: &[String]) -> Option<Vec<FeeCol>> {
    let (first, rest) = cells.split_first()?;
    let (_, middle) = rest.split_last()?;
    if !matches!(
        key(first).as_str(),
        "DESCRIPTION" | "FEE DESCRIPTION" | "FEE"
    ) {
        return None;
    }
    middle
        .iter()
        .map(|cell| {
            let h = key(cell);
            if has_any(&h, &["PER ITEM", "P/I", "PER TRANS", "EACH"]) {
                Some(FeeCol::PerItem)
            } else if has_any(&h, &["RATE", "%"]) {
                Some(FeeCol::Rate {
                    bare_percent: h.contains('%'),
                })
            } else if has_any(&h, COUNT_WORDS) {
                Some(FeeCol::Count)
            } else if has_any(&h, &["VOLUME", "SALES", "AMOUNT"]) {
                Some(FeeCol::Volume)
            } else {
                None
            }
        })
        .collect()
}

/// The processor's discount on each card-type row that prints one, as a fee row.
fn discount_rows(table: &CardTable) -> Vec<FeeRow> {
    table
        .rows
        .iter()
        .filter_map(|row| {
            let Discount {
                per_item,
                rate,
                amount,
            } = row.discount?;
            Some(FeeRow {
                description: format!("{} DISCOUNT", row.card_type),
                count: Some(row.sales.sales_count),
                volume: Some(row.sales.sales_amount),
                rate: Some(rate),
                per_item: Some(per_item.normalize()),
                amount,
                kind: FeeKind::Markup,
            })
        })
        .collect()
}

/// The statement from a layout's parts: header fields, card types mapped to activity types
/// (an open funding is credit when the statement has a debit row of the same brand).
fn assemble(
    doc: &Doc,
    layout: Layout,
    processor: &str,
    table: CardTable,
    fees: Vec<FeeRow>,
    total_fees: Decimal,
) -> Statement {
    let debit_brands: Vec<Brand> = table
        .rows
        .iter()
        .filter_map(|r| {
            r.class
                .filter(|c| c.funding == Funding::Debit)
                .map(|c| c.brand)
        })
        .collect();
    let has_debit = |brand: Brand| debit_brands.contains(&brand);
    let mut card_types = Vec::new();
    let mut excluded_card_types = Vec::new();
    for row in table.rows {
        let activity_type = row
            .class
            .and_then(|c| cards::activity_type(c, has_debit(c.brand)));
        match activity_type {
            Some(activity_type) => card_types.push(CardTypeRow {
                card_type: row.card_type,
                activity_type,
                sales_count: row.sales.sales_count,
                sales_amount: row.sales.sales_amount,
                refund_count: row.sales.refund_count,
                refund_amount: row.sales.refund_amount,
            }),
            None => excluded_card_types.push(ExcludedCardType {
                reason: match row.class {
                    Some(_) => "EBT is not card activity a proposal prices".to_owned(),
                    None => "not a card type we recognize".to_owned(),
                },
                card_type: row.card_type,
                sales_count: row.sales.sales_count,
                sales_amount: row.sales.sales_amount,
                refund_count: row.sales.refund_count,
                refund_amount: row.sales.refund_amount,
            }),
        }
    }
    let period = doc.period(PERIOD_LABELS);
    Statement {
        layout,
        processor: processor.to_owned(),
        merchant_id: doc.merchant_id(MERCHANT_ID_LABELS),
        period_start: period.as_ref().map(|p| p.0.clone()),
        period_end: period.map(|p| p.1),
        card_types,
        excluded_card_types,
        fees,
        total_sales_count: table.total.sales_count,
        total_sales_amount: table.total.sales_amount,
        total_refund_count: table.total.refund_count,
        total_refund_amount: table.total.refund_amount,
        total_fees,
    }
}
