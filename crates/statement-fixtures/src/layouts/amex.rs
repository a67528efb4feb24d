//! An American Express statement: Amex activity by card product, Amex's discount and fees
//! ("$V AT r%"), and the day-by-day submissions after every total.

use quittance_pricing::statements::{FeeKind, Layout};
use quittance_pricing::{ActivityType, Decimal, round_cents};

use super::{
    BODY, Built, CardLine, Expected, Knobs, MONTHS, Masthead, SalesTable, Show, amounts,
    at_description, built, fee_row, fee_total, header_row, mm_dd, title,
};
use crate::format::{self, Money, Negative};
use crate::model::{self, Basis, Business, Card, Fee, Group, Sales};
use crate::pdf::{Font, Line, RIGHT, left, right};
use crate::rng::Rng;

const MONEY: Money = Money {
    dollar: true,
    negative: Negative::Minus,
};

const TABLE: SalesTable = SalesTable {
    font: Font::Regular,
    size: BODY,
    money: MONEY,
    columns: &[
        (Show::Count, 250.0),
        (Show::Amount, 340.0),
        (Show::RefundCount, 400.0),
        (Show::Refunds, 480.0),
        (Show::Net, RIGHT),
    ],
    per_item: format::per_item,
    rate: format::percent,
    total: "Total",
};

/// The Amex sales over one to three card products, halving what is left each time.
fn products(rng: &mut Rng, all: Sales) -> Vec<CardLine> {
    let names = ["CONSUMER", "CORPORATE", "SMALL BUSINESS"];
    let parts = if all.count < 3 {
        1
    } else {
        rng.range(1, 3) as usize
    };
    let mut left_over = all;
    let mut lines = Vec::new();
    for (i, name) in names.iter().take(parts).enumerate() {
        let sales = if i + 1 == parts {
            left_over
        } else {
            let count = left_over.count / 2;
            let share =
                |v: Decimal| round_cents(v * Decimal::from(count) / Decimal::from(left_over.count));
            Sales {
                count,
                amount: share(left_over.amount),
                refund_count: left_over.refund_count / 2,
                refund_amount: share(left_over.refund_amount),
            }
        };
        left_over = Sales {
            count: left_over.count - sales.count,
            amount: left_over.amount - sales.amount,
            refund_count: left_over.refund_count - sales.refund_count,
            refund_amount: left_over.refund_amount - sales.refund_amount,
        };
        if sales.count > 0 {
            lines.push(CardLine {
                name: (*name).to_owned(),
                activity: Some(ActivityType::Amex),
                sales,
                discount: None,
            });
        }
    }
    lines
}

/// The Amex sales submitted day by day.
fn submissions(rng: &mut Rng, business: &Business, all: Sales) -> Vec<Line> {
    let m = &business.merchant;
    let days = u64::from(m.last_day()).min(all.count);
    if days == 0 {
        return Vec::new();
    }
    let counts = model::split(rng, all.count, days as usize);
    let amounts = model::spread(model::cents(all.amount), &counts);
    let mut lines = vec![
        title("SUBMISSIONS"),
        Line::new(
            Font::Bold,
            BODY,
            vec![
                left(36.0, "Date"),
                left(110.0, "Reference"),
                right(400.0, "Charges"),
                right(RIGHT, "Charge Amount"),
            ],
        ),
    ];
    for (day, (count, cents)) in counts.iter().zip(amounts).enumerate() {
        lines.push(Line::new(
            Font::Regular,
            BODY,
            vec![
                left(36.0, mm_dd(business, day as u32 + 1, false)),
                left(110.0, format!("SUB{:04}{:02}", m.month * 97, day + 1)),
                right(400.0, format::count(*count)),
                right(RIGHT, MONEY.text(model::dollars(cents))),
            ],
        ));
    }
    lines
}

pub(super) fn build(rng: &mut Rng, knobs: &Knobs) -> Built {
    let business = model::business(rng, Some(Card::Amex), knobs.zero_activity);
    let all = business.sales(Card::Amex);
    let lines = products(rng, all);
    let mut fees: Vec<Fee> = lines
        .iter()
        .map(|line| {
            let rate = Decimal::new(rng.range(230, 350) as i64, 4);
            let basis = Basis::Volume {
                volume: line.sales.amount,
                rate,
            };
            Fee::new(
                format!("{} DISCOUNT", line.name),
                basis,
                FeeKind::PassThrough,
                Group::OtherCard,
            )
        })
        .collect();
    if all.count > 0 && rng.chance(50) {
        let keyed = round_cents(all.amount * Decimal::new(rng.range(5, 30) as i64, 2));
        let basis = Basis::Volume {
            volume: keyed,
            rate: Decimal::new(30, 4),
        };
        fees.push(Fee::new(
            "NON-SWIPED TRANSACTION FEE",
            basis,
            FeeKind::PassThrough,
            Group::OtherCard,
        ));
    }
    let se = business.merchant.mid(10);

    let mut body = vec![
        title("SUMMARY OF CHARGES"),
        TABLE.header(
            "Card Product",
            &[
                "Charges",
                "Charge Amount",
                "Credits",
                "Credit Amount",
                "Net Amount",
            ],
        ),
    ];
    body.extend(TABLE.rows(&lines));
    body.push(title("DISCOUNT AND FEES"));
    body.push(header_row(
        Font::Bold,
        BODY,
        "Description",
        &["Amount"],
        &[RIGHT],
    ));
    let mut rows = Vec::new();
    for fee in &fees {
        let description = at_description(fee, MONEY);
        body.push(super::row(
            Font::Regular,
            BODY,
            &description,
            vec![(RIGHT, MONEY.text(fee.amount))],
        ));
        rows.push(fee_row(fee, description, true));
    }
    let printed = fee_total(&rows) + knobs.skew;
    body.extend(amounts(
        Font::Bold,
        RIGHT,
        MONEY,
        &[("TOTAL DISCOUNT AND FEES", printed)],
    ));
    body.extend(submissions(rng, &business, all));

    let m = &business.merchant;
    let month = MONTHS[m.month as usize - 1];
    let (year, last) = (m.year, m.last_day());
    let masthead = Masthead {
        lines: &[
            (Font::Bold, 16.0, "American Express"),
            (Font::Regular, 8.0, "Merchant Services 1-800-528-5200"),
            (Font::Bold, 11.0, "MERCHANT STATEMENT"),
        ],
        font: Font::Regular,
        number: format!("Service Establishment Number: {se}"),
        period: Some(format!(
            "Period Covered: {month} 1, {year} - {month} {last}, {year}"
        )),
    };
    let expected = Expected {
        layout: Layout::Amex,
        processor: "American Express",
        merchant_id: se,
        fees: rows,
        total_fees: printed,
    };
    built(&business, &lines, body, masthead, expected)
}
