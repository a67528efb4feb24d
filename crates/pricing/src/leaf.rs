//! The card cells fees are computed on: leaves, the activity types that name one or more of
//! them, and the scopes fee lines apply to.

/// Declares a fieldless enum with its text form, `parse`, `as_str` and `ALL`.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text form (for storage and the API).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the text form exactly (case-sensitive); `None` for anything else.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// The accepted spellings, comma separated, for error messages.
            pub fn choices() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum! {
    /// One of the eight cells a merchant's card activity is kept in. Their order is the order
    /// ties are broken in when volume or items are spread.
    Leaf {
        VisaCredit => "visa_credit",
        VisaCheck => "visa_check",
        MastercardCredit => "mastercard_credit",
        MastercardCheck => "mastercard_check",
        DiscoverCredit => "discover_credit",
        DiscoverCheck => "discover_check",
        Amex => "amex",
        PinDebit => "pin_debit",
    }
}

/// The number of leaves.
pub const LEAF_COUNT: usize = 8;

impl Leaf {
    /// Position in [`Leaf::ALL`], for leaf-indexed arrays.
    pub fn index(self) -> usize {
        match self {
            Leaf::VisaCredit => 0,
            Leaf::VisaCheck => 1,
            Leaf::MastercardCredit => 2,
            Leaf::MastercardCheck => 3,
            Leaf::DiscoverCredit => 4,
            Leaf::DiscoverCheck => 5,
            Leaf::Amex => 6,
            Leaf::PinDebit => 7,
        }
    }

    /// The scope of exactly this leaf.
    pub fn scope(self) -> Scope {
        match self {
            Leaf::VisaCredit => Scope::VisaCredit,
            Leaf::VisaCheck => Scope::VisaCheck,
            Leaf::MastercardCredit => Scope::MastercardCredit,
            Leaf::MastercardCheck => Scope::MastercardCheck,
            Leaf::DiscoverCredit => Scope::DiscoverCredit,
            Leaf::DiscoverCheck => Scope::DiscoverCheck,
            Leaf::Amex => Scope::Amex,
            Leaf::PinDebit => Scope::PinDebit,
        }
    }

    /// Visa, Mastercard and Discover leaves (the "VMD" cards).
    pub fn is_vmd(self) -> bool {
        VMD_LEAVES.contains(&self)
    }
}

pub(crate) const VMD_LEAVES: &[Leaf] = &[
    Leaf::VisaCredit,
    Leaf::VisaCheck,
    Leaf::MastercardCredit,
    Leaf::MastercardCheck,
    Leaf::DiscoverCredit,
    Leaf::DiscoverCheck,
];
const VISA_LEAVES: &[Leaf] = &[Leaf::VisaCredit, Leaf::VisaCheck];
const MASTERCARD_LEAVES: &[Leaf] = &[Leaf::MastercardCredit, Leaf::MastercardCheck];
const DISCOVER_LEAVES: &[Leaf] = &[Leaf::DiscoverCredit, Leaf::DiscoverCheck];

text_enum! {
    /// The merchant activity types of `merchantActivity[].type`. A combined type (`vmd`, `vs`,
    /// `mc`, `ds`) covers several leaves; the others name exactly one.
    ActivityType {
        Vmd => "vmd",
        Vs => "vs",
        VsCredit => "vs_credit",
        VsCheck => "vs_check",
        Mc => "mc",
        McCredit => "mc_credit",
        McCheck => "mc_check",
        Ds => "ds",
        DsCredit => "ds_credit",
        DsCheck => "ds_check",
        Amex => "amex",
        PinDebit => "pin_debit",
    }
}

impl ActivityType {
    /// The leaves this type covers, credit leaf first.
    pub fn leaves(self) -> &'static [Leaf] {
        match self {
            ActivityType::Vmd => VMD_LEAVES,
            ActivityType::Vs => VISA_LEAVES,
            ActivityType::VsCredit => &[Leaf::VisaCredit],
            ActivityType::VsCheck => &[Leaf::VisaCheck],
            ActivityType::Mc => MASTERCARD_LEAVES,
            ActivityType::McCredit => &[Leaf::MastercardCredit],
            ActivityType::McCheck => &[Leaf::MastercardCheck],
            ActivityType::Ds => DISCOVER_LEAVES,
            ActivityType::DsCredit => &[Leaf::DiscoverCredit],
            ActivityType::DsCheck => &[Leaf::DiscoverCheck],
            ActivityType::Amex => &[Leaf::Amex],
            ActivityType::PinDebit => &[Leaf::PinDebit],
        }
    }

    /// True for the types that are split over several leaves by the merchant mix.
    pub fn is_combined(self) -> bool {
        self.leaves().len() > 1
    }
}

text_enum! {
    /// The part of a merchant's activity a fee line is computed on.
    Scope {
        Vmd => "vmd",
        Visa => "visa",
        VisaCredit => "visa_credit",
        VisaCheck => "visa_check",
        Mastercard => "mastercard",
        MastercardCredit => "mastercard_credit",
        MastercardCheck => "mastercard_check",
        Discover => "discover",
        DiscoverCredit => "discover_credit",
        DiscoverCheck => "discover_check",
        Amex => "amex",
        PinDebit => "pin_debit",
        All => "all",
    }
}

impl Scope {
    /// The leaves this scope adds up.
    pub fn leaves(self) -> &'static [Leaf] {
        match self {
            Scope::Vmd => VMD_LEAVES,
            Scope::Visa => VISA_LEAVES,
            Scope::VisaCredit => &[Leaf::VisaCredit],
            Scope::VisaCheck => &[Leaf::VisaCheck],
            Scope::Mastercard => MASTERCARD_LEAVES,
            Scope::MastercardCredit => &[Leaf::MastercardCredit],
            Scope::MastercardCheck => &[Leaf::MastercardCheck],
            Scope::Discover => DISCOVER_LEAVES,
            Scope::DiscoverCredit => &[Leaf::DiscoverCredit],
            Scope::DiscoverCheck => &[Leaf::DiscoverCheck],
            Scope::Amex => &[Leaf::Amex],
            Scope::PinDebit => &[Leaf::PinDebit],
            Scope::All => Leaf::ALL,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_round_trip_and_refuse_unknowns() {
        for leaf in Leaf::ALL {
            assert_eq!(Leaf::parse(leaf.as_str()), Some(*leaf));
        }
        for ty in ActivityType::ALL {
            assert_eq!(ActivityType::parse(ty.as_str()), Some(*ty));
        }
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(*scope));
        }
        assert_eq!(ActivityType::ALL.len(), 12);
        assert_eq!(Leaf::ALL.len(), LEAF_COUNT);
        assert_eq!(Scope::ALL.len(), 13);
        assert_eq!(ActivityType::parse("VS"), None);
        assert_eq!(ActivityType::parse("visa"), None);
        assert_eq!(Scope::parse(""), None);
        assert_eq!(ActivityType::choices().split(", ").count(), 12);
    }

    #[test]
    fn leaf_indexes_follow_all() {
        for (i, leaf) in Leaf::ALL.iter().enumerate() {
            assert_eq!(leaf.index(), i);
        }
    }

    #[test]
    fn activity_types_cover_the_seed_leaves() {
        use ActivityType as T;
        assert_eq!(T::Vmd.leaves().len(), 6);
        assert!(T::Vmd.leaves().iter().all(|l| l.is_vmd()));
        assert_eq!(T::Vs.leaves(), &[Leaf::VisaCredit, Leaf::VisaCheck]);
        assert_eq!(
            T::Mc.leaves(),
            &[Leaf::MastercardCredit, Leaf::MastercardCheck]
        );
        assert_eq!(T::Ds.leaves(), &[Leaf::DiscoverCredit, Leaf::DiscoverCheck]);
        assert_eq!(T::VsCheck.leaves(), &[Leaf::VisaCheck]);
        assert_eq!(T::Amex.leaves(), &[Leaf::Amex]);
        assert_eq!(T::PinDebit.leaves(), &[Leaf::PinDebit]);
        let combined: Vec<_> = T::ALL.iter().filter(|t| t.is_combined()).collect();
        assert_eq!(combined, [&T::Vmd, &T::Vs, &T::Mc, &T::Ds]);
        assert!(!Leaf::Amex.is_vmd() && !Leaf::PinDebit.is_vmd());
    }

    #[test]
    fn scopes_add_up_the_right_leaves() {
        assert_eq!(Scope::All.leaves(), Leaf::ALL);
        assert_eq!(Scope::Vmd.leaves(), ActivityType::Vmd.leaves());
        assert_eq!(Scope::Mastercard.leaves(), ActivityType::Mc.leaves());
        assert_eq!(Scope::DiscoverCheck.leaves(), &[Leaf::DiscoverCheck]);
        // Every single-leaf scope is named after its leaf.
        for leaf in Leaf::ALL {
            assert_eq!(leaf.scope().leaves(), &[*leaf]);
            assert_eq!(leaf.scope().as_str(), leaf.as_str());
        }
    }
}
