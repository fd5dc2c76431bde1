//! [`HexColor`]: a `#RRGGBB` colour for projects and environments, either
//! case in, uppercase out ("#3b82f6" → "#3B82F6", as seed 004 shows).

use crate::error::ValueError;
use crate::string_enum::string_value;

/// A `#RRGGBB` colour, stored uppercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HexColor(String);

impl HexColor {
    /// Validates a colour and uppercases its digits.
    ///
    /// # Errors
    /// [`ValueError::Format`] unless the input is `#` and six hex digits.
    pub fn parse(s: &str) -> Result<Self, ValueError> {
        match s.strip_prefix('#') {
            Some(digits) if digits.len() == 6 && digits.chars().all(|c| c.is_ascii_hexdigit()) => {
                Ok(Self(s.to_ascii_uppercase()))
            }
            _ => Err(ValueError::format(
                "color",
                s,
                "it must be '#' followed by six hexadecimal digits, like #3B82F6",
            )),
        }
    }

    /// The red, green and blue components.
    #[must_use]
    pub fn rgb(&self) -> (u8, u8, u8) {
        let channel = |i: usize| {
            self.0
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .unwrap_or(0)
        };
        (channel(1), channel(3), channel(5))
    }
}

string_value!(HexColor);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn colors_are_uppercased() {
        assert_eq!(HexColor::parse("#3b82f6").unwrap(), "#3B82F6");
        assert_eq!(HexColor::parse("#F59E0B").unwrap().as_str(), "#F59E0B");
        assert_eq!(HexColor::parse("#000000").unwrap().rgb(), (0, 0, 0));
        assert_eq!(
            HexColor::parse("#3B82F6").unwrap().rgb(),
            (0x3B, 0x82, 0xF6)
        );
        let c: HexColor = serde_json::from_str("\"#abcdef\"").unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), "\"#ABCDEF\"");
    }

    #[test]
    fn bad_colors_are_refused() {
        for bad in [
            "",
            "#",
            "3B82F6",
            "#3B82F",
            "#3B82F6A",
            "#GGGGGG",
            "# 3B82F",
            "#3b82f６",
            "red",
        ] {
            assert!(HexColor::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            HexColor::parse("red").unwrap_err().to_string(),
            "'red' is not a valid color: it must be '#' followed by six hexadecimal digits, like #3B82F6"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn any_six_hex_digits_parse(digits in "[0-9a-fA-F]{6}") {
            let c = HexColor::parse(&format!("#{digits}")).unwrap();
            prop_assert_eq!(c.as_str(), format!("#{}", digits.to_ascii_uppercase()));
            prop_assert_eq!(HexColor::parse(c.as_str()).unwrap(), c);
        }
    }
}
