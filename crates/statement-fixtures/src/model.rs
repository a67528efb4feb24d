//! A synthetic merchant's month: who they are, what they sold on each kind of card, and the
//! fees charged on it. Every name and number is invented; amounts are exact cents and each fee
//! is count × per item + volume × rate rounded half-up to the cent.

use quittance_pricing::statements::FeeKind;
use quittance_pricing::{Decimal, round_cents};

use crate::rng::Rng;

/// The kinds of card activity a statement shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Card {
    VisaCredit,
    VisaDebit,
    McCredit,
    McDebit,
    DiscoverCredit,
    DiscoverDebit,
    Amex,
    Pin,
    Ebt,
}

impl Card {
    const ALL: [Card; 9] = [
        Card::VisaCredit,
        Card::VisaDebit,
        Card::McCredit,
        Card::McDebit,
        Card::DiscoverCredit,
        Card::DiscoverDebit,
        Card::Amex,
        Card::Pin,
        Card::Ebt,
    ];

    /// The network for brand fees and interchange: "VISA"/"VI", "MASTERCARD"/"MC",
    /// "DISCOVER"/"DS"; `None` for the others.
    pub fn network(self) -> Option<Network> {
        match self {
            Card::VisaCredit | Card::VisaDebit => Some(Network::Visa),
            Card::McCredit | Card::McDebit => Some(Network::Mastercard),
            Card::DiscoverCredit | Card::DiscoverDebit => Some(Network::Discover),
            Card::Amex | Card::Pin | Card::Ebt => None,
        }
    }

    /// How often a merchant takes this kind of card (percent), and the share of its count
    /// range.
    fn profile(self) -> (u64, u64, u64) {
        match self {
            Card::VisaCredit => (100, 150, 1800),
            Card::VisaDebit => (85, 150, 2200),
            Card::McCredit => (90, 60, 900),
            Card::McDebit => (70, 40, 700),
            Card::DiscoverCredit => (60, 10, 200),
            Card::DiscoverDebit => (20, 3, 60),
            Card::Amex => (60, 15, 300),
            Card::Pin => (40, 20, 500),
            Card::Ebt => (15, 5, 120),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Network {
    Visa,
    Mastercard,
    Discover,
}

impl Network {
    pub const ALL: [Network; 3] = [Network::Visa, Network::Mastercard, Network::Discover];

    pub fn name(self) -> &'static str {
        match self {
            Network::Visa => "VISA",
            Network::Mastercard => "MASTERCARD",
            Network::Discover => "DISCOVER",
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Network::Visa => "VI",
            Network::Mastercard => "MC",
            Network::Discover => "DS",
        }
    }
}

/// Sales and refunds; amounts in dollars to the cent, refunds positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Sales {
    pub count: u64,
    pub amount: Decimal,
    pub refund_count: u64,
    pub refund_amount: Decimal,
}

impl Sales {
    pub fn plus(self, other: Sales) -> Sales {
        Sales {
            count: self.count + other.count,
            amount: self.amount + other.amount,
            refund_count: self.refund_count + other.refund_count,
            refund_amount: self.refund_amount + other.refund_amount,
        }
    }

    pub fn net(self) -> Decimal {
        self.amount - self.refund_amount
    }

    pub fn average_ticket(self) -> Decimal {
        if self.count == 0 {
            Decimal::new(0, 2)
        } else {
            round_cents(self.amount / Decimal::from(self.count))
        }
    }
}

/// Cents as dollars.
pub(crate) fn dollars(cents: u64) -> Decimal {
    Decimal::new(cents as i64, 2)
}

/// Dollars as whole cents (amounts here are never negative).
pub(crate) fn cents(amount: Decimal) -> u64 {
    (amount * Decimal::ONE_HUNDRED).try_into().unwrap_or(0)
}

/// Who the statement is for.
pub(crate) struct Merchant {
    pub name: String,
    pub street: String,
    pub city: String,
    /// Digits only; each layout takes as many as its processor prints.
    pub digits: String,
    pub year: u32,
    pub month: u32,
}

impl Merchant {
    pub fn mid(&self, len: usize) -> String {
        self.digits[..len].to_owned()
    }

    pub fn last_day(&self) -> u32 {
        match self.month {
            2 if self.year.is_multiple_of(4) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        }
    }
}

const NAMES: &[&str] = &[
    "BLUE HERON",
    "COPPER KETTLE",
    "MAPLE LANTERN",
    "GOLDEN HOUR",
    "RIVERBEND",
    "NORTHWIND",
    "JUNIPER HILL",
    "HARBOR LIGHT",
    "SILVER BIRCH",
    "RED FERN",
    "OTTER CREEK",
    "LARKSPUR",
];
const TRADES: &[&str] = &[
    "BAKERY",
    "CAFE",
    "HARDWARE",
    "BOOKS",
    "FLORIST",
    "BISTRO",
    "CYCLES",
    "PET SUPPLY",
    "TAILORS",
    "MARKET",
    "PHARMACY",
    "OUTFITTERS",
];
const STREETS: &[&str] = &[
    "WILLOWBROOK",
    "QUARRY",
    "TANNER",
    "ORCHARD",
    "LOOKOUT",
    "MILLRACE",
    "BRAMBLE",
    "FOXGLOVE",
];
const TOWNS: &[&str] = &[
    "FERNDALE HOLLOW",
    "EASTMERE",
    "PINECREST FALLS",
    "ASHBURY",
    "CLEARWATER BEND",
    "MOSSVALE",
];

fn merchant(rng: &mut Rng) -> Merchant {
    let suffix = *rng.pick(&["LLC", "INC", "CO"]);
    let name = format!("{} {} {suffix}", rng.pick(NAMES), rng.pick(TRADES));
    let street = format!(
        "{} {} {}",
        rng.range(10, 9899),
        rng.pick(STREETS),
        rng.pick(&["ST", "AVE", "RD", "LN"])
    );
    let city = format!(
        "{}, {} {:05}",
        rng.pick(TOWNS),
        rng.pick(&["OR", "VT", "ME", "MT", "NM"]),
        rng.range(10000, 99999)
    );
    // Leading 9s keep the invented numbers out of the ranges processors hand out.
    let digits = (0..16)
        .map(|i| {
            if i < 2 {
                '9'
            } else {
                char::from(b'0' + rng.range(0, 9) as u8)
            }
        })
        .collect();
    Merchant {
        name,
        street,
        city,
        digits,
        year: rng.range(2024, 2026) as u32,
        month: rng.range(1, 12) as u32,
    }
}

/// A merchant and their month of card activity (cards with no sales left out).
pub(crate) struct Business {
    pub merchant: Merchant,
    pub cards: Vec<(Card, Sales)>,
}

impl Business {
    pub fn sales(&self, card: Card) -> Sales {
        self.cards
            .iter()
            .filter(|(c, _)| *c == card)
            .fold(Sales::default(), |sum, (_, s)| sum.plus(*s))
    }

    pub fn has(&self, card: Card) -> bool {
        self.cards.iter().any(|(c, _)| *c == card)
    }

    pub fn total(&self) -> Sales {
        self.cards
            .iter()
            .fold(Sales::default(), |sum, (_, s)| sum.plus(*s))
    }

    /// Sales of one network, credit and debit together.
    pub fn network_sales(&self, network: Network) -> Sales {
        self.cards
            .iter()
            .filter(|(c, _)| c.network() == Some(network))
            .fold(Sales::default(), |sum, (_, s)| sum.plus(*s))
    }
}

/// A month of activity. `only` limits it to one kind of card (an Amex statement); `zero`
/// gives none at all.
pub(crate) fn business(rng: &mut Rng, only: Option<Card>, zero: bool) -> Business {
    let merchant = merchant(rng);
    let ticket = rng.range(1200, 9500);
    let mut cards = Vec::new();
    for card in Card::ALL {
        let (percent, lo, hi) = card.profile();
        let wanted = match only {
            Some(only) => card == only,
            None => card == Card::VisaCredit || rng.chance(percent),
        };
        if !wanted || zero {
            continue;
        }
        let count = rng.range(lo, hi);
        // Average ticket within ±40% of the merchant's, plus a few stray cents.
        let avg = ticket * rng.range(60, 140) / 100;
        let amount = count * avg + rng.range(0, count);
        let refund_count = rng.range(0, count / 40);
        let refund_amount = refund_count * avg * rng.range(50, 150) / 100;
        cards.push((
            card,
            Sales {
                count,
                amount: dollars(amount),
                refund_count,
                refund_amount: dollars(refund_amount),
            },
        ));
    }
    Business { merchant, cards }
}

/// What a fee was computed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Basis {
    Flat,
    Items {
        count: u64,
        per_item: Decimal,
    },
    Volume {
        volume: Decimal,
        rate: Decimal,
    },
    /// Interchange: both.
    Both {
        count: u64,
        volume: Decimal,
        rate: Decimal,
        per_item: Decimal,
    },
}

/// Where a fee sits on a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Group {
    /// Interchange of a card network, with its program.
    Interchange(Network),
    /// A card network's own fees (assessment, per-item network fees).
    Network(Network),
    /// Other card fees (Amex OptBlue, PIN networks, Amex's own charges).
    OtherCard,
    /// The processor's.
    Processor,
}

/// One fee as charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fee {
    pub name: String,
    pub basis: Basis,
    pub amount: Decimal,
    pub kind: FeeKind,
    pub group: Group,
}

fn d(mantissa: i64, scale: u32) -> Decimal {
    Decimal::new(mantissa, scale)
}

impl Fee {
    pub fn new(name: impl Into<String>, basis: Basis, kind: FeeKind, group: Group) -> Fee {
        let amount = match basis {
            Basis::Flat => Decimal::ZERO,
            Basis::Items { count, per_item } => Decimal::from(count) * per_item,
            Basis::Volume { volume, rate } => volume * rate,
            Basis::Both {
                count,
                volume,
                rate,
                per_item,
            } => Decimal::from(count) * per_item + volume * rate,
        };
        Fee {
            name: name.into(),
            basis,
            amount: round_cents(amount),
            kind,
            group,
        }
    }

    pub fn flat(name: &str, amount: Decimal, group: Group) -> Fee {
        Fee {
            amount,
            ..Fee::new(name, Basis::Flat, FeeKind::Markup, group)
        }
    }
}

/// Interchange programs per card: name, rate, per item (published consumer rates; the card
/// networks' programs are public).
fn programs(card: Card) -> &'static [(&'static str, i64, i64)] {
    match card {
        Card::VisaCredit => &[
            ("CPS RETAIL CREDIT", 151, 10),
            ("TRADITIONAL REWARDS", 165, 10),
            ("SIGNATURE PREFERRED", 210, 10),
            ("CPS CARD NOT PRESENT", 180, 10),
            ("EIRF CREDIT", 230, 10),
            ("NON-QUALIFIED", 315, 10),
        ],
        Card::VisaDebit => &[
            ("CPS RETAIL DEBIT", 80, 15),
            ("REGULATED DEBIT", 5, 22),
            ("CPS SMALL TICKET DEBIT", 155, 4),
            ("CPS RESTAURANT DEBIT", 119, 10),
        ],
        Card::McCredit => &[
            ("MERIT III CORE", 158, 10),
            ("MERIT III ENHANCED", 173, 10),
            ("WORLD MERIT III", 177, 10),
            ("WORLD ELITE MERIT III", 220, 10),
            ("MERIT I KEYED", 189, 10),
        ],
        Card::McDebit => &[
            ("MERIT III DEBIT", 105, 15),
            ("DEBIT REGULATED", 5, 22),
            ("MERIT I DEBIT", 160, 15),
        ],
        Card::DiscoverCredit => &[("RETAIL CREDIT", 156, 10), ("KEY ENTRY CREDIT", 187, 10)],
        Card::DiscoverDebit => &[("RETAIL DEBIT", 110, 16), ("REGULATED DEBIT", 5, 22)],
        Card::Amex | Card::Pin | Card::Ebt => &[],
    }
}

/// `total` split into `parts` positive pieces at random, in order.
pub(crate) fn split(rng: &mut Rng, total: u64, parts: usize) -> Vec<u64> {
    let weights: Vec<u64> = (0..parts).map(|_| rng.range(1, 100)).collect();
    let sum: u64 = weights.iter().sum();
    let spare = total - parts as u64;
    let mut pieces: Vec<u64> = weights.iter().map(|w| 1 + spare * w / sum).collect();
    let given: u64 = pieces.iter().sum();
    if let Some(first) = pieces.first_mut() {
        *first += total - given;
    }
    pieces
}

/// `cents` spread over pieces in proportion to their counts, the last taking what is left.
pub(crate) fn spread(cents: u64, counts: &[u64]) -> Vec<u64> {
    let total: u64 = counts.iter().sum();
    let mut left = cents;
    counts
        .iter()
        .enumerate()
        .map(|(i, count)| {
            let share = if i + 1 == counts.len() {
                left
            } else {
                (cents * count / total.max(1)).min(left)
            };
            left -= share;
            share
        })
        .collect()
}

/// The interchange of one card, over `categories` programs (beyond the named programs, tiers
/// of them: "CPS RETAIL CREDIT TIER 2").
fn interchange(rng: &mut Rng, card: Card, sales: Sales, categories: usize) -> Vec<Fee> {
    let (Some(network), list) = (card.network(), programs(card)) else {
        return Vec::new();
    };
    let categories = categories.clamp(1, sales.count.max(1) as usize);
    let counts = split(rng, sales.count, categories);
    let volumes = spread(cents(sales.amount), &counts);
    counts
        .iter()
        .zip(volumes)
        .enumerate()
        .map(|(i, (&count, share))| {
            let (name, rate_bp, per_item_cents) = list[i % list.len()];
            let name = match i / list.len() {
                0 => name.to_owned(),
                tier => format!("{name} TIER {}", tier + 1),
            };
            Fee::new(
                name,
                Basis::Both {
                    count,
                    volume: dollars(share),
                    rate: d(rate_bp, 4),
                    per_item: d(per_item_cents, 2),
                },
                FeeKind::PassThrough,
                Group::Interchange(network),
            )
        })
        .collect()
}

/// Everything a processing statement charges: interchange per card (`detail` extra programs
/// each), the networks' assessments and per-item fees, Amex OptBlue and PIN network fees, and
/// the processor's own (a discount per network when `discounts`, authorizations, batches,
/// monthly fees).
pub(crate) fn processing_fees(
    rng: &mut Rng,
    business: &Business,
    detail: usize,
    discounts: bool,
) -> Vec<Fee> {
    use FeeKind::{Markup, PassThrough};
    let mut fees = Vec::new();
    for &(card, sales) in &business.cards {
        let categories = 1 + rng.range(1, 4) as usize + detail;
        fees.extend(interchange(rng, card, sales, categories));
    }
    for network in Network::ALL {
        let sales = business.network_sales(network);
        if sales.count == 0 {
            continue;
        }
        let group = Group::Network(network);
        let name = network.name();
        fees.push(Fee::new(
            format!("{name} ASSESSMENT"),
            Basis::Volume {
                volume: sales.amount,
                rate: d(14, 4),
            },
            PassThrough,
            group,
        ));
        let (per_item_name, per_item) = match network {
            Network::Visa => ("APF", d(195, 4)),
            Network::Mastercard => ("NABU", d(195, 4)),
            Network::Discover => ("DATA USAGE", d(195, 4)),
        };
        fees.push(Fee::new(
            format!("{name} {per_item_name}"),
            Basis::Items {
                count: sales.count,
                per_item,
            },
            PassThrough,
            group,
        ));
        if discounts {
            fees.push(Fee::new(
                format!("{name} DISCOUNT"),
                Basis::Volume {
                    volume: sales.amount,
                    rate: d(rng.range(15, 45) as i64, 4),
                },
                Markup,
                Group::Processor,
            ));
        }
    }
    let amex = business.sales(Card::Amex);
    if amex.count > 0 {
        fees.push(Fee::new(
            "AMEX OPTBLUE NETWORK FEE",
            Basis::Volume {
                volume: amex.amount,
                rate: d(15, 4),
            },
            PassThrough,
            Group::OtherCard,
        ));
    }
    let pin = business.sales(Card::Pin);
    if pin.count > 0 {
        fees.push(Fee::new(
            "PIN DEBIT NETWORK FEE",
            Basis::Items {
                count: pin.count,
                per_item: d(rng.range(8, 16) as i64, 2),
            },
            PassThrough,
            Group::OtherCard,
        ));
        fees.push(Fee::new(
            "PIN DEBIT TRANSACTION FEE",
            Basis::Items {
                count: pin.count,
                per_item: d(20, 2),
            },
            Markup,
            Group::Processor,
        ));
    }
    let total = business.total();
    if total.count > 0 {
        let declines = rng.range(0, total.count / 20);
        fees.push(Fee::new(
            "AUTHORIZATION FEE",
            Basis::Items {
                count: total.count + total.refund_count + declines,
                per_item: d(rng.range(5, 15) as i64, 2),
            },
            Markup,
            Group::Processor,
        ));
        fees.push(Fee::new(
            "BATCH FEE",
            Basis::Items {
                count: rng.range(20, 31),
                per_item: d(25, 2),
            },
            Markup,
            Group::Processor,
        ));
    }
    fees.extend(monthly_fees(rng));
    fees
}

/// The flat monthly fees every statement has, activity or not.
pub(crate) fn monthly_fees(rng: &mut Rng) -> Vec<Fee> {
    let mut fees = vec![Fee::flat(
        "MONTHLY SERVICE FEE",
        d(rng.range(5, 15) as i64 * 100 - 5, 2),
        Group::Processor,
    )];
    if rng.chance(70) {
        fees.push(Fee::flat(
            "PCI COMPLIANCE FEE",
            d(1995, 2),
            Group::Processor,
        ));
    }
    if rng.chance(50) {
        fees.push(Fee::flat("STATEMENT FEE", d(500, 2), Group::Processor));
    }
    fees
}
