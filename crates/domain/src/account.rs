//! Account input: login names, the password rule and the free-text fields of
//! a registration (contact person, organisation name, address).

use std::fmt;

use serde::Serialize;

use crate::text::nfkc;

/// Longest e-mail address (RFC 5321 path limit minus the angle brackets).
const EMAIL_MAX_LEN: usize = 254;

/// What people log in with: a mainland mobile number or an e-mail address.
///
/// The payloads are newtypes too, so a `LoginName` can only be built by
/// parsing; match on the variant to learn which kind it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum LoginName {
    Mobile(MobileNumber),
    Email(EmailAddress),
}

/// A mainland mobile number: 11 digits starting with 13–19.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MobileNumber(String);

/// An e-mail address, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Why a text is not a login name, mobile number or e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginNameError {
    #[error("请输入11位手机号码或电子邮箱地址")]
    Invalid,
    #[error("请输入11位手机号码")]
    InvalidMobile,
    #[error("请输入有效的电子邮箱地址")]
    InvalidEmail,
}

impl LoginName {
    /// Parses what a user typed in the login or registration form: anything
    /// with an `@` is read as an e-mail address, anything else as a mobile
    /// number. One message covers both, since the field accepts both.
    pub fn parse(input: &str) -> Result<Self, LoginNameError> {
        let parsed = if input.contains('@') || input.contains('＠') {
            EmailAddress::parse(input).map(Self::Email)
        } else {
            MobileNumber::parse(input).map(Self::Mobile)
        };
        parsed.map_err(|_| LoginNameError::Invalid)
    }

    /// The normalised form: 11 digits, or the lower-cased address. Store and
    /// compare this, so `138 1234 5678` and `+86 13812345678` are one account.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Mobile(mobile) => mobile.as_str(),
            Self::Email(email) => email.as_str(),
        }
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LoginName {
    type Err = LoginNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl<'de> serde::Deserialize<'de> for LoginName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl MobileNumber {
    /// Parses a number as people write it: full-width digits, spaces and
    /// dashes (`138-1234-5678`) and a leading `+86` or `0086` are accepted.
    pub fn parse(input: &str) -> Result<Self, LoginNameError> {
        let compact: String = nfkc(input)
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .unwrap_or(&compact);
        let bytes = digits.as_bytes();
        let valid = bytes.len() == 11
            && bytes.iter().all(u8::is_ascii_digit)
            && bytes[0] == b'1'
            && (b'3'..=b'9').contains(&bytes[1]);
        if valid {
            Ok(Self(digits.to_owned()))
        } else {
            Err(LoginNameError::InvalidMobile)
        }
    }
}

string_newtype!(MobileNumber, LoginNameError);

impl EmailAddress {
    /// Parses an address: NFKC, trimmed, lower-cased; one `@` with a
    /// non-empty local part and a dotted domain without empty labels; no
    /// spaces or control characters; at most 254 characters. Deliverability
    /// is proved by the confirmation mail, not here.
    pub fn parse(input: &str) -> Result<Self, LoginNameError> {
        let address = nfkc(input).trim().to_lowercase();
        let valid = address.chars().count() <= EMAIL_MAX_LEN
            && !address.chars().any(|c| c.is_whitespace() || c.is_control())
            && match address.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && domain.split('.').all(|label| !label.is_empty())
                }
                None => false,
            };
        if valid {
            Ok(Self(address))
        } else {
            Err(LoginNameError::InvalidEmail)
        }
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(local, _)| local)
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, domain)| domain)
    }
}

string_newtype!(EmailAddress, LoginNameError);

/// The password rule. Lengths count characters, not bytes, so a password in
/// Chinese is measured as people see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordPolicy {
    pub min_chars: usize,
    pub max_chars: usize,
    /// How many of the four classes (lower case, upper case, digit, other)
    /// must occur.
    pub min_classes: usize,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_chars: 10,
            max_chars: 128,
            min_classes: 3,
        }
    }
}

/// Why a password is refused; each message names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("密码至少需要{min}个字符")]
    TooShort { min: usize },
    #[error("密码不能超过{max}个字符")]
    TooLong { max: usize },
    #[error("密码需包含小写字母、大写字母、数字和其他符号中的至少{min}类")]
    TooFewClasses { min: usize },
    #[error("密码不能包含登录名（手机号码或电子邮箱）")]
    ContainsLoginName,
}

impl PasswordPolicy {
    /// Checks `password` for an account that logs in as `login` (as typed or
    /// normalised). The password itself is not normalised: it is hashed as
    /// typed.
    pub fn check(&self, password: &str, login: &str) -> Result<(), PasswordError> {
        let length = password.chars().count();
        if length < self.min_chars {
            return Err(PasswordError::TooShort {
                min: self.min_chars,
            });
        }
        if length > self.max_chars {
            return Err(PasswordError::TooLong {
                max: self.max_chars,
            });
        }
        let has = |test: fn(char) -> bool| password.chars().any(test);
        let classes = [
            has(char::is_lowercase),
            has(char::is_uppercase),
            has(|c| c.is_ascii_digit()),
            has(|c| !c.is_lowercase() && !c.is_uppercase() && !c.is_ascii_digit()),
        ]
        .into_iter()
        .filter(|&present| present)
        .count();
        if classes < self.min_classes {
            return Err(PasswordError::TooFewClasses {
                min: self.min_classes,
            });
        }
        let password = password.to_lowercase();
        if login_forms(login)
            .iter()
            .any(|form| password.contains(form.as_str()))
        {
            return Err(PasswordError::ContainsLoginName);
        }
        Ok(())
    }
}

/// Checks `password` against the default [`PasswordPolicy`]: at least 10 and
/// at most 128 characters, three of four character classes, and not
/// containing the login name.
pub fn check_password(password: &str, login: &str) -> Result<(), PasswordError> {
    PasswordPolicy::default().check(password, login)
}

/// The lower-cased strings a password must not contain for `login`: the
/// login as given, its normalised form, and for an e-mail address the local
/// part when it is long enough to be more than a coincidence (≥ 4 chars).
fn login_forms(login: &str) -> Vec<String> {
    let mut forms = vec![login.trim().to_lowercase()];
    match LoginName::parse(login) {
        Ok(LoginName::Mobile(mobile)) => forms.push(mobile.0),
        Ok(LoginName::Email(email)) => {
            if email.local_part().chars().count() >= 4 {
                forms.push(email.local_part().to_owned());
            }
            forms.push(email.0);
        }
        Err(_) => {}
    }
    forms.retain(|form| !form.is_empty());
    forms
}

/// Why a free-text field is refused. `field` is the field's name on the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextFieldError {
    #[error("请填写{field}")]
    Empty { field: &'static str },
    #[error("{field}至少需要{min}个字")]
    TooShort { field: &'static str, min: usize },
    #[error("{field}不能超过{max}个字")]
    TooLong { field: &'static str, max: usize },
    #[error("{field}含有不可见的控制字符，请删除后重新填写")]
    ControlCharacter { field: &'static str },
}

/// Cleans a one-line text field: NFKC (full-width letters and spaces from
/// Chinese input methods become ASCII), trimmed, inner runs of whitespace
/// collapsed to one space (so names compare equal however they were typed),
/// no control characters, between `min` and `max` characters.
fn clean_text(
    input: &str,
    field: &'static str,
    min: usize,
    max: usize,
) -> Result<String, TextFieldError> {
    let normalised = nfkc(input);
    if normalised
        .chars()
        .any(|c| c.is_control() && !c.is_whitespace())
        || normalised.trim().contains(['\n', '\r'])
    {
        return Err(TextFieldError::ControlCharacter { field });
    }
    let text = normalised.split_whitespace().collect::<Vec<_>>().join(" ");
    let length = text.chars().count();
    if length == 0 {
        Err(TextFieldError::Empty { field })
    } else if length < min {
        Err(TextFieldError::TooShort { field, min })
    } else if length > max {
        Err(TextFieldError::TooLong { field, max })
    } else {
        Ok(text)
    }
}

/// A contact person's name: 1–50 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 50;

    pub fn parse(input: &str) -> Result<Self, TextFieldError> {
        clean_text(input, "联系人姓名", 1, Self::MAX_CHARS).map(Self)
    }
}

string_newtype!(PersonName, TextFieldError);

/// An organisation's name: 2–100 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgName(String);

impl OrgName {
    pub const MIN_CHARS: usize = 2;
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, TextFieldError> {
        clean_text(input, "单位名称", Self::MIN_CHARS, Self::MAX_CHARS).map(Self)
    }
}

string_newtype!(OrgName, TextFieldError);

/// A postal address: 1–200 characters on one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(String);

impl Address {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, TextFieldError> {
        clean_text(input, "地址", 1, Self::MAX_CHARS).map(Self)
    }
}

string_newtype!(Address, TextFieldError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mobile_numbers_are_normalised_to_eleven_digits() {
        for input in [
            "13812345678",
            " 138 1234 5678 ",
            "138-1234-5678",
            "+86 138 1234 5678",
            "008613812345678",
            "１３８１２３４５６７８",
        ] {
            let login = LoginName::parse(input).unwrap();
            assert!(matches!(login, LoginName::Mobile(_)), "{input}");
            assert_eq!(login.as_str(), "13812345678", "{input}");
        }
    }

    #[test]
    fn numbers_that_are_not_mainland_mobiles_are_refused() {
        for input in [
            "12812345678",
            "1381234567",
            "138123456789",
            "021-59998885",
            "",
            "abc",
        ] {
            assert_eq!(
                LoginName::parse(input),
                Err(LoginNameError::Invalid),
                "{input}"
            );
        }
        assert_eq!(
            LoginNameError::Invalid.to_string(),
            "请输入11位手机号码或电子邮箱地址"
        );
    }

    #[test]
    fn email_addresses_are_trimmed_and_lower_cased() {
        let login = LoginName::parse("  Zhang.San@Example.COM ").unwrap();
        assert_eq!(login.as_str(), "zhang.san@example.com");
        let LoginName::Email(email) = LoginName::parse("ｗａｎｇ＠example.cn").unwrap() else {
            panic!("expected an e-mail address");
        };
        assert_eq!(email.as_str(), "wang@example.cn");
        assert_eq!(email.local_part(), "wang");
        assert_eq!(email.domain(), "example.cn");
    }

    #[test]
    fn malformed_email_addresses_are_refused() {
        let too_long = format!("{}@example.com", "a".repeat(250));
        for input in [
            "@example.com",
            "a@b@example.com",
            "a@localhost",
            "a@example..com",
            "a@.example.com",
            "a b@example.com",
            too_long.as_str(),
        ] {
            assert_eq!(
                LoginName::parse(input),
                Err(LoginNameError::Invalid),
                "{input}"
            );
            assert_eq!(
                EmailAddress::parse(input),
                Err(LoginNameError::InvalidEmail)
            );
        }
    }

    #[test]
    fn login_names_serialise_as_their_normalised_form() {
        let login = LoginName::parse("138 1234 5678").unwrap();
        assert_eq!(serde_json::to_value(&login).unwrap(), "13812345678");
        let back: LoginName = serde_json::from_str("\"A@Example.com\"").unwrap();
        assert_eq!(back.as_str(), "a@example.com");
    }

    #[test]
    fn a_strong_password_is_accepted() {
        assert_eq!(check_password("Lvqiao-2026!", "13812345678"), Ok(()));
        assert_eq!(check_password("绿桥平台Green2026", "a@example.com"), Ok(()));
    }

    #[test]
    fn short_passwords_are_measured_in_characters() {
        assert_eq!(
            check_password("Ab1!Ab1!x", "a@example.com"),
            Err(PasswordError::TooShort { min: 10 })
        );
        // Nine Chinese characters are 27 bytes but still too short.
        assert_eq!(
            check_password("绿桥绿桥绿桥绿A1", "a@example.com"),
            Err(PasswordError::TooShort { min: 10 })
        );
        assert_eq!(
            PasswordError::TooShort { min: 10 }.to_string(),
            "密码至少需要10个字符"
        );
    }

    #[test]
    fn overlong_passwords_are_refused() {
        let long = format!("Aa1!{}", "x".repeat(125));
        assert_eq!(
            check_password(&long, "a@example.com"),
            Err(PasswordError::TooLong { max: 128 })
        );
    }

    #[test]
    fn passwords_need_three_character_classes() {
        assert_eq!(
            check_password("abcdefghij12", "a@example.com"),
            Err(PasswordError::TooFewClasses { min: 3 })
        );
        assert_eq!(check_password("abcdefghij12!", "a@example.com"), Ok(()));
        assert_eq!(check_password("abcdefghIJ12", "a@example.com"), Ok(()));
    }

    #[test]
    fn passwords_must_not_contain_the_mobile_number() {
        assert_eq!(
            check_password("Pw!13812345678", "138 1234 5678"),
            Err(PasswordError::ContainsLoginName)
        );
    }

    #[test]
    fn passwords_must_not_contain_the_email_or_its_local_part() {
        assert_eq!(
            check_password("Zhangsan@Example.com1", "zhangsan@example.com"),
            Err(PasswordError::ContainsLoginName)
        );
        assert_eq!(
            check_password("My-ZhangSan-2026", "zhangsan@example.com"),
            Err(PasswordError::ContainsLoginName)
        );
        // A local part shorter than four characters is not a reason to refuse.
        assert_eq!(check_password("Abc-Lvqiao-2026", "abc@example.com"), Ok(()));
    }

    #[test]
    fn a_stricter_policy_can_be_configured() {
        let policy = PasswordPolicy {
            min_classes: 4,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            policy.check("abcdefghIJ12", "a@example.com"),
            Err(PasswordError::TooFewClasses { min: 4 })
        );
    }

    #[test]
    fn person_names_are_trimmed_and_limited_to_fifty_characters() {
        assert_eq!(
            PersonName::parse("  张三\u{3000}").unwrap().as_str(),
            "张三"
        );
        assert_eq!(
            PersonName::parse(" "),
            Err(TextFieldError::Empty {
                field: "联系人姓名"
            })
        );
        assert!(PersonName::parse(&"张".repeat(50)).is_ok());
        let err = PersonName::parse(&"张".repeat(51)).unwrap_err();
        assert_eq!(err.to_string(), "联系人姓名不能超过50个字");
    }

    #[test]
    fn organisation_names_are_normalised_and_need_two_characters() {
        let name = OrgName::parse("苏州珩渚固体废物填埋处置有限公司\u{3000}").unwrap();
        assert_eq!(name.as_str(), "苏州珩渚固体废物填埋处置有限公司");
        assert_eq!(
            OrgName::parse("上海ＡＢＣ  环保（集团）").unwrap().as_str(),
            "上海ABC 环保(集团)"
        );
        let err = OrgName::parse("甲").unwrap_err();
        assert_eq!(err.to_string(), "单位名称至少需要2个字");
        assert!(OrgName::parse(&"甲".repeat(101)).is_err());
    }

    #[test]
    fn control_characters_are_refused() {
        for input in ["张\u{0}三", "上海\n公司", "地址\u{7}"] {
            assert!(matches!(
                PersonName::parse(input),
                Err(TextFieldError::ControlCharacter { .. })
            ));
        }
    }

    #[test]
    fn addresses_hold_up_to_two_hundred_characters() {
        let address = Address::parse(" 上海市青浦区公园路2102号 ").unwrap();
        assert_eq!(address.as_str(), "上海市青浦区公园路2102号");
        assert!(Address::parse(&"路".repeat(200)).is_ok());
        assert!(Address::parse(&"路".repeat(201)).is_err());
        assert_eq!(Address::parse("").unwrap_err().to_string(), "请填写地址");
    }
}
