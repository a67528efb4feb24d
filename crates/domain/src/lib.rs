//! Quittance's domain: pure types and rules with no I/O.
//!
//! Money is integer minor units parsed exactly from decimal text; ids are typed and prefixed;
//! validation failures name the field at fault.

/// Declares a status enum with its wire spelling, `parse`, `as_str` and the list of choices.
macro_rules! status_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Parses `text` for `field`, refusing anything else with the accepted spellings.
            pub fn parse_field(field: &str, text: &str) -> Result<Self, $crate::FieldError> {
                Self::parse(text)
                    .ok_or_else(|| $crate::FieldError::new(field, format!("must be one of {}", Self::choices())))
            }

            /// The accepted spellings, for error messages: `active, closed`.
            pub fn choices() -> String {
                Self::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
            }
        }
    };
}

pub mod clock;
pub mod events;
pub mod field;
pub mod ids;
pub mod import;
pub mod instruments;
pub mod money;
pub mod payments;
pub mod plans;
pub mod receivables;
pub mod secret;
pub mod webhooks;

pub use clock::{Clock, ManualClock, SystemClock};
pub use field::FieldError;
pub use money::{Currency, MinorUnits, MoneyError};
