//! Fiserv / First Data ("Omaha"): dollar amounts, fees printed negative, fee descriptions that
//! spell out their basis ("0.0014 TIMES $24,237.16", "470 TRANSACTIONS AT 0.0195").

use quittance_pricing::Decimal;
use quittance_pricing::statements::{FeeKind, Layout};

use super::{
    BODY, Built, Expected, Knobs, Masthead, SalesTable, Show, amounts, built, card_lines, fee_row,
    interchange_name, mm_dd, title,
};
use crate::format::{self, Money, Negative};
use crate::model::{self, Basis, Card, Fee, Group, Network};
use crate::pdf::{Font, LEFT, Line, RIGHT, left, right};
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
        (Show::AverageTicket, 190.0),
        (Show::Count, 250.0),
        (Show::Amount, 330.0),
        (Show::RefundCount, 390.0),
        (Show::Refunds, 470.0),
        (Show::Net, RIGHT),
    ],
    per_item: format::per_item,
    rate: format::percent,
    total: "Total",
};

fn name(card: Card) -> &'static str {
    match card {
        Card::VisaCredit => "VISA",
        Card::VisaDebit => "VISA DEBIT",
        Card::McCredit => "MASTERCARD",
        Card::McDebit => "MC DEBIT",
        Card::DiscoverCredit => "DISCOVER",
        Card::DiscoverDebit => "DISCOVER DEBIT",
        Card::Amex => "AMEX ACQ",
        Card::Pin => "DEBIT/ATM",
        Card::Ebt => "EBT",
    }
}

/// "… 55 TRANS TOTALING $2,570.95", "… 0.0017 DISC RATE TIMES $24,237.16", "… 0.0014 TIMES
/// $24,237.16", "… 470 TRANSACTIONS AT 0.0195".
fn description(fee: &Fee) -> String {
    let name = interchange_name(fee);
    match fee.basis {
        Basis::Both { count, volume, .. } => {
            let count = format::count(count);
            format!("{name} {count} TRANS TOTALING {}", MONEY.text(volume))
        }
        Basis::Volume { volume, rate } => {
            let times = if fee.kind == FeeKind::Markup {
                "DISC RATE TIMES"
            } else {
                "TIMES"
            };
            let rate = format::fraction(rate);
            format!("{name} {rate} {times} {}", MONEY.text(volume))
        }
        Basis::Items { count, per_item } => {
            let (count, per_item) = (format::count(count), format::per_item(per_item));
            format!("{name} {count} TRANSACTIONS AT {per_item}")
        }
        Basis::Flat => name,
    }
}

pub(super) fn build(rng: &mut Rng, knobs: &Knobs) -> Built {
    let business = model::business(rng, None, knobs.zero_activity);
    let split = rng.chance(50);
    let lines = card_lines(&business, name, split, false);
    let fees = model::processing_fees(rng, &business, knobs.detail, true);
    let mid = business.merchant.mid(12);
    let date = mm_dd(&business, business.merchant.last_day(), false);

    // Card fees under their network's heading (type CF), then the processor's (MISC), each
    // part closed by its subtotal.
    let groups: Vec<(&str, Vec<&Fee>)> = Network::ALL
        .iter()
        .map(|n| {
            let of =
                |f: &&Fee| matches!(f.group, Group::Interchange(x) | Group::Network(x) if x == *n);
            (n.name(), fees.iter().filter(of).collect())
        })
        .chain([(
            "OTHER CARD FEES",
            fees.iter()
                .filter(|f| f.group == Group::OtherCard)
                .collect(),
        )])
        .chain([(
            "MISC FEES",
            fees.iter()
                .filter(|f| f.group == Group::Processor)
                .collect(),
        )])
        .collect();
    let subtotal = |font: Font, label: &str, amount: Decimal| {
        Line::new(
            font,
            BODY,
            vec![left(116.0, label), right(RIGHT, MONEY.text(-amount))],
        )
    };
    let mut fee_lines = vec![
        title("FEES CHARGED"),
        Line::new(
            Font::Bold,
            BODY,
            vec![
                left(LEFT, "Date"),
                left(84.0, "Type"),
                left(116.0, "Description"),
                right(RIGHT, "Amount"),
            ],
        ),
    ];
    let mut rows = Vec::new();
    let mut card_total = Decimal::ZERO;
    for (heading, group) in groups {
        let misc = heading == "MISC FEES";
        if misc {
            fee_lines.push(subtotal(Font::Regular, "Total Card Fees", card_total));
        } else if group.is_empty() {
            continue;
        }
        fee_lines.push(Line::new(Font::Bold, BODY, vec![left(LEFT, heading)]).after_space(4.0));
        for fee in group {
            let description = description(fee);
            fee_lines.push(Line::new(
                Font::Regular,
                BODY,
                vec![
                    left(LEFT, date.clone()),
                    left(84.0, if misc { "MISC" } else { "CF" }),
                    left(116.0, description.clone()),
                    right(RIGHT, MONEY.text(-fee.amount)),
                ],
            ));
            if !misc {
                card_total += fee.amount;
            }
            rows.push(fee_row(fee, description, false));
        }
    }
    let total: Decimal = rows.iter().map(|r| r.amount).sum();
    let printed = total + knobs.skew;
    fee_lines.push(subtotal(
        Font::Regular,
        "Total Misc Fees",
        total - card_total,
    ));
    fee_lines.push(subtotal(
        Font::Bold,
        "Total (Misc Fees and Card Fees)",
        printed,
    ));

    let totals = super::total_sales(&lines);
    let mut body = vec![title("ACCOUNT SUMMARY")];
    body.extend(amounts(
        Font::Regular,
        300.0,
        MONEY,
        &[
            ("Total Gross Sales You Submitted", totals.amount),
            ("Refunds", -totals.refund_amount),
            ("Fees Charged", -printed),
            ("Total Amount Processed", totals.net() - printed),
        ],
    ));
    body.push(title("SUMMARY BY CARD TYPE"));
    body.push(Line::new(
        Font::Bold,
        BODY,
        vec![
            right(190.0, "Average"),
            left(212.0, "Total Gross Sales You Submitted"),
            right(470.0, "Refunds"),
            right(RIGHT, "Total Amount"),
        ],
    ));
    body.push(TABLE.header(
        "Card Type",
        &[
            "Ticket",
            "Items",
            "Amount",
            "Items",
            "Amount",
            "You Submitted",
        ],
    ));
    body.extend(TABLE.rows(&lines));
    body.extend(fee_lines);

    let period = format!("Statement Period: {} - {date}", mm_dd(&business, 1, false));
    let masthead = Masthead {
        lines: &[
            (Font::Bold, 14.0, "FIRST DATA MERCHANT SERVICES"),
            (Font::Regular, 8.0, "PO Box 2394, Omaha, NE 68103-2394"),
            (
                Font::Regular,
                8.0,
                "Customer Service 1-877-273-8191    businesstrack.com",
            ),
            (Font::Bold, 11.0, "YOUR CARD PROCESSING STATEMENT"),
        ],
        font: Font::Regular,
        number: format!("Merchant Number: {mid}"),
        period: Some(period),
    };
    let expected = Expected {
        layout: Layout::FirstData,
        processor: "Fiserv (First Data)",
        merchant_id: mid,
        fees: rows,
        total_fees: printed,
    };
    built(&business, &lines, body, masthead, expected)
}
