//! 统一社会信用代码 (unified social credit code), GB 32100-2015.
//!
//! Layout: char 1 the registration authority (`9` = 工商, `1` = 机构编制 …),
//! char 2 the organisation type, chars 3–8 the 6-digit district code of the
//! registering authority, chars 9–17 the organisation code (GB 11714), char 18
//! the check character.

use crate::text::nfkc;

/// Number of characters in a credit code; used by the check and its message.
pub const CREDIT_CODE_LEN: usize = 18;

/// The 31 characters a code may use: digits and capitals without I, O, S, V, Z
/// (they look like 1, 0, 5, U, 2). Their index is the character's value in the
/// check sum. The M matters: without it every value after L maps wrongly.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights of chars 1–17 (3^i mod 31).
const WEIGHTS: [u32; CREDIT_CODE_LEN - 1] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A 统一社会信用代码 that has passed the GB 32100-2015 check: 18 characters of
/// the code alphabet, upper case, with a correct check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreditCode(String);

/// Why a text is not a valid 统一社会信用代码.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    #[error("请填写统一社会信用代码")]
    Empty,
    #[error("统一社会信用代码应为{len}位，现为{found}位", len = CREDIT_CODE_LEN)]
    WrongLength { found: usize },
    /// `position` is 1-based, as people count.
    #[error("第{position}位字符“{character}”不是有效字符")]
    BadCharacter { position: usize, character: char },
    #[error("校验位应为“{expected}”，现为“{found}”，请核对")]
    BadCheckCharacter { expected: char, found: char },
}

impl CreditCode {
    /// Parses user or file input.
    ///
    /// Input is normalised first, because real lists carry codes in full-width
    /// characters, lower case or with stray spaces: NFKC, trim, remove inner
    /// spaces, upper-case. Then length, alphabet and check character are checked.
    pub fn parse(input: &str) -> Result<Self, CreditCodeError> {
        let code: String = nfkc(input)
            .trim()
            .chars()
            .filter(|&c| c != ' ')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.is_empty() {
            return Err(CreditCodeError::Empty);
        }
        let found = code.chars().count();
        if found != CREDIT_CODE_LEN {
            return Err(CreditCodeError::WrongLength { found });
        }
        if let Some((index, character)) =
            code.chars().enumerate().find(|&(_, c)| value(c).is_none())
        {
            return Err(CreditCodeError::BadCharacter {
                position: index + 1,
                character,
            });
        }
        // All characters are ASCII now, so byte slicing is safe.
        let (body, check) = code.split_at(CREDIT_CODE_LEN - 1);
        let expected = check_character(body).expect("body is 17 alphabet characters");
        let found = check.chars().next().expect("one check character");
        if expected != found {
            return Err(CreditCodeError::BadCheckCharacter { expected, found });
        }
        Ok(Self(code))
    }

    /// Chars 3–8: the 6-digit code of the district where the organisation was
    /// registered (a region code, e.g. `310118` 青浦区).
    pub fn district_code(&self) -> &str {
        &self.0[2..8]
    }
}

string_newtype!(CreditCode, CreditCodeError);

/// The check character for the first 17 characters of a code, or `None` if
/// `body` is not 17 characters of the code alphabet.
pub fn check_character(body: &str) -> Option<char> {
    let values: Vec<u32> = body.chars().map(value).collect::<Option<_>>()?;
    if values.len() != WEIGHTS.len() {
        return None;
    }
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    // 31 − (Σ mod 31) lies in 1..=31; 31 stands for 0.
    let check = (31 - sum % 31) % 31;
    Some(char::from(ALPHABET[check as usize]))
}

/// The value of a code character: its index in the alphabet.
fn value(c: char) -> Option<u32> {
    let byte = u8::try_from(c).ok()?;
    ALPHABET.iter().position(|&a| a == byte).map(|i| i as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Codes from shared/data/samples (generated to pass the check).
    const SAMPLE_CODES: &[&str] = &[
        "91310118501207069W",
        "91310118MA0K0XHC1R",
        "91310118MA4J782C2C",
        "91310118MA4T0KWK25",
        "12310112925150748R",
        "12330402520945315K",
        "913101042828227146",
        "9131010723897493XY",
        "91320105MAD9J6P833",
        "91320411MA67XHG37U",
        "91310118MA1N3XGY6B",
        "91310117183673442G",
        "91320509MA8KCF6R56",
    ];

    #[test]
    fn sample_codes_are_accepted() {
        for code in SAMPLE_CODES {
            let parsed = CreditCode::parse(code).unwrap_or_else(|e| panic!("{code}: {e}"));
            assert_eq!(parsed.as_str(), *code);
        }
    }

    #[test]
    fn full_width_input_is_normalised() {
        let code = CreditCode::parse("９１３２０５０９ＭＡ８ＫＣＦ６Ｒ５６").unwrap();
        assert_eq!(code.as_str(), "91320509MA8KCF6R56");
    }

    #[test]
    fn lower_case_input_is_upper_cased() {
        let code = CreditCode::parse("91310118ma1n3xgy6b").unwrap();
        assert_eq!(code.as_str(), "91310118MA1N3XGY6B");
    }

    #[test]
    fn surrounding_and_inner_spaces_are_removed() {
        let code = CreditCode::parse("  9131 0117 1836 7344 2G\u{3000}").unwrap();
        assert_eq!(code.as_str(), "91310117183673442G");
    }

    #[test]
    fn district_code_is_chars_three_to_eight() {
        let code = CreditCode::parse("91320509MA8KCF6R56").unwrap();
        assert_eq!(code.district_code(), "320509");
    }

    #[test]
    fn blank_input_is_empty() {
        assert_eq!(CreditCode::parse(" \u{3000} "), Err(CreditCodeError::Empty));
    }

    #[test]
    fn a_short_code_reports_its_length() {
        let err = CreditCode::parse("91310118MA1N3XGY6").unwrap_err();
        assert_eq!(err, CreditCodeError::WrongLength { found: 17 });
        assert_eq!(err.to_string(), "统一社会信用代码应为18位，现为17位");
    }

    #[test]
    fn letters_outside_the_alphabet_are_reported_with_their_position() {
        let err = CreditCode::parse("9133O421MA8THBC31B").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::BadCharacter {
                position: 5,
                character: 'O'
            }
        );
        assert_eq!(err.to_string(), "第5位字符“O”不是有效字符");
        for bad in ['I', 'S', 'V', 'Z'] {
            let input = format!("91310118MA1N3XGY6{bad}");
            assert!(matches!(
                CreditCode::parse(&input),
                Err(CreditCodeError::BadCharacter { position: 18, .. })
            ));
        }
    }

    #[test]
    fn a_wrong_check_character_names_the_expected_one() {
        let err = CreditCode::parse("91310118MAHQKBLD01").unwrap_err();
        assert_eq!(
            err,
            CreditCodeError::BadCheckCharacter {
                expected: '0',
                found: '1'
            }
        );
        assert_eq!(err.to_string(), "校验位应为“0”，现为“1”，请核对");
        assert!(matches!(
            CreditCode::parse("91310118MA5Q931621"),
            Err(CreditCodeError::BadCheckCharacter { expected: 'H', .. })
        ));
        assert!(matches!(
            CreditCode::parse("91310118MA0N87UF41"),
            Err(CreditCodeError::BadCheckCharacter { expected: 'M', .. })
        ));
    }

    #[test]
    fn serde_uses_the_string_and_checks_on_the_way_in() {
        let code = CreditCode::parse("91310118501207069W").unwrap();
        assert_eq!(
            serde_json::to_string(&code).unwrap(),
            "\"91310118501207069W\""
        );
        let back: CreditCode = serde_json::from_str("\"91310118501207069w\"").unwrap();
        assert_eq!(back, code);
        assert!(serde_json::from_str::<CreditCode>("\"91310118MAHQKBLD01\"").is_err());
    }
}
