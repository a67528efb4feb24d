//! Each layout printed: the header with the processor's fingerprint, the card-type table, the
//! fee sections, the totals; and the statement a reader must extract from it. The printing
//! pieces every layout shares live here; each layout's file puts them in its order.

mod amex;
mod first_data;
mod generic;
mod tsys;
mod worldpay;

use quittance_pricing::statements::{
    CardTypeRow, ExcludedCardType, FeeKind, FeeRow, Layout, Statement,
};
use quittance_pricing::{ActivityType, Decimal, round_cents};

use crate::format::{self, Money};
use crate::model::{Basis, Business, Card, Fee, Group, Sales};
use crate::pdf::{Font, LEFT, Line, Sheet, left, right};
use crate::rng::Rng;

/// A statement's printed sheet and its expected extraction.
pub(crate) struct Built {
    pub expected: Statement,
    pub sheet: Sheet,
}

/// What varies a layout's figures: `detail` adds interchange programs (more fee rows, more
/// pages); `skew` is added to the printed total fees (non-zero breaks reconciliation).
pub(crate) struct Knobs {
    pub detail: usize,
    pub skew: Decimal,
    pub zero_activity: bool,
}

pub(crate) fn build(layout: Layout, rng: &mut Rng, knobs: &Knobs) -> Built {
    match layout {
        Layout::FirstData => first_data::build(rng, knobs),
        Layout::Tsys => tsys::build(rng, knobs),
        Layout::Worldpay => worldpay::build(rng, knobs),
        Layout::Amex => amex::build(rng, knobs),
        Layout::Generic => generic::build(rng, knobs),
    }
}

/// The processor's discount printed on a card-type row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Discount {
    per_item: Decimal,
    rate: Decimal,
    amount: Decimal,
}

/// One printed card-type row.
struct CardLine {
    name: String,
    /// `None` for EBT.
    activity: Option<ActivityType>,
    sales: Sales,
    discount: Option<Discount>,
}

/// Card-type rows in the usual order. With `split`, credit and debit of a network get rows of
/// their own (`names` gives each card's name); else one row per network named after its credit
/// card. A credit row is the credit type beside a debit row (or always, with
/// `explicit_credit`, as plan codes are), else the network's combined type.
fn card_lines(
    business: &Business,
    names: fn(Card) -> &'static str,
    split: bool,
    explicit_credit: bool,
) -> Vec<CardLine> {
    use ActivityType as T;
    let mut lines = Vec::new();
    let mut push = |card: Card, activity: Option<ActivityType>, sales: Sales| {
        lines.push(CardLine {
            name: names(card).to_owned(),
            activity,
            sales,
            discount: None,
        });
    };
    for (credit, debit, combined, credit_type, debit_type) in [
        (
            Card::VisaCredit,
            Card::VisaDebit,
            T::Vs,
            T::VsCredit,
            T::VsCheck,
        ),
        (
            Card::McCredit,
            Card::McDebit,
            T::Mc,
            T::McCredit,
            T::McCheck,
        ),
        (
            Card::DiscoverCredit,
            Card::DiscoverDebit,
            T::Ds,
            T::DsCredit,
            T::DsCheck,
        ),
    ] {
        let (has_credit, has_debit) = (business.has(credit), business.has(debit));
        if split {
            if has_credit {
                let ty = if has_debit || explicit_credit {
                    credit_type
                } else {
                    combined
                };
                push(credit, Some(ty), business.sales(credit));
            }
            if has_debit {
                push(debit, Some(debit_type), business.sales(debit));
            }
        } else if has_credit || has_debit {
            let sales = business.sales(credit).plus(business.sales(debit));
            push(credit, Some(combined), sales);
        }
    }
    for (card, ty) in [
        (Card::Amex, Some(T::Amex)),
        (Card::Pin, Some(T::PinDebit)),
        (Card::Ebt, None),
    ] {
        if business.has(card) {
            push(card, ty, business.sales(card));
        }
    }
    lines
}

/// Gives each row the processor's discount: a random per item and rate.
fn with_discounts(rng: &mut Rng, lines: &mut [CardLine]) {
    for line in lines {
        let per_item = Decimal::new(rng.range(5, 15) as i64, 2);
        let rate = Decimal::new(rng.range(10, 50) as i64, 4);
        let amount = Decimal::from(line.sales.count) * per_item + line.sales.amount * rate;
        line.discount = Some(Discount {
            per_item,
            rate,
            amount: round_cents(amount),
        });
    }
}

/// The rows' discounts as the fee rows a reader makes of them.
fn discount_rows(lines: &[CardLine]) -> Vec<FeeRow> {
    lines
        .iter()
        .filter_map(|line| {
            let discount = line.discount?;
            Some(FeeRow {
                description: format!("{} DISCOUNT", line.name),
                count: Some(line.sales.count),
                volume: Some(line.sales.amount),
                rate: Some(discount.rate),
                per_item: Some(discount.per_item),
                amount: discount.amount,
                kind: FeeKind::Markup,
            })
        })
        .collect()
}

fn total_sales(lines: &[CardLine]) -> Sales {
    lines
        .iter()
        .fold(Sales::default(), |sum, l| sum.plus(l.sales))
}

fn fee_total(rows: &[FeeRow]) -> Decimal {
    rows.iter().map(|r| r.amount).sum()
}

/// The layout-specific parts of the expected statement.
struct Expected<'a> {
    layout: Layout,
    processor: &'a str,
    merchant_id: String,
    fees: Vec<FeeRow>,
    total_fees: Decimal,
}

/// The expected statement.
fn statement(business: &Business, lines: &[CardLine], parts: Expected) -> Statement {
    let m = &business.merchant;
    let total = total_sales(lines);
    let mut card_types = Vec::new();
    let mut excluded_card_types = Vec::new();
    for line in lines {
        let s = line.sales;
        match line.activity {
            Some(activity_type) => card_types.push(CardTypeRow {
                card_type: line.name.clone(),
                activity_type,
                sales_count: s.count,
                sales_amount: s.amount,
                refund_count: s.refund_count,
                refund_amount: s.refund_amount,
            }),
            None => excluded_card_types.push(ExcludedCardType {
                card_type: line.name.clone(),
                reason: "EBT is not card activity a proposal prices".to_owned(),
                sales_count: s.count,
                sales_amount: s.amount,
                refund_count: s.refund_count,
                refund_amount: s.refund_amount,
            }),
        }
    }
    Statement {
        layout: parts.layout,
        processor: parts.processor.to_owned(),
        merchant_id: Some(parts.merchant_id),
        period_start: Some(format!("{:04}-{:02}-01", m.year, m.month)),
        period_end: Some(format!("{:04}-{:02}-{:02}", m.year, m.month, m.last_day())),
        card_types,
        excluded_card_types,
        fees: parts.fees,
        total_sales_count: total.count,
        total_sales_amount: total.amount,
        total_refund_count: total.refund_count,
        total_refund_amount: total.refund_amount,
        total_fees: parts.total_fees,
    }
}

/// The fee as a row with the details the statement prints (an interchange row's rate and per
/// item only when `shows_rate_and_per_item`).
fn fee_row(fee: &Fee, description: String, shows_rate_and_per_item: bool) -> FeeRow {
    let (count, volume, rate, per_item) = match fee.basis {
        Basis::Flat => (None, None, None, None),
        Basis::Items { count, per_item } => (Some(count), None, None, Some(per_item)),
        Basis::Volume { volume, rate } => (None, Some(volume), Some(rate), None),
        Basis::Both {
            count,
            volume,
            rate,
            per_item,
        } => {
            let shown = shows_rate_and_per_item;
            let (rate, per_item) = (shown.then_some(rate), shown.then_some(per_item));
            (Some(count), Some(volume), rate, per_item)
        }
    };
    FeeRow {
        description,
        count,
        volume,
        rate,
        per_item,
        amount: fee.amount,
        kind: fee.kind,
    }
}

/// "INTERCHANGE VI CPS RETAIL CREDIT" for interchange, else the fee's name.
fn interchange_name(fee: &Fee) -> String {
    match fee.group {
        Group::Interchange(network) => format!("INTERCHANGE {} {}", network.code(), fee.name),
        Group::Network(_) | Group::OtherCard | Group::Processor => fee.name.clone(),
    }
}

/// A description spelling out the basis as "$V AT r%" or "N TRANSACTIONS AT $p".
fn at_description(fee: &Fee, money: Money) -> String {
    match fee.basis {
        Basis::Volume { volume, rate } => {
            let rate = format::percent(rate);
            format!("{} {} AT {rate}%", fee.name, money.text(volume))
        }
        Basis::Items { count, per_item } => {
            let (count, per_item) = (format::count(count), format::per_item(per_item));
            format!("{} {count} TRANSACTIONS AT ${per_item}", fee.name)
        }
        Basis::Flat | Basis::Both { .. } => fee.name.clone(),
    }
}

/// Body text size.
const BODY: f32 = 8.0;

fn title(text: &str) -> Line {
    Line::new(Font::Bold, 10.0, vec![left(LEFT, text)]).after_space(8.0)
}

/// A line: `first` at the left margin, each other cell right-aligned at its x.
fn row(font: Font, size: f32, first: &str, cells: Vec<(f32, String)>) -> Line {
    let mut all = vec![left(LEFT, first)];
    all.extend(cells.into_iter().map(|(x, text)| right(x, text)));
    Line::new(font, size, all)
}

/// A header line: `labels` right-aligned at `at`.
fn header_row(font: Font, size: f32, first: &str, labels: &[&str], at: &[f32]) -> Line {
    let cells = at.iter().zip(labels).map(|(x, l)| (*x, (*l).to_owned()));
    row(font, size, first, cells.collect())
}

/// Labelled amounts, one a line (account summaries, totals).
fn amounts(font: Font, x: f32, money: Money, items: &[(&str, Decimal)]) -> Vec<Line> {
    items
        .iter()
        .map(|(label, amount)| row(font, BODY, label, vec![(x, money.text(*amount))]))
        .collect()
}

/// The first page's header: the processor's lines, then the merchant's name and address with
/// `side` (merchant number, period) beside them.
fn header(processor: &[(Font, f32, &str)], business: &Business, side: &[String]) -> Vec<Line> {
    let m = &business.merchant;
    let mut lines: Vec<Line> = processor
        .iter()
        .map(|(font, size, t)| Line::new(*font, *size, vec![left(LEFT, *t)]))
        .collect();
    let address = [m.name.as_str(), m.street.as_str(), m.city.as_str()];
    for (i, own) in address.iter().enumerate() {
        let mut cells = vec![left(LEFT, *own)];
        if let Some(s) = side.get(i) {
            cells.push(left(330.0, s.clone()));
        }
        let line = Line::new(Font::Regular, 9.0, cells);
        lines.push(if i == 0 { line.after_space(10.0) } else { line });
    }
    lines
}

/// How a statement names its processor and the merchant at the top of its pages.
struct Masthead<'a> {
    /// The first page's processor lines; the first is repeated atop later pages.
    lines: &'a [(Font, f32, &'a str)],
    /// The font of the repeated header.
    font: Font,
    /// The merchant number as printed ("Merchant Number: 9912…").
    number: String,
    /// The period, when printed beside the address.
    period: Option<String>,
}

/// The sheet and the expected statement from a layout's parts.
fn built(
    business: &Business,
    lines: &[CardLine],
    body: Vec<Line>,
    masthead: Masthead,
    expected: Expected,
) -> Built {
    let mut side = vec![masthead.number.clone()];
    side.extend(masthead.period);
    let header = header(masthead.lines, business, &side);
    let name = masthead.lines.first().map_or("", |l| l.2);
    let running = vec![Line::new(
        masthead.font,
        8.0,
        vec![left(LEFT, name), left(330.0, masthead.number)],
    )];
    Built {
        expected: statement(business, lines, expected),
        sheet: Sheet {
            header,
            running,
            body,
        },
    }
}

/// "MM/DD/YY" (or "MM/DD/YYYY") of a day of the statement's month.
fn mm_dd(business: &Business, day: u32, long_year: bool) -> String {
    let m = &business.merchant;
    if long_year {
        format!("{:02}/{day:02}/{:04}", m.month, m.year)
    } else {
        format!("{:02}/{day:02}/{:02}", m.month, m.year % 100)
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What a column of a card-type table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    AverageTicket,
    Count,
    Amount,
    RefundCount,
    Refunds,
    Net,
    /// Sales and refund count together.
    AllItems,
    DiscountPerItem,
    DiscountRate,
    Discount,
}

/// How a layout prints its card-type table.
struct SalesTable {
    font: Font,
    size: f32,
    money: Money,
    /// Each column and its right edge.
    columns: &'static [(Show, f32)],
    per_item: fn(Decimal) -> String,
    rate: fn(Decimal) -> String,
    total: &'static str,
}

impl SalesTable {
    /// The header line with `labels`, one per column.
    fn header(&self, first: &str, labels: &[&str]) -> Line {
        let at: Vec<f32> = self.columns.iter().map(|(_, x)| *x).collect();
        header_row(self.font, self.size, first, labels, &at)
    }

    /// One line per card type, then the Total line (without the discount per item and rate).
    fn rows(&self, lines: &[CardLine]) -> Vec<Line> {
        let mut out: Vec<Line> = lines
            .iter()
            .map(|l| self.row(&l.name, l.sales, l.discount, l.discount.map(|d| d.amount)))
            .collect();
        let due = lines
            .iter()
            .filter_map(|l| l.discount)
            .map(|d| d.amount)
            .sum();
        out.push(self.row(self.total, total_sales(lines), None, Some(due)));
        out
    }

    fn row(&self, name: &str, s: Sales, discount: Option<Discount>, due: Option<Decimal>) -> Line {
        let m = self.money;
        let cells = self.columns.iter().filter_map(|(show, x)| {
            let text = match show {
                Show::AverageTicket => m.text(s.average_ticket()),
                Show::Count => format::count(s.count),
                Show::Amount => m.text(s.amount),
                Show::RefundCount => format::count(s.refund_count),
                Show::Refunds => m.text(-s.refund_amount),
                Show::Net => m.text(s.net()),
                Show::AllItems => format::count(s.count + s.refund_count),
                Show::DiscountPerItem => (self.per_item)(discount?.per_item),
                Show::DiscountRate => (self.rate)(discount?.rate),
                Show::Discount => m.text(due?),
            };
            Some((*x, text))
        });
        row(self.font, self.size, name, cells.collect())
    }
}

/// How TSYS and the generic layout print fee rows: count, volume, rate, per item and amount in
/// columns, blank where the fee has no such figure.
struct FeeColumns {
    font: Font,
    /// Right edges of count, volume, rate, per item, amount.
    at: [f32; 5],
    money: Money,
    rate: fn(Decimal) -> String,
    per_item: fn(Decimal) -> String,
}

impl FeeColumns {
    /// The printed lines and the expected rows.
    fn rows(&self, fees: &[Fee]) -> (Vec<Line>, Vec<FeeRow>) {
        fees.iter()
            .map(|fee| {
                let expected = fee_row(fee, interchange_name(fee), true);
                let figures = [
                    expected.count.map(format::count),
                    expected.volume.map(|v| self.money.text(v)),
                    expected.rate.map(self.rate),
                    expected.per_item.map(self.per_item),
                    Some(self.money.text(fee.amount)),
                ];
                let cells = self.at.iter().zip(figures);
                let cells = cells.filter_map(|(x, text)| Some((*x, text?))).collect();
                (row(self.font, BODY, &expected.description, cells), expected)
            })
            .unzip()
    }
}

/// Notices that pad a statement to more pages (after every figure, so readers pass over them).
pub(crate) fn notices(sheet: &mut Sheet, lines: usize, first: bool) {
    const SENTENCES: &[&str] = &[
        "Please review this statement promptly and tell us of any discrepancy within sixty days.",
        "Card network rules change from time to time; the programs shown reflect this month's rules.",
        "Keep your terminal software current so transactions qualify at the best available programs.",
        "Questions about a charge should be raised with customer service before the next cycle closes.",
        "Chargebacks and retrievals are reported separately and are not part of the fees above.",
    ];
    if first {
        sheet.body.push(title("IMPORTANT INFORMATION"));
    }
    for i in 0..lines {
        let sentence = SENTENCES[i % SENTENCES.len()];
        sheet
            .body
            .push(Line::new(Font::Regular, BODY, vec![left(LEFT, sentence)]));
    }
}
