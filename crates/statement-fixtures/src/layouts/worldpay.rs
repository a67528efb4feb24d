//! Worldpay: card-type names run together ("MCDEBIT"), credits in parentheses, interchange as
//! qualification descriptors ("VI-CPS RETAIL CREDIT@1.51%+$0.10").

use quittance_pricing::Decimal;
use quittance_pricing::statements::Layout;

use super::{
    Built, Expected, Knobs, MONTHS, Masthead, SalesTable, Show, amounts, at_description, built,
    card_lines, discount_rows, fee_row, fee_total, header_row, title, with_discounts,
};
use crate::format::{self, Money, Negative};
use crate::model::{self, Basis, Card, Fee, Group};
use crate::pdf::{Font, RIGHT};
use crate::rng::Rng;

const MONEY: Money = Money {
    dollar: true,
    negative: Negative::Parens,
};
const SIZE: f32 = 7.0;

const TABLE: SalesTable = SalesTable {
    font: Font::Regular,
    size: SIZE,
    money: MONEY,
    columns: &[
        (Show::Count, 150.0),
        (Show::Amount, 215.0),
        (Show::RefundCount, 262.0),
        (Show::Refunds, 318.0),
        (Show::Net, 383.0),
        (Show::AverageTicket, 430.0),
        (Show::DiscountPerItem, 470.0),
        (Show::DiscountRate, 508.0),
        (Show::Discount, RIGHT),
    ],
    per_item: |p| format!("${}", format::per_item(p)),
    rate: |r| format!("{}%", format::percent(r)),
    total: "TOTAL",
};

fn name(card: Card) -> &'static str {
    match card {
        Card::VisaCredit => "VISA",
        Card::VisaDebit => "VISADEBIT",
        Card::McCredit => "MASTERCARD",
        Card::McDebit => "MCDEBIT",
        Card::DiscoverCredit => "DISCOVER",
        Card::DiscoverDebit => "DCVRDEBIT",
        Card::Amex => "AMEXOPTBLUE",
        Card::Pin => "PIN DEBIT",
        Card::Ebt => "EBT",
    }
}

pub(super) fn build(rng: &mut Rng, knobs: &Knobs) -> Built {
    let business = model::business(rng, None, knobs.zero_activity);
    let mut lines = card_lines(&business, name, true, false);
    with_discounts(rng, &mut lines);
    let fees = model::processing_fees(rng, &business, knobs.detail, false);
    let mid = business.merchant.mid(13);

    let mut body = vec![
        title("PROCESSING ACTIVITY SUMMARY"),
        TABLE.header(
            "Card",
            &[
                "Number",
                "Amount",
                "Number",
                "Amount",
                "Net",
                "Average",
                "Disc",
                "Disc",
                "Processing",
            ],
        ),
        TABLE.header(
            "Type",
            &[
                "of Sales",
                "of Sales",
                "of Credits",
                "of Credits",
                "Sales",
                "Ticket",
                "Per Item",
                "%",
                "Fees",
            ],
        ),
    ];
    body.extend(TABLE.rows(&lines));
    let mut rows = discount_rows(&lines);
    let processing = fee_total(&rows);

    let (interchange, service): (Vec<&Fee>, Vec<&Fee>) = fees
        .iter()
        .partition(|f| matches!(f.group, Group::Interchange(_)));
    body.push(title("INTERCHANGE CHARGES"));
    body.push(header_row(
        Font::Bold,
        SIZE,
        "Description",
        &["Number", "Amount", "Total"],
        &[430.0, 500.0, RIGHT],
    ));
    let mut interchange_total = Decimal::ZERO;
    for fee in interchange {
        let (
            Basis::Both {
                count,
                volume,
                rate,
                per_item,
            },
            Group::Interchange(network),
        ) = (fee.basis, fee.group)
        else {
            continue;
        };
        let (rate, per_item) = (format::percent(rate), format::per_item(per_item));
        let description = format!("{}-{}@{rate}%+${per_item}", network.code(), fee.name);
        let cells = vec![
            (430.0, format::count(count)),
            (500.0, MONEY.text(volume)),
            (RIGHT, MONEY.text(fee.amount)),
        ];
        body.push(super::row(Font::Regular, SIZE, &description, cells));
        interchange_total += fee.amount;
        rows.push(fee_row(fee, description, true));
    }
    body.extend(amounts(
        Font::Bold,
        RIGHT,
        MONEY,
        &[("TOTAL INTERCHANGE CHARGES", interchange_total)],
    ));
    body.push(title("SERVICE CHARGES AND FEES"));
    body.push(header_row(
        Font::Bold,
        SIZE,
        "Description",
        &["Total"],
        &[RIGHT],
    ));
    let mut service_total = Decimal::ZERO;
    for fee in service {
        let description = at_description(fee, MONEY);
        body.push(super::row(
            Font::Regular,
            SIZE,
            &description,
            vec![(RIGHT, MONEY.text(fee.amount))],
        ));
        service_total += fee.amount;
        rows.push(fee_row(fee, description, true));
    }
    body.extend(amounts(
        Font::Bold,
        RIGHT,
        MONEY,
        &[("TOTAL SERVICE CHARGES AND FEES", service_total)],
    ));
    let printed = fee_total(&rows) + knobs.skew;
    body.push(title("SUMMARY OF ALL FEES"));
    body.extend(amounts(
        Font::Regular,
        300.0,
        MONEY,
        &[
            ("PROCESSING FEES", processing),
            ("INTERCHANGE CHARGES", interchange_total),
            ("SERVICE CHARGES AND FEES", service_total),
            ("TOTAL FEES", printed),
        ],
    ));

    let m = &business.merchant;
    let month = MONTHS[m.month as usize - 1][..3].to_uppercase();
    let month = format!("PROCESSING MONTH: {month} {}", m.year);
    let masthead = Masthead {
        lines: &[
            (Font::Bold, 16.0, "Worldpay"),
            (Font::Bold, 10.0, "MERCHANT STATEMENT"),
            (Font::Regular, 9.0, &month),
        ],
        font: Font::Regular,
        number: format!("MERCHANT NUMBER: {mid}"),
        period: None,
    };
    let expected = Expected {
        layout: Layout::Worldpay,
        processor: "Worldpay",
        merchant_id: mid,
        fees: rows,
        total_fees: printed,
    };
    built(&business, &lines, body, masthead, expected)
}
