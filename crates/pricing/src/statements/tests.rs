//! Each layout on small hand-written statements, the errors, the summary, the wire form, and
//! a property test over arbitrary and mangled text.

#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::leaf::ActivityType as T;

pub(super) fn d(text: &str) -> Decimal {
    Decimal::from_str_exact(text).unwrap()
}

/// Text lines from a compact form: one line per text line, spans separated by " | ", "---"
/// starts a new page.
fn lines(text: &str) -> Vec<TextLine> {
    let mut page = 1;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        if line == "---" {
            page += 1;
            continue;
        }
        out.push(TextLine {
            page,
            y: 12.0 * i as f32,
            spans: line
                .split(" | ")
                .enumerate()
                .map(|(j, t)| TextSpan {
                    x: 36.0 + 90.0 * j as f32,
                    text: t.to_owned(),
                })
                .collect(),
        });
    }
    out
}

fn read(text: &str) -> Result<Statement, StatementError> {
    read_statement(&lines(text))
}

fn card(
    card_type: &str,
    ty: T,
    count: u64,
    amount: &str,
    refunds: u64,
    refunded: &str,
) -> CardTypeRow {
    CardTypeRow {
        card_type: card_type.to_owned(),
        activity_type: ty,
        sales_count: count,
        sales_amount: d(amount),
        refund_count: refunds,
        refund_amount: d(refunded),
    }
}

struct Fee<'a> {
    description: &'a str,
    count: Option<u64>,
    volume: Option<&'a str>,
    rate: Option<&'a str>,
    per_item: Option<&'a str>,
    amount: &'a str,
    kind: FeeKind,
}

impl Fee<'_> {
    fn row(&self) -> FeeRow {
        FeeRow {
            description: self.description.to_owned(),
            count: self.count,
            volume: self.volume.map(d),
            rate: self.rate.map(d),
            per_item: self.per_item.map(d),
            amount: d(self.amount),
            kind: self.kind,
        }
    }
}

fn fee<'a>(description: &'a str, amount: &'a str, kind: FeeKind) -> Fee<'a> {
    Fee {
        description,
        count: None,
        volume: None,
        rate: None,
        per_item: None,
        amount,
        kind,
    }
}

const FIRST_DATA: &str = "
    FIRST DATA MERCHANT SERVICES
    PO Box 2394, Omaha, NE 68103-2394
    SAMPLE CAFE LLC | Merchant Number: 991234567890
    12 SAMPLE ST | Statement Period: 03/01/26 - 03/31/26
    SUMMARY BY CARD TYPE
    Average | Total Gross Sales You Submitted | Refunds | Total Amount
    Card Type | Ticket | Items | Amount | Items | Amount | You Submitted
    VISA | $50.00 | 10 | $500.00 | 1 | -$20.00 | $480.00
    VISA DEBIT | $25.00 | 4 | $100.00 | 0 | $0.00 | $100.00
    ---
    FIRST DATA MERCHANT SERVICES | Merchant Number: 991234567890
    Card Type | Ticket | Items | Amount | Items | Amount | You Submitted
    MASTERCARD | $40.00 | 5 | $200.00 | 0 | $0.00 | $200.00
    EBT | $10.00 | 2 | $20.00 | 0 | $0.00 | $20.00
    Total | $39.05 | 21 | $820.00 | 1 | -$20.00 | $800.00
    Page 2 of 3
    FEES CHARGED
    Date | Type | Description | Amount
    VISA
    03/31/26 | CF | VISA ASSESSMENT 0.0014 TIMES $600.00 | -$0.84
    03/31/26 | CF | VISA APF 14 TRANSACTIONS AT 0.0195 | -$0.27
    Total Card Fees | -$1.11
    ---
    FIRST DATA MERCHANT SERVICES | Merchant Number: 991234567890
    03/31/26 | MISC | AUTHORIZATION FEE 21 TRANSACTIONS AT 0.10 | -$2.10
    03/31/26 | MISC | MONTHLY SERVICE FEE | -$9.95
    Total (Misc Fees and Card Fees) | -$13.16
";

#[test]
fn first_data_reads_across_pages() {
    let s = read(FIRST_DATA).unwrap();
    assert_eq!(s.layout, Layout::FirstData);
    assert_eq!(s.processor, "Fiserv (First Data)");
    assert_eq!(s.merchant_id.as_deref(), Some("991234567890"));
    assert_eq!(s.period_start.as_deref(), Some("2026-03-01"));
    assert_eq!(s.period_end.as_deref(), Some("2026-03-31"));
    assert_eq!(
        s.card_types,
        [
            card("VISA", T::VsCredit, 10, "500.00", 1, "20.00"),
            card("VISA DEBIT", T::VsCheck, 4, "100.00", 0, "0"),
            card("MASTERCARD", T::Mc, 5, "200.00", 0, "0"),
        ]
    );
    assert_eq!(s.excluded_card_types.len(), 1);
    assert_eq!(s.excluded_card_types[0].card_type, "EBT");
    assert_eq!(s.excluded_card_types[0].sales_amount, d("20.00"));
    let expected = [
        Fee {
            volume: Some("600.00"),
            rate: Some("0.0014"),
            ..fee(
                "VISA ASSESSMENT 0.0014 TIMES $600.00",
                "0.84",
                FeeKind::PassThrough,
            )
        },
        Fee {
            count: Some(14),
            per_item: Some("0.0195"),
            ..fee(
                "VISA APF 14 TRANSACTIONS AT 0.0195",
                "0.27",
                FeeKind::PassThrough,
            )
        },
        Fee {
            count: Some(21),
            per_item: Some("0.10"),
            ..fee(
                "AUTHORIZATION FEE 21 TRANSACTIONS AT 0.10",
                "2.10",
                FeeKind::Markup,
            )
        },
        fee("MONTHLY SERVICE FEE", "9.95", FeeKind::Markup),
    ];
    assert_eq!(s.fees, expected.iter().map(Fee::row).collect::<Vec<_>>());
    assert_eq!(
        (
            s.total_sales_count,
            s.total_sales_amount,
            s.total_refund_count,
            s.total_refund_amount,
            s.total_fees
        ),
        (21, d("820.00"), 1, d("20.00"), d("13.16"))
    );
}

const TSYS: &str = "
    TSYS MERCHANT SOLUTIONS
    MERCHANT NUMBER: 9911112222333344
    STATEMENT PERIOD 02/01/2024 TO 02/29/2024
    PLAN SUMMARY
    PLAN | NUMBER | AMOUNT | NUMBER | AMOUNT | NET | AVERAGE | DISC | DISC | DISCOUNT
    VS | 10 | 1,000.00 | 1 | 50.00- | 950.00 | 100.00 | .10 | 1.95 | 20.50
    DB | 5 | 200.00 | 0 | 0.00 | 200.00 | 40.00 | .20 | 0.00 | 1.00
    ZZ | 1 | 5.00 | 0 | 0.00 | 5.00 | 5.00 | .00 | 0.00 | 0.00
    TOTAL | 16 | 1,205.00 | 1 | 50.00- | 1,155.00 | 75.31 | 21.50
    FEES
    DESCRIPTION | COUNT | AMOUNT | RATE % | PER ITEM | TOTAL
    VISA ASSESSMENT | 1,000.00 | 0.14 | 1.40
    VISA APF | 10 | .0195 | 0.20
    INTERCHANGE VI CPS RETAIL | 10 | 1,000.00 | 1.51 | .10 | 16.10
    MONTHLY FEE | 10.00
    TOTAL FEES | 27.70
    CHARGES SUMMARY
    DISCOUNT DUE | 21.50
    FEES | 27.70
    TOTAL CHARGES | 49.20
";

#[test]
fn tsys_reads_plan_codes_discounts_and_blank_columns() {
    let s = read(TSYS).unwrap();
    assert_eq!(s.layout, Layout::Tsys);
    assert_eq!(s.merchant_id.as_deref(), Some("9911112222333344"));
    assert_eq!(s.period_end.as_deref(), Some("2024-02-29"));
    assert_eq!(
        s.card_types,
        [
            card("VS", T::VsCredit, 10, "1000.00", 1, "50.00"),
            card("DB", T::PinDebit, 5, "200.00", 0, "0"),
        ]
    );
    assert_eq!(s.excluded_card_types[0].card_type, "ZZ");
    assert_eq!(
        s.excluded_card_types[0].reason,
        "not a card type we recognize"
    );
    let expected = [
        Fee {
            count: Some(10),
            volume: Some("1000.00"),
            rate: Some("0.0195"),
            per_item: Some("0.10"),
            ..fee("VS DISCOUNT", "20.50", FeeKind::Markup)
        },
        Fee {
            count: Some(5),
            volume: Some("200.00"),
            rate: Some("0"),
            per_item: Some("0.20"),
            ..fee("DB DISCOUNT", "1.00", FeeKind::Markup)
        },
        Fee {
            count: Some(1),
            volume: Some("5.00"),
            rate: Some("0"),
            per_item: Some("0"),
            ..fee("ZZ DISCOUNT", "0.00", FeeKind::Markup)
        },
        Fee {
            volume: Some("1000.00"),
            rate: Some("0.0014"),
            ..fee("VISA ASSESSMENT", "1.40", FeeKind::PassThrough)
        },
        Fee {
            count: Some(10),
            per_item: Some("0.0195"),
            ..fee("VISA APF", "0.20", FeeKind::PassThrough)
        },
        Fee {
            count: Some(10),
            volume: Some("1000.00"),
            rate: Some("0.0151"),
            per_item: Some("0.10"),
            ..fee("INTERCHANGE VI CPS RETAIL", "16.10", FeeKind::PassThrough)
        },
        fee("MONTHLY FEE", "10.00", FeeKind::Markup),
    ];
    assert_eq!(s.fees, expected.iter().map(Fee::row).collect::<Vec<_>>());
    assert_eq!(s.total_fees, d("49.20"));
}

const WORLDPAY: &str = "
    Worldpay
    PROCESSING MONTH: JAN 2026
    SAMPLE BOOKS | MERCHANT NUMBER: 9944444444444
    PROCESSING ACTIVITY SUMMARY
    VISA | 10 | $1,000.00 | 1 | ($50.00) | $950.00 | $100.00 | $0.10 | 0.25% | $3.50
    VISADEBITCAP | 20 | $400.00 | 0 | $0.00 | $400.00 | $20.00 | $0.10 | 0.25% | $3.00
    AMEXOPTBLUE | 2 | $300.00 | 0 | $0.00 | $300.00 | $150.00 | $0.10 | 0.25% | $0.95
    TOTAL | 32 | $1,700.00 | 1 | ($50.00) | $1,650.00 | $53.13 | $7.45
    INTERCHANGE CHARGES
    Description | Number | Amount | Total
    VI-CPS RETAIL CREDIT@1.51%+$0.10 | 10 | $1,000.00 | $16.10
    VI-REGULATED DEBIT@0.05%+$0.22 | 20 | $400.00 | $4.60
    TOTAL INTERCHANGE CHARGES | $20.70
    SERVICE CHARGES AND FEES
    VISA ASSESSMENT $1,400.00 AT 0.14% | $1.96
    AUTHORIZATION FEE 33 TRANSACTIONS AT $0.10 | $3.30
    TOTAL SERVICE CHARGES AND FEES | $5.26
    SUMMARY OF ALL FEES
    PROCESSING FEES | $7.45
    INTERCHANGE CHARGES | $20.70
    TOTAL FEES | $33.41
";

#[test]
fn worldpay_reads_descriptors_and_the_summary_total() {
    let s = read(WORLDPAY).unwrap();
    assert_eq!(s.layout, Layout::Worldpay);
    assert_eq!(s.period_start.as_deref(), Some("2026-01-01"));
    assert_eq!(s.period_end.as_deref(), Some("2026-01-31"));
    assert_eq!(
        s.card_types
            .iter()
            .map(|r| r.activity_type)
            .collect::<Vec<_>>(),
        [T::VsCredit, T::VsCheck, T::Amex]
    );
    let interchange = &s.fees[3];
    assert_eq!(
        *interchange,
        Fee {
            count: Some(10),
            volume: Some("1000.00"),
            rate: Some("0.0151"),
            per_item: Some("0.10"),
            ..fee(
                "VI-CPS RETAIL CREDIT@1.51%+$0.10",
                "16.10",
                FeeKind::PassThrough
            )
        }
        .row()
    );
    assert_eq!(
        s.fees[5],
        Fee {
            volume: Some("1400.00"),
            rate: Some("0.0014"),
            ..fee(
                "VISA ASSESSMENT $1,400.00 AT 0.14%",
                "1.96",
                FeeKind::PassThrough
            )
        }
        .row()
    );
    assert_eq!(s.fees[6].kind, FeeKind::Markup);
    assert_eq!(s.fees.len(), 7);
    assert_eq!(s.total_fees, d("33.41"));
}

const AMEX: &str = "
    American Express
    Merchant Services 1-800-528-5200
    SAMPLE BISTRO | Service Establishment Number: 9912345678
    Period Covered: February 1, 2025 - February 28, 2025
    SUMMARY OF CHARGES
    Card Product | Charges | Charge Amount | Credits | Credit Amount | Net Amount
    CONSUMER | 30 | $1,500.00 | 1 | -$40.00 | $1,460.00
    CORPORATE | 5 | $500.00 | 0 | $0.00 | $500.00
    Total | 35 | $2,000.00 | 1 | -$40.00 | $1,960.00
    DISCOUNT AND FEES
    Description | Amount
    CONSUMER DISCOUNT $1,500.00 AT 2.65% | $39.75
    CORPORATE DISCOUNT $500.00 AT 3.10% | $15.50
    TOTAL DISCOUNT AND FEES | $55.25
";

#[test]
fn amex_statements_are_all_amex_and_pass_through() {
    let s = read(AMEX).unwrap();
    assert_eq!(s.layout, Layout::Amex);
    assert_eq!(s.processor, "American Express");
    assert_eq!(s.merchant_id.as_deref(), Some("9912345678"));
    assert_eq!(s.period_end.as_deref(), Some("2025-02-28"));
    assert!(s.card_types.iter().all(|r| r.activity_type == T::Amex));
    assert!(s.fees.iter().all(|f| f.kind == FeeKind::PassThrough));
    assert_eq!(s.fees[1].rate, Some(d("0.031")));
    assert_eq!(s.total_fees, d("55.25"));
}

const GENERIC: &str = "
    LANTERN BAY PAYMENTS
    SAMPLE HARDWARE | Merchant ID: 991234567890123
    Statement Period: 07/01/2025 - 07/31/2025
    Card Type | Sales | Sales Qty | Credits | Credit Qty | Net Amount | Total Qty
    Visa | 900.00 | 9 | (10.00) | 1 | 890.00 | 10
    Discover | 100.00 | 1 | 0.00 | 0 | 100.00 | 1
    PIN Debit | 50.00 | 2 | 0.00 | 0 | 50.00 | 2
    Total | 1,050.00 | 12 | (10.00) | 1 | 1,040.00 | 13
    Description | Qty | Volume | Rate | Per Item | Amount
    VISA DISCOUNT | 900.00 | 0.25% | 2.25
    BATCH FEE | 22 | 0.25 | 5.50
    INTERCHANGE VI CPS RETAIL CREDIT | 9 | 900.00 | 1.51% | 0.10 | 14.49
    MONTHLY SERVICE FEE | 9.95
    Total Fees | 32.19
";

#[test]
fn generic_finds_the_tables_by_their_headers() {
    let s = read(GENERIC).unwrap();
    assert_eq!(s.layout, Layout::Generic);
    assert_eq!(s.merchant_id.as_deref(), Some("991234567890123"));
    assert_eq!(
        s.card_types,
        [
            card("Visa", T::Vs, 9, "900.00", 1, "10.00"),
            card("Discover", T::Ds, 1, "100.00", 0, "0"),
            card("PIN Debit", T::PinDebit, 2, "50.00", 0, "0"),
        ]
    );
    assert_eq!(
        s.fees[1],
        Fee {
            count: Some(22),
            per_item: Some("0.25"),
            ..fee("BATCH FEE", "5.50", FeeKind::Markup)
        }
        .row()
    );
    assert_eq!(s.fees[2].rate, Some(d("0.0151")));
    assert_eq!(s.fees[2].kind, FeeKind::PassThrough);
    assert_eq!(s.total_fees, d("32.19"));
}

#[test]
fn a_fingerprint_outranks_a_bare_table() {
    // A First Data statement also has a "Card Type" header the generic reader would take.
    assert_eq!(read(FIRST_DATA).unwrap().layout, Layout::FirstData);
    // Both processing layouts' titles: the supporting markers decide.
    let both = format!("{TSYS}\nSUMMARY BY CARD TYPE");
    assert_eq!(
        layouts::detect(&table::Doc::new(&lines(&both))),
        Layout::Tsys
    );
}

#[test]
fn spans_split_or_joined_oddly_still_read() {
    // "$" printed apart from its number, a refund in two spans, two numbers in one span.
    let text = FIRST_DATA
        .replace(
            "VISA | $50.00 | 10 | $500.00 | 1 | -$20.00",
            "VISA | $ | 50.00 | 10 $500.00 | 1 | - | $20.00",
        )
        .replace("| $0.00 | $100.00", "| $0.00 | 100.00 CR");
    assert_eq!(read(&text).unwrap(), read(FIRST_DATA).unwrap());
}

#[test]
fn rows_that_do_not_add_up_are_refused_with_both_figures() {
    let err = read(&FIRST_DATA.replace("| -$0.84", "| -$0.85")).unwrap_err();
    assert_eq!(
        err,
        StatementError::DoesNotReconcile {
            what: Reconciled::Fees,
            computed: d("13.17"),
            printed: d("13.16")
        }
    );
    assert_eq!(
        err.to_string(),
        "fee rows add up to 13.17 but the statement's printed total fees are 13.16"
    );
    let err = read(&FIRST_DATA.replace("| 4 | $100.00 |", "| 4 | $100.01 |")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "card-type sales add up to 820.01 but the statement's printed total sales are 820.00"
    );
    let err = read(&FIRST_DATA.replace("| 5 | $200.00 |", "| 6 | $200.00 |")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "card-type sales counts add up to 22 but the statement's printed total sales count is 21"
    );
    // A row lost to a garbled line shows up as a difference too.
    let err = read(&FIRST_DATA.replace("| 4 | $100.00 |", "| four | $100.00 |")).unwrap_err();
    assert!(matches!(
        err,
        StatementError::DoesNotReconcile {
            what: Reconciled::SalesCount,
            ..
        }
    ));
}

#[test]
fn other_refusals_read_as_sentences() {
    assert_eq!(read("hello\nworld"), Err(StatementError::UnknownLayout));
    assert_eq!(read(""), Err(StatementError::UnknownLayout));
    assert_eq!(
        StatementError::UnknownLayout.to_string(),
        "no card-type summary table found: this does not look like a card-processing statement we can read"
    );
    let no_total = FIRST_DATA.replace("Total | $39.05", "Sum | $39.05");
    assert_eq!(
        read(&no_total),
        Err(StatementError::Malformed {
            page: 1,
            reason: "the SUMMARY BY CARD TYPE table has no Total line".into()
        })
    );
    assert_eq!(
        read(&no_total).unwrap_err().to_string(),
        "page 1 of the statement could not be read: the SUMMARY BY CARD TYPE table has no Total line"
    );
    let no_fees = FIRST_DATA.replace("FEES CHARGED", "CHARGES");
    assert_eq!(
        read(&no_fees).unwrap_err().to_string(),
        "page 2 of the statement could not be read: the FEES CHARGED section is missing"
    );
    let only_ebt = "
        SUMMARY BY CARD TYPE
        EBT | $10.00 | 2 | $20.00 | 0 | $0.00 | $20.00
        Total | $10.00 | 2 | $20.00 | 0 | $0.00 | $20.00
        FEES CHARGED
        03/31/26 | MISC | MONTHLY SERVICE FEE | -$9.95
        Total (Misc Fees and Card Fees) | -$9.95
    ";
    assert_eq!(read(only_ebt), Err(StatementError::NoActivity));
}

#[test]
fn the_wire_form_is_camel_case_with_amounts_as_strings() {
    let s = read(TSYS).unwrap();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["layout"], "tsys");
    assert_eq!(json["merchantId"], "9911112222333344");
    assert_eq!(json["cardTypes"][0]["activityType"], "vs_credit");
    assert_eq!(json["cardTypes"][0]["salesAmount"], "1000.00");
    assert_eq!(json["cardTypes"][0]["refundAmount"], "50.00");
    assert_eq!(json["fees"][0]["rate"], "0.0195");
    assert_eq!(json["fees"][0]["perItem"], "0.1");
    assert_eq!(json["fees"][3]["count"], serde_json::Value::Null);
    assert_eq!(json["fees"][0]["kind"], "markup");
    assert_eq!(json["totalFees"], "49.20");
    let back: Statement = serde_json::from_value(json).unwrap();
    assert_eq!(back, s);
    let bad = serde_json::json!({"cardType": "X", "activityType": "visa", "salesCount": 1,
        "salesAmount": "1", "refundCount": 0, "refundAmount": "0"});
    let err = serde_json::from_value::<CardTypeRow>(bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown activity type; expected"), "{err}");
    assert!(
        !err.contains("\"visa\""),
        "no value from the file is echoed: {err}"
    );
}

#[test]
fn the_summary_adds_statements_up() {
    let processing = read(FIRST_DATA).unwrap();
    let amex = read(AMEX).unwrap();
    let summary = StatementSummary::of(&[processing, amex]);
    assert_eq!(
        summary.activity_lines,
        [
            (T::VsCredit, d("500.00"), 10),
            (T::VsCheck, d("100.00"), 4),
            (T::Mc, d("200.00"), 5),
            (T::Amex, d("2000.00"), 35),
        ]
    );
    assert_eq!(summary.sales_volume, d("2800.00"));
    assert_eq!(summary.current_fees, d("68.41"));
    // 68.41 / 2800 = 0.024432142… → 0.02443.
    assert_eq!(summary.effective_rate, Some(d("0.02443")));
    // Lines ready for pricing.
    let activity =
        crate::Activity::from_lines(&summary.activity_lines, &crate::Mix::seed_default()).unwrap();
    assert_eq!(activity.total_volume(), d("2800.00"));
    let empty = StatementSummary::of(&[]);
    assert!(empty.activity_lines.is_empty());
    assert_eq!(empty.effective_rate, None);
}

/// The rows add up to the printed totals.
fn reconciles(s: &Statement) -> bool {
    let sales: Decimal = s.card_types.iter().map(|r| r.sales_amount).sum::<Decimal>()
        + s.excluded_card_types
            .iter()
            .map(|r| r.sales_amount)
            .sum::<Decimal>();
    let count: u64 = s.card_types.iter().map(|r| r.sales_count).sum::<u64>()
        + s.excluded_card_types
            .iter()
            .map(|r| r.sales_count)
            .sum::<u64>();
    let refunds: Decimal = s
        .card_types
        .iter()
        .map(|r| r.refund_amount)
        .sum::<Decimal>()
        + s.excluded_card_types
            .iter()
            .map(|r| r.refund_amount)
            .sum::<Decimal>();
    let fees: Decimal = s.fees.iter().map(|f| f.amount).sum();
    sales == s.total_sales_amount
        && count == s.total_sales_count
        && refunds == s.total_refund_amount
        && fees == s.total_fees
        && !s.card_types.is_empty()
}

/// Words and numbers statements are made of, markers included, so random lines sometimes form
/// tables.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "SUMMARY BY CARD TYPE",
            "PLAN SUMMARY",
            "FEES",
            "FEES CHARGED",
            "TOTAL",
            "Total",
            "TOTAL FEES",
            "TOTAL CHARGES",
            "Total (Misc Fees and Card Fees)",
            "VISA",
            "VS",
            "MC",
            "EBT",
            "Card Type",
            "Sales",
            "Sales Qty",
            "Description",
            "Amount",
            "CF",
            "MISC",
            "TRANSACTIONS AT",
            "TIMES",
            "@1.51%+$0.10",
            "$",
            "-",
            "(",
            "%",
            "PROCESSING ACTIVITY SUMMARY",
            "SUMMARY OF ALL FEES",
            "AMERICAN EXPRESS",
            "SUMMARY OF CHARGES",
            "DISCOUNT AND FEES",
            "TOTAL DISCOUNT AND FEES",
            "INTERCHANGE CHARGES",
            "01/31/26",
            "Merchant Number:",
        ])
        .prop_map(str::to_owned),
        (0u64..100_000, 0u32..3).prop_map(|(n, s)| Decimal::new(n as i64, s).to_string()),
        (0u64..10_000_000).prop_map(|n| format!("${}.{:02}", n / 100, n % 100)),
        (0u64..100_000).prop_map(|n| format!("({}.{:02})", n / 100, n % 100)),
        "[ -~]{0,12}",
        "\\PC{0,10}",
    ]
}

fn line() -> impl Strategy<Value = TextLine> {
    (1u32..4, proptest::collection::vec(token(), 0..8)).prop_map(|(page, texts)| TextLine {
        page,
        y: 0.0,
        spans: texts
            .into_iter()
            .enumerate()
            .map(|(i, text)| TextSpan {
                x: i as f32 * 50.0,
                text,
            })
            .collect(),
    })
}

/// A statement's lines with a few lines dropped, repeated or garbled.
fn mangled() -> impl Strategy<Value = Vec<TextLine>> {
    let statements = vec![FIRST_DATA, TSYS, WORLDPAY, AMEX, GENERIC];
    (
        proptest::sample::select(statements),
        proptest::collection::vec((any::<usize>(), 0u8..4, token()), 0..6),
    )
        .prop_map(|(text, edits)| {
            let mut out = lines(text);
            for (at, op, replacement) in edits {
                if out.is_empty() {
                    break;
                }
                let i = at % out.len();
                match op {
                    0 => {
                        out.remove(i);
                    }
                    1 => out.insert(i, out[i].clone()),
                    2 => {
                        let spans = &mut out[i].spans;
                        if !spans.is_empty() {
                            let j = at / 7 % spans.len();
                            spans[j].text = replacement;
                        }
                    }
                    _ => out[i].spans.reverse(),
                }
            }
            out
        })
}

proptest! {
    #[test]
    fn arbitrary_lines_never_panic_and_what_reads_reconciles(lines in proptest::collection::vec(line(), 0..40)) {
        if let Ok(s) = read_statement(&lines) {
            prop_assert!(reconciles(&s), "{s:?}");
        }
    }

    #[test]
    fn mangled_statements_never_panic_and_what_reads_reconciles(lines in mangled()) {
        if let Ok(s) = read_statement(&lines) {
            prop_assert!(reconciles(&s), "{s:?}");
        }
    }
}
