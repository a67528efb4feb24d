//! A processor without a parser of its own: plain headers ("Card Type", "Sales", "Sales Qty",
//! "Description") the generic reader finds, no dollar signs, credits in parentheses.

use quittance_pricing::statements::Layout;

use super::{
    BODY, Built, Expected, FeeColumns, Knobs, Masthead, SalesTable, Show, amounts, built,
    card_lines, fee_total, header_row, mm_dd, title,
};
use crate::format::{self, Money, Negative};
use crate::model::{self, Card};
use crate::pdf::{Font, RIGHT};
use crate::rng::Rng;

const MONEY: Money = Money {
    dollar: false,
    negative: Negative::Parens,
};

const TABLE: SalesTable = SalesTable {
    font: Font::Regular,
    size: BODY,
    money: MONEY,
    columns: &[
        (Show::Amount, 200.0),
        (Show::Count, 260.0),
        (Show::Refunds, 330.0),
        (Show::RefundCount, 390.0),
        (Show::Net, 480.0),
        (Show::AllItems, RIGHT),
    ],
    per_item: format::per_item,
    rate: format::percent,
    total: "Total",
};

const FEES: FeeColumns = FeeColumns {
    font: Font::Regular,
    at: [300.0, 380.0, 430.0, 490.0, RIGHT],
    money: MONEY,
    rate: |r| format!("{}%", format::percent(r)),
    per_item: format::per_item,
};

fn name(card: Card) -> &'static str {
    match card {
        Card::VisaCredit => "Visa",
        Card::VisaDebit => "Visa Debit",
        Card::McCredit => "Mastercard",
        Card::McDebit => "Mastercard Debit",
        Card::DiscoverCredit => "Discover",
        Card::DiscoverDebit => "Discover Debit",
        Card::Amex => "American Express",
        Card::Pin => "PIN Debit",
        Card::Ebt => "EBT",
    }
}

pub(super) fn build(rng: &mut Rng, knobs: &Knobs) -> Built {
    let business = model::business(rng, None, knobs.zero_activity);
    let split = rng.chance(50);
    let lines = card_lines(&business, name, split, false);
    let fees = model::processing_fees(rng, &business, knobs.detail, true);
    let mid = business.merchant.mid(15);

    let mut body = vec![
        title("ACTIVITY SUMMARY"),
        TABLE.header(
            "Card Type",
            &[
                "Sales",
                "Sales Qty",
                "Credits",
                "Credit Qty",
                "Net Amount",
                "Total Qty",
            ],
        ),
    ];
    body.extend(TABLE.rows(&lines));
    let (fee_lines, rows) = FEES.rows(&fees);
    body.push(title("FEES"));
    body.push(header_row(
        Font::Bold,
        BODY,
        "Description",
        &["Qty", "Volume", "Rate", "Per Item", "Amount"],
        &FEES.at,
    ));
    body.extend(fee_lines);
    let printed = fee_total(&rows) + knobs.skew;
    body.extend(amounts(
        Font::Bold,
        RIGHT,
        MONEY,
        &[("Total Fees", printed)],
    ));

    let last = business.merchant.last_day();
    let period = format!(
        "Statement Period: {} - {}",
        mm_dd(&business, 1, true),
        mm_dd(&business, last, true)
    );
    let masthead = Masthead {
        lines: &[
            (Font::Bold, 14.0, "LANTERN BAY PAYMENTS"),
            (Font::Regular, 9.0, "MONTHLY PROCESSING STATEMENT"),
        ],
        font: Font::Regular,
        number: format!("Merchant ID: {mid}"),
        period: Some(period),
    };
    let expected = Expected {
        layout: Layout::Generic,
        processor: "Unrecognized processor",
        merchant_id: mid,
        fees: rows,
        total_fees: printed,
    };
    built(&business, &lines, body, masthead, expected)
}
