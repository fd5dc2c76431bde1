//! Two private macros that stamp out the boilerplate of the crate's string
//! types: `string_enum!` for closed sets of names (one spelling each, used by
//! `as_str`, `FromStr`, `Display` and serde alike) and `string_value!` for
//! validated string newtypes (serde goes through `parse`). No rules live here.

/// Declares a `Copy` enum whose every variant has exactly one wire spelling.
///
/// Generates `ALL`, `as_str`, `parse`, `Display`, `FromStr` and serde (each
/// variant is renamed to its spelling, which is its snake_case name).
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident as $what:literal {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ::serde::Serialize, ::serde::Deserialize)]
        $vis enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The wire spelling (snake_case).
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// Parses the wire spelling exactly (case-sensitive).
            ///
            /// # Errors
            /// [`ValueError::UnknownVariant`](crate::ValueError::UnknownVariant)
            /// naming the bad value and the allowed set.
            pub fn parse(s: &str) -> Result<Self, $crate::error::ValueError> {
                match s {
                    $($text => Ok(Self::$variant),)+
                    _ => Err($crate::error::ValueError::unknown_variant(
                        $what,
                        s,
                        Self::ALL.iter().map(|v| v.as_str()),
                    )),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::error::ValueError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

/// Implements the common surface of a validated string newtype `$name(String)`
/// whose inherent `parse(&str) -> Result<Self, ValueError>` holds the rules:
/// `as_str`, `into_string`, `Display`, `AsRef<str>`, `FromStr`,
/// `TryFrom<String>`, `TryFrom<&str>`, `From<$name> for String`, and serde
/// that serializes the string and deserializes through `parse`.
macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            /// The (normalized) value.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The (normalized) value, by value.
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::error::ValueError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::error::ValueError;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::error::ValueError;

            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let raw = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(
                    deserializer,
                )?;
                Self::parse(&raw).map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub(crate) use string_enum;
pub(crate) use string_value;
