//! Code/label enums: one declaration gives a closed set of values, each with the stable code
//! stored in the database and sent over the API, and the Chinese label users read.
//!
//! ```text
//! code_enum! {
//!     /// Where an item stands.
//!     pub enum State {
//!         /// 登记 (第二十一条).
//!         Registered = ("registered", "已登记"),
//!         Accepted = ("accepted", "已受理"),
//!     }
//! }
//! ```
//!
//! generates the enum with `ALL`, `code()`, `label()`, `parse()`, [`Code`], `Display` (the
//! label), `FromStr` and `TryFrom<String>` (the code; an unknown code is an [`UnknownCode`]
//! error, never a silent default — sqlx decodes rows through it with
//! `#[sqlx(try_from = "String")]`), and serde as the code string.

use std::fmt;

/// A closed set of stable codes with Chinese labels (implemented by [`code_enum!`]).
pub trait Code: Sized + Copy + Eq + 'static {
    /// Every value, in declaration order (the order of option lists).
    const ALL: &'static [Self];
    /// What the enum is, in Chinese (信访状态), for messages about an unknown code.
    const WHAT: &'static str;
    /// The stable code (`registered`), as stored and sent.
    fn code(self) -> &'static str;
    /// The Chinese label (已登记).
    fn label(self) -> &'static str;
    /// The value of a code; `None` for an unknown one.
    fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.code() == code)
    }
}

/// A code that names no value of the enum: a stored row or an input this program did not
/// write. Never mapped to a default.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的{what}代码「{code}」")]
pub struct UnknownCode {
    /// The enum's Chinese name ([`Code::WHAT`]).
    pub what: &'static str,
    /// The code as found (cut to 40 characters).
    pub code: String,
}

impl UnknownCode {
    /// The error for `code` of enum `T`.
    pub fn of<T: Code>(code: &str) -> Self {
        Self { what: T::WHAT, code: code.chars().take(40).collect() }
    }
}

/// Parses a code of `T`, or says which enum it is not a code of.
///
/// # Errors
/// [`UnknownCode`] when `code` is not one of `T::ALL`'s codes.
pub fn parse_code<T: Code>(code: &str) -> Result<T, UnknownCode> {
    T::parse(code).ok_or_else(|| UnknownCode::of::<T>(code))
}

/// `('a', 'b', …)`: the codes of the values matching `pick`, as a SQL list literal. Codes are
/// `[a-z0-9_]` by construction (checked by every enum's tests), so the literal is safe.
pub fn sql_list<T: Code>(pick: impl Fn(T) -> bool) -> String {
    let codes: Vec<String> = T::ALL.iter().copied().filter(|v| pick(*v)).map(|v| format!("'{}'", v.code())).collect();
    format!("({})", codes.join(", "))
}

/// Checks the invariants of a code enum: codes are unique, non-empty `[a-z0-9_]`, labels
/// non-empty, and `parse(code(v)) == v`. Every enum's tests call it.
///
/// # Panics
/// When an invariant does not hold (it is a test helper).
pub fn assert_well_formed<T: Code + fmt::Debug>() {
    let mut seen = std::collections::BTreeSet::new();
    for v in T::ALL {
        let c = v.code();
        assert!(!c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'), "{c}");
        assert!(seen.insert(c), "duplicate code {c}");
        assert!(!v.label().is_empty(), "{v:?} has no label");
        assert_eq!(T::parse(c), Some(*v));
    }
}

/// Declares a code/label enum (see the module docs).
#[macro_export]
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = ($code:literal, $label:literal) ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code, as stored and sent.
            pub const fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The Chinese label.
            pub const fn label(self) -> &'static str {
                match self { $($name::$variant => $label),+ }
            }

            /// The value of a code; `None` for an unknown one.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl $crate::code::Code for $name {
            const ALL: &'static [Self] = $name::ALL;
            const WHAT: &'static str = $what;
            fn code(self) -> &'static str { $name::code(self) }
            fn label(self) -> &'static str { $name::label(self) }
            fn parse(code: &str) -> Option<Self> { $name::parse(code) }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.label())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::code::UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::code::parse_code(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::code::UnknownCode;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                $crate::code::parse_code(&s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.code().to_owned()
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.code())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                $crate::code::parse_code(&s).map_err(::serde::de::Error::custom)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::code_enum! {
        /// A test enum.
        enum Colour: "颜色" {
            /// Red.
            Red = ("red", "红"),
            Green = ("green", "绿"),
        }
    }

    #[test]
    fn generated_items() {
        assert_well_formed::<Colour>();
        assert_eq!(Colour::ALL, &[Colour::Red, Colour::Green]);
        assert_eq!(Colour::Green.code(), "green");
        assert_eq!(Colour::Green.to_string(), "绿");
        assert_eq!("red".parse::<Colour>(), Ok(Colour::Red));
        let e = Colour::try_from("blue".to_owned()).unwrap_err();
        assert_eq!(e.to_string(), "未知的颜色代码「blue」");
        assert_eq!(serde_json::to_string(&Colour::Red).unwrap(), "\"red\"");
        assert_eq!(serde_json::from_str::<Colour>("\"green\"").unwrap(), Colour::Green);
        assert!(serde_json::from_str::<Colour>("\"x\"").is_err());
        assert_eq!(sql_list::<Colour>(|c| c != Colour::Green), "('red')");
    }
}
