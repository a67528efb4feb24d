//! Numbers and dates as statements print them: "$1,234.56", "(12.34)", "12.34-", "1.95%",
//! ".0195", "01/31/26", "JAN 2026", "January 31, 2026". Exact: no floating point.

use rust_decimal::Decimal;

use crate::text::parse_decimal;

/// One printed number with the marks that tell what kind of figure it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Number {
    /// Signed value; a percentage is kept as printed ("1.95%" is 1.95).
    pub value: Decimal,
    pub dollar: bool,
    pub percent: bool,
    /// Digits after the decimal point (0 when there is no point).
    pub decimals: u32,
}

impl Number {
    /// Parses one cell or token. Accepts an optional "$" and thousands commas, negatives as
    /// "-12.34", "-$12.34", "$-12.34", "(12.34)", "12.34-" or "12.34 CR", a trailing "%" (with
    /// or without a space before it) and a bare leading point (".10").
    pub fn parse(text: &str) -> Option<Number> {
        let mut s = text.trim();
        let mut negative = false;
        if let Some(inner) = s.strip_prefix('(').and_then(|r| r.strip_suffix(')')) {
            negative = true;
            s = inner.trim();
        }
        if let Some(rest) = s.strip_suffix("CR").or_else(|| s.strip_suffix("cr")) {
            negative = true;
            s = rest.trim_end();
        }
        let percent = s.ends_with('%');
        if percent {
            s = s[..s.len() - 1].trim_end();
        }
        if let Some(rest) = s.strip_suffix('-') {
            negative = true;
            s = rest;
        }
        if let Some(rest) = s.strip_prefix('-') {
            negative = true;
            s = rest;
        }
        let dollar = s.starts_with('$');
        if dollar {
            s = &s[1..];
            if let Some(rest) = s.strip_prefix('-') {
                negative = true;
                s = rest;
            }
        }
        if s.is_empty() || (dollar && percent) {
            return None;
        }
        let digits = plain_digits(s)?;
        let value = parse_decimal(&digits).ok()?;
        let decimals = digits.split_once('.').map_or(0, |(_, f)| f.len() as u32);
        Some(Number {
            value: if negative { -value } else { value },
            dollar,
            percent,
            decimals,
        })
    }

    /// A count: digits (and commas) only, not negative.
    pub fn count(&self) -> Option<u64> {
        if self.dollar || self.percent || self.decimals > 0 || self.value.is_sign_negative() {
            return None;
        }
        u64::try_from(self.value).ok()
    }

    /// An amount of money (anything but a percentage), with at least two decimals.
    pub fn money(&self) -> Option<Decimal> {
        (!self.percent).then(|| at_least_cents(self.value))
    }

    /// A money amount printed to the cent, as fee and total columns are ("12.50", "$1,234.00").
    /// Keeps ids, page numbers and counts from passing for amounts.
    pub fn cents(&self) -> Option<Decimal> {
        if self.decimals == 2 {
            self.money()
        } else {
            None
        }
    }

    /// A rate as a fraction: "1.95%" is 0.0195; a bare number is a percentage when the column
    /// says so (`bare_percent`), else already a fraction ("0.0195").
    pub fn rate(&self, bare_percent: bool) -> Option<Decimal> {
        if self.dollar {
            return None;
        }
        let value = if self.percent || bare_percent {
            self.value.checked_div(Decimal::ONE_HUNDRED)?
        } else {
            self.value
        };
        Some(value.normalize())
    }
}

/// "1,234.56" → "1234.56", ".10" → "0.10". Commas must group thousands; anything else that is
/// not a digit or one point refuses.
fn plain_digits(s: &str) -> Option<String> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b',' || b == b'.')
    {
        return None;
    }
    let (int_part, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    let int_part = if int_part.is_empty() && frac.is_some() {
        "0"
    } else {
        int_part
    };
    if int_part.contains(',') {
        let mut groups = int_part.split(',');
        let first = groups.next()?;
        let first_ok = (1..=3).contains(&first.len());
        if !first_ok || groups.any(|g| g.len() != 3) {
            return None;
        }
    }
    let int_digits: String = int_part.chars().filter(|c| *c != ',').collect();
    Some(match frac {
        Some(f) => format!("{int_digits}.{f}"),
        None => int_digits,
    })
}

/// Money keeps at least cents ("1,234" → 1234.00) so amounts print alike.
pub(crate) fn at_least_cents(value: Decimal) -> Decimal {
    let mut value = value;
    if value.scale() < 2 {
        value.rescale(2);
    }
    value
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// A calendar date, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Date {
    year: u32,
    month: u32,
    day: u32,
}

impl Date {
    pub fn new(year: u32, month: u32, day: u32) -> Option<Date> {
        let valid = (1900..=2999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then_some(Date { year, month, day })
    }

    /// "YYYY-MM-DD".
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn month_number(word: &str) -> Option<u32> {
    let upper = word.trim_end_matches(['.', ',']).to_ascii_uppercase();
    let prefix = upper.get(..3)?;
    let index = MONTHS.iter().position(|m| *m == prefix)?;
    // "MAR" or "MARCH", never "MARKET".
    let full = [
        "JANUARY",
        "FEBRUARY",
        "MARCH",
        "APRIL",
        "MAY",
        "JUNE",
        "JULY",
        "AUGUST",
        "SEPTEMBER",
        "OCTOBER",
        "NOVEMBER",
        "DECEMBER",
    ][index];
    (upper.len() == 3 || upper == full || (index == 8 && upper == "SEPT"))
        .then_some(index as u32 + 1)
}

fn year_number(word: &str) -> Option<u32> {
    let word = word.trim_end_matches([',', '.']);
    (word.len() == 4 && word.bytes().all(|b| b.is_ascii_digit()))
        .then(|| word.parse().ok())
        .flatten()
}

/// "01/31/26", "1/31/2026" or "2026-01-31".
fn numeric_date(word: &str) -> Option<Date> {
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    if let [y, m, d] = word.split('-').collect::<Vec<_>>()[..] {
        if y.len() != 4 {
            return None;
        }
        return Date::new(number(y)?, number(m)?, number(d)?);
    }
    let [m, d, y] = word.split('/').collect::<Vec<_>>()[..] else {
        return None;
    };
    let year = match y.len() {
        2 => 2000 + number(y)?,
        4 => number(y)?,
        _ => return None,
    };
    Date::new(year, number(m)?, number(d)?)
}

/// The period a piece of text names: two dates ("01/01/26 - 01/31/26", "January 1, 2026 to
/// January 31, 2026") or one month ("JAN 2026", "January 2026"). `None` when it names
/// neither, or the end is before the start.
pub(crate) fn period(text: &str) -> Option<(Date, Date)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut dates = Vec::new();
    let mut month = None;
    let mut i = 0;
    while i < words.len() && dates.len() < 2 {
        if let Some(date) = numeric_date(words[i]) {
            dates.push(date);
        } else if let Some(m) = month_number(words[i]) {
            let day = words.get(i + 1).and_then(|w| {
                let w = w.trim_end_matches(',');
                (w.len() <= 2).then(|| w.parse::<u32>().ok()).flatten()
            });
            match (day, words.get(i + 2).and_then(|w| year_number(w))) {
                (Some(day), Some(year)) => {
                    dates.push(Date::new(year, m, day)?);
                    i += 2;
                }
                _ => {
                    if let Some(year) = words.get(i + 1).and_then(|w| year_number(w)) {
                        month.get_or_insert((year, m));
                        i += 1;
                    }
                }
            }
        }
        i += 1;
    }
    match (dates.as_slice(), month) {
        ([start, end], _) if start <= end => Some((*start, *end)),
        ([], Some((year, m))) => Some((
            Date::new(year, m, 1)?,
            Date::new(year, m, days_in_month(year, m))?,
        )),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::d;
    use super::*;

    #[test]
    fn money_in_every_printed_form() {
        for (text, value) in [
            ("$1,234.56", "1234.56"),
            ("1,234.56", "1234.56"),
            ("(12.34)", "-12.34"),
            ("($12.34)", "-12.34"),
            ("-12.34", "-12.34"),
            ("-$12.34", "-12.34"),
            ("$-12.34", "-12.34"),
            ("12.34-", "-12.34"),
            ("12.34 CR", "-12.34"),
            ("1,234", "1234.00"),
            ("$0.0195", "0.0195"),
            (".10", "0.10"),
            ("$1,234,567.00", "1234567.00"),
        ] {
            let n = Number::parse(text).unwrap();
            assert_eq!(n.money(), Some(d(value)), "{text}");
            assert_eq!(n.money().unwrap().to_string(), value, "{text}");
        }
        for text in [
            "", "$", "-", "1,23.45", "12,3456", "1.2.3", "abc", "1e5", "$1%", "12 34", "--1",
        ] {
            assert_eq!(Number::parse(text), None, "{text:?}");
        }
    }

    #[test]
    fn counts_cents_and_rates_are_told_apart() {
        let n = |t| Number::parse(t).unwrap();
        assert_eq!(n("1,234").count(), Some(1234));
        assert_eq!(n("1,234.00").count(), None);
        assert_eq!(n("$12").count(), None);
        assert_eq!(n("-3").count(), None);
        assert_eq!(n("12.50").cents(), Some(d("12.50")));
        assert_eq!(n("912345678901").cents(), None);
        assert_eq!(n("0.0195").cents(), None);
        assert_eq!(n("1.95%").rate(false), Some(d("0.0195")));
        assert_eq!(n("2.15 %").rate(false), Some(d("0.0215")));
        assert_eq!(n("0.0195").rate(false), Some(d("0.0195")));
        assert_eq!(n("1.95").rate(true), Some(d("0.0195")));
        assert_eq!(n(".13").rate(true), Some(d("0.0013")));
        assert_eq!(n("$0.10").rate(false), None);
        assert_eq!(n("12%").money(), None);
    }

    #[test]
    fn periods_in_every_printed_form() {
        let p = |t: &str| period(t).map(|(a, b)| (a.iso(), b.iso()));
        let jan = Some(("2026-01-01".to_owned(), "2026-01-31".to_owned()));
        assert_eq!(p("01/01/26 - 01/31/26"), jan);
        assert_eq!(p("01/01/2026 to 01/31/2026"), jan);
        assert_eq!(p("2026-01-01 2026-01-31"), jan);
        assert_eq!(p("January 1, 2026 - January 31, 2026"), jan);
        assert_eq!(p("JAN 2026"), jan);
        assert_eq!(
            p("Feb 2024"),
            Some(("2024-02-01".to_owned(), "2024-02-29".to_owned()))
        );
        assert_eq!(p("Sept 2025").unwrap().1, "2025-09-30");
        assert_eq!(p("02/30/26 - 03/31/26"), None);
        assert_eq!(p("01/31/26 - 01/01/26"), None);
        assert_eq!(p("MARKET 2026"), None);
        assert_eq!(p("nothing here"), None);
    }
}
