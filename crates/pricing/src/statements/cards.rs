//! Card-type names and plan codes as statements print them, mapped to activity types
//! (docs/statements.md, "Card types").

use crate::leaf::ActivityType;

/// A card network as far as pricing is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Brand {
    Visa,
    Mastercard,
    Discover,
    Amex,
    PinDebit,
    /// EBT: not card activity a proposal prices.
    Ebt,
}

/// Whether a row says credit or debit, or leaves it open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Funding {
    Credit,
    Debit,
    Unknown,
}

/// What a card-type row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CardClass {
    pub brand: Brand,
    pub funding: Funding,
}

/// Upper case, every run of non-alphanumerics one space, padded with spaces, so
/// `has(" DEBIT ")` matches whole words.
pub(crate) fn words(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_uppercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

fn any_word(padded: &str, list: &[&str]) -> bool {
    list.iter().any(|w| padded.contains(&format!(" {w} ")))
}

fn any_prefix(padded: &str, list: &[&str]) -> bool {
    list.iter().any(|w| padded.contains(&format!(" {w}")))
}

/// TSYS-style two-letter plan codes.
pub(crate) fn plan_code(code: &str) -> Option<CardClass> {
    use Brand::*;
    use Funding::*;
    let (brand, funding) = match code.trim().to_ascii_uppercase().as_str() {
        "VS" | "VB" | "VL" => (Visa, Credit),
        "VD" => (Visa, Debit),
        "MC" | "MB" | "ML" => (Mastercard, Credit),
        "MD" => (Mastercard, Debit),
        // JCB and Diners settle on Discover in the US.
        "DS" | "DZ" | "DJ" | "JC" | "DC" => (Discover, Credit),
        "DD" => (Discover, Debit),
        "AM" => (Amex, Unknown),
        "DB" => (PinDebit, Unknown),
        "EB" => (Ebt, Unknown),
        _ => return None,
    };
    Some(CardClass { brand, funding })
}

/// A card product on an American Express statement ("CONSUMER", "CORPORATE"): all Amex.
pub(crate) fn amex_product(_: &str) -> Option<CardClass> {
    Some(CardClass {
        brand: Brand::Amex,
        funding: Funding::Unknown,
    })
}

/// A card type printed by name: "VISA", "VISADEBITCAP", "MC DEBIT", "AMEX ACQ", "DEBIT/ATM",
/// "EBT", "Discover"... `None` for a name that is no card type we know.
pub(crate) fn card_name(name: &str) -> Option<CardClass> {
    let w = words(name);
    let brand = if any_word(&w, &["EBT", "SNAP"]) {
        Brand::Ebt
    } else if any_prefix(&w, &["VISA"]) || any_word(&w, &["VI", "VS"]) {
        Brand::Visa
    } else if any_prefix(&w, &["MASTERCARD", "MC"]) {
        Brand::Mastercard
    } else if any_prefix(&w, &["DISCOVER", "DCVR"]) || any_word(&w, &["JCB", "DINERS"]) {
        Brand::Discover
    } else if any_prefix(&w, &["AMEX", "AMERICAN EXPRESS"]) || any_word(&w, &["AM"]) {
        Brand::Amex
    } else if any_word(
        &w,
        &[
            "PIN",
            "ATM",
            "DEBIT",
            "DB",
            "STAR",
            "PULSE",
            "NYCE",
            "ACCEL",
            "INTERLINK",
            "MAESTRO",
            "SHAZAM",
            "CU24",
            "AFFN",
        ],
    ) {
        Brand::PinDebit
    } else {
        return None;
    };
    let funding = match brand {
        Brand::Visa | Brand::Mastercard | Brand::Discover => funding(&w),
        Brand::Amex | Brand::PinDebit | Brand::Ebt => Funding::Unknown,
    };
    Some(CardClass { brand, funding })
}

/// Debit markers anywhere in the name ("VISADEBITCAP", "VS OFLN DB", "MERIT III DEBIT",
/// "REGULATED"); credit markers ("CREDIT", "BUSINESS", "JCB"); otherwise open.
fn funding(w: &str) -> Funding {
    let debit = ["DEBIT", "PREPAID", "REGULATED", "DURBIN", "CHECK"];
    if debit.iter().any(|m| w.contains(m)) || any_word(w, &["DB", "DD", "VD", "MD", "CHK"]) {
        Funding::Debit
    } else if any_word(
        w,
        &[
            "CREDIT",
            "CR",
            "BUSINESS",
            "COMMERCIAL",
            "CORPORATE",
            "JCB",
            "DINERS",
        ],
    ) {
        Funding::Credit
    } else {
        Funding::Unknown
    }
}

/// The activity type of a row. An open funding is credit when the same statement has a debit
/// row of the brand (it split them), else the brand's combined type.
pub(crate) fn activity_type(class: CardClass, brand_has_debit: bool) -> Option<ActivityType> {
    use ActivityType as T;
    let funding = match class.funding {
        Funding::Unknown if brand_has_debit => Funding::Credit,
        f => f,
    };
    Some(match (class.brand, funding) {
        (Brand::Visa, Funding::Credit) => T::VsCredit,
        (Brand::Visa, Funding::Debit) => T::VsCheck,
        (Brand::Visa, Funding::Unknown) => T::Vs,
        (Brand::Mastercard, Funding::Credit) => T::McCredit,
        (Brand::Mastercard, Funding::Debit) => T::McCheck,
        (Brand::Mastercard, Funding::Unknown) => T::Mc,
        (Brand::Discover, Funding::Credit) => T::DsCredit,
        (Brand::Discover, Funding::Debit) => T::DsCheck,
        (Brand::Discover, Funding::Unknown) => T::Ds,
        (Brand::Amex, _) => T::Amex,
        (Brand::PinDebit, _) => T::PinDebit,
        (Brand::Ebt, _) => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use ActivityType as T;

    fn ty(name: &str, brand_has_debit: bool) -> Option<ActivityType> {
        activity_type(card_name(name)?, brand_has_debit)
    }

    #[test]
    fn names_map_per_the_reference_table() {
        for (name, expected) in [
            ("VISA DEBIT", T::VsCheck),
            ("VISADEBIT", T::VsCheck),
            ("VISADEBITCAP", T::VsCheck),
            ("VS OFLN DB", T::VsCheck),
            ("VISA PREPAID", T::VsCheck),
            ("VI-REGULATED", T::VsCheck),
            ("VISA BUSINESS", T::VsCredit),
            ("MC DEBIT", T::McCheck),
            ("MCDEBIT", T::McCheck),
            ("MCDEBITCAP", T::McCheck),
            ("MASTERCARD (DB)", T::McCheck),
            ("MC COMMERCIAL", T::McCredit),
            ("DISCOVER DEBIT", T::DsCheck),
            ("JCB", T::DsCredit),
            ("DINERS CLUB", T::DsCredit),
            ("AMEX ACQ", T::Amex),
            ("AMEXOPTBLUE", T::Amex),
            ("American Express", T::Amex),
            ("DEBIT/ATM", T::PinDebit),
            ("PIN Debit", T::PinDebit),
            ("STAR", T::PinDebit),
            ("INTERLINK", T::PinDebit),
        ] {
            assert_eq!(ty(name, false), Some(expected), "{name}");
        }
        assert_eq!(card_name("EBT").unwrap().brand, Brand::Ebt);
        assert_eq!(ty("EBT", false), None);
        assert_eq!(card_name("GIFT CARD"), None);
        assert_eq!(card_name("TOTAL"), None);
    }

    #[test]
    fn a_plain_brand_row_is_credit_only_beside_a_debit_row() {
        assert_eq!(ty("VISA", false), Some(T::Vs));
        assert_eq!(ty("VISA", true), Some(T::VsCredit));
        assert_eq!(ty("MASTERCARD", false), Some(T::Mc));
        assert_eq!(ty("Discover", true), Some(T::DsCredit));
    }

    #[test]
    fn plan_codes() {
        let code = |c| activity_type(plan_code(c).unwrap(), false).unwrap();
        assert_eq!(code("VS"), T::VsCredit);
        assert_eq!(code("VB"), T::VsCredit);
        assert_eq!(code("VD"), T::VsCheck);
        assert_eq!(code("MD"), T::McCheck);
        assert_eq!(code("DZ"), T::DsCredit);
        assert_eq!(code("DD"), T::DsCheck);
        assert_eq!(code("AM"), T::Amex);
        assert_eq!(code("DB"), T::PinDebit);
        assert_eq!(plan_code("EB").unwrap().brand, Brand::Ebt);
        assert_eq!(plan_code("ZZ"), None);
    }
}
