//! TSYS: plan codes, Courier, bare numbers, credits with a trailing minus, per-item amounts
//! without the leading zero (".10"), rates as bare percentages.

use quittance_pricing::Decimal;
use quittance_pricing::statements::Layout;

use super::{
    Built, Expected, FeeColumns, Knobs, Masthead, SalesTable, Show, amounts, built, card_lines,
    discount_rows, fee_total, header_row, mm_dd, with_discounts,
};
use crate::format::{self, Money, Negative};
use crate::model::{self, Card};
use crate::pdf::{Font, LEFT, Line, RIGHT, left};
use crate::rng::Rng;

const MONEY: Money = Money {
    dollar: false,
    negative: Negative::Trailing,
};
const SIZE: f32 = 7.5;

/// ".10" for 0.10.
fn bare_point(value: Decimal) -> String {
    let text = format::per_item(value);
    text.strip_prefix('0').map_or(text.clone(), str::to_owned)
}

const TABLE: SalesTable = SalesTable {
    font: Font::Mono,
    size: SIZE,
    money: MONEY,
    columns: &[
        (Show::Count, 120.0),
        (Show::Amount, 195.0),
        (Show::RefundCount, 245.0),
        (Show::Refunds, 310.0),
        (Show::Net, 385.0),
        (Show::AverageTicket, 435.0),
        (Show::DiscountPerItem, 470.0),
        (Show::DiscountRate, 505.0),
        (Show::Discount, RIGHT),
    ],
    per_item: bare_point,
    rate: format::percent,
    total: "TOTAL",
};

const FEES: FeeColumns = FeeColumns {
    font: Font::Mono,
    at: [300.0, 380.0, 430.0, 490.0, RIGHT],
    money: MONEY,
    rate: format::percent,
    per_item: bare_point,
};

fn code(card: Card) -> &'static str {
    match card {
        Card::VisaCredit => "VS",
        Card::VisaDebit => "VD",
        Card::McCredit => "MC",
        Card::McDebit => "MD",
        Card::DiscoverCredit => "DS",
        Card::DiscoverDebit => "DD",
        Card::Amex => "AM",
        Card::Pin => "DB",
        Card::Ebt => "EB",
    }
}

fn mono(text: &str) -> Line {
    Line::new(Font::Mono, SIZE, vec![left(LEFT, text)]).after_space(8.0)
}

pub(super) fn build(rng: &mut Rng, knobs: &Knobs) -> Built {
    let business = model::business(rng, None, knobs.zero_activity);
    let mut lines = card_lines(&business, code, true, true);
    with_discounts(rng, &mut lines);
    let fees = model::processing_fees(rng, &business, knobs.detail, false);
    let mid = business.merchant.mid(16);

    let mut body = vec![
        mono("PLAN SUMMARY"),
        TABLE.header(
            "PLAN",
            &[
                "NUMBER", "AMOUNT", "NUMBER", "AMOUNT", "NET", "AVERAGE", "DISC", "DISC",
                "DISCOUNT",
            ],
        ),
        TABLE.header(
            "CODE",
            &[
                "OF SALES",
                "OF SALES",
                "CREDITS",
                "OF CREDITS",
                "SALES",
                "TICKET",
                "P/I",
                "%",
                "DUE",
            ],
        ),
    ];
    body.extend(TABLE.rows(&lines));
    let mut rows = discount_rows(&lines);
    let discount_due = fee_total(&rows);

    let (fee_lines, fee_rows) = FEES.rows(&fees);
    let fees_due = fee_total(&fee_rows);
    body.push(mono("FEES"));
    body.push(header_row(
        Font::Mono,
        SIZE,
        "DESCRIPTION",
        &["COUNT", "AMOUNT", "RATE %", "PER ITEM", "TOTAL"],
        &FEES.at,
    ));
    body.extend(fee_lines);
    body.extend(amounts(
        Font::Mono,
        RIGHT,
        MONEY,
        &[("TOTAL FEES", fees_due)],
    ));
    rows.extend(fee_rows);
    let printed = discount_due + fees_due + knobs.skew;
    body.push(mono("CHARGES SUMMARY"));
    body.extend(amounts(
        Font::Mono,
        RIGHT,
        MONEY,
        &[
            ("DISCOUNT DUE", discount_due),
            ("FEES", fees_due),
            ("TOTAL CHARGES", printed),
        ],
    ));

    let last = business.merchant.last_day();
    let period = format!(
        "STATEMENT PERIOD {} TO {}",
        mm_dd(&business, 1, true),
        mm_dd(&business, last, true)
    );
    let masthead = Masthead {
        lines: &[
            (Font::Mono, 12.0, "TSYS MERCHANT SOLUTIONS"),
            (Font::Mono, 9.0, "MERCHANT STATEMENT"),
        ],
        font: Font::Mono,
        number: format!("MERCHANT NUMBER: {mid}"),
        period: Some(period),
    };
    let expected = Expected {
        layout: Layout::Tsys,
        processor: "TSYS",
        merchant_id: mid,
        fees: rows,
        total_fees: printed,
    };
    built(&business, &lines, body, masthead, expected)
}
