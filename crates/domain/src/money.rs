//! Money as integer fen (分), never a float, and the exact reading of the amounts
//! procurement notices write: `1,860,000.00元`, `45万元`, `￥120.000000 万元（人民币）`,
//! `人民币壹佰贰拾万元整（¥1,200,000.00）`, full-width `５２０，０００．００元`,
//! `总价形式报价:1712400.00(元)`. An amount that cannot be read exactly is an error,
//! never a guess: a fraction finer than a fen, two different numbers, or a 大写 text
//! that disagrees with the figures beside it.

use std::fmt;

use crate::text::nfkc;

/// An amount of renminbi in fen (1 yuan = 100 fen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

/// The unit a bare figure is in, when the text does not say (the label may: `预算金额（万元）`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountUnit {
    Yuan,
    /// 万元: 10 000 yuan.
    Wan,
}

impl AmountUnit {
    /// The unit a label announces: `预算金额（万元）` → 万元, anything else yuan.
    pub fn from_label(label: &str) -> AmountUnit {
        if nfkc(label).contains("万元") {
            AmountUnit::Wan
        } else {
            AmountUnit::Yuan
        }
    }

    fn fen_digits(self) -> u32 {
        match self {
            AmountUnit::Yuan => 2,
            AmountUnit::Wan => 6,
        }
    }
}

/// Why an amount text was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("金额为空")]
    Empty,
    #[error("无法识别金额“{0}”")]
    Unreadable(String),
    #[error("金额“{0}”含有多个数字，无法确定")]
    Ambiguous(String),
    #[error("金额“{0}”精确到分以下，无法精确换算")]
    Inexact(String),
    #[error("金额“{0}”的大写与小写不一致")]
    Mismatch(String),
    #[error("金额“{0}”过大")]
    TooLarge(String),
    #[error("金额不能为负数")]
    Negative,
}

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_fen(fen: i64) -> Money {
        Money(fen)
    }

    /// `None` on overflow.
    pub fn from_yuan(yuan: i64) -> Option<Money> {
        yuan.checked_mul(100).map(Money)
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    /// Whole yuan, rounded toward zero (the API gives integer yuan; notices state whole yuan).
    pub fn yuan(self) -> i64 {
        self.0 / 100
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Reads an amount as notices write it; `default_unit` applies to a bare figure.
    pub fn parse(text: &str, default_unit: AmountUnit) -> Result<Money, MoneyError> {
        let normal: String = nfkc(text)
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}')
            .collect();
        if normal.is_empty() {
            return Err(MoneyError::Empty);
        }
        let figures = figure_tokens(&normal);
        let capital = capital_part(&normal);
        let from_capital = match &capital {
            Some(c) => Some(parse_capital(c).ok_or_else(|| MoneyError::Unreadable(text.into()))?),
            None => None,
        };
        let from_figures = match figures.as_slice() {
            [] => None,
            [(token, end)] => {
                if normal[..figures[0].1 - token.len()].ends_with('-') {
                    return Err(MoneyError::Negative);
                }
                let unit = if normal[*end..].starts_with("万") {
                    AmountUnit::Wan
                } else if normal[*end..].starts_with("元") || normal[*end..].starts_with("(元") {
                    AmountUnit::Yuan
                } else {
                    default_unit
                };
                Some(decimal_to_fen(token, unit).map_err(|e| e.with_text(text))?)
            }
            _ => {
                // Several figures may be one number repeated (`¥1,200,000.00（1,200,000.00元）`).
                let values = figures
                    .iter()
                    .map(|(t, _)| decimal_to_fen(t, default_unit))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| e.with_text(text))?;
                if values.windows(2).all(|w| w[0] == w[1]) {
                    Some(values[0])
                } else {
                    return Err(MoneyError::Ambiguous(text.into()));
                }
            }
        };
        match (from_figures, from_capital) {
            (Some(a), Some(b)) if a != b => Err(MoneyError::Mismatch(text.into())),
            (Some(a), _) => Ok(a),
            (None, Some(b)) => Ok(b),
            (None, None) => Err(MoneyError::Unreadable(text.into())),
        }
    }
}

impl MoneyError {
    fn with_text(self, text: &str) -> MoneyError {
        match self {
            MoneyError::Inexact(_) => MoneyError::Inexact(text.into()),
            MoneyError::TooLarge(_) => MoneyError::TooLarge(text.into()),
            MoneyError::Unreadable(_) => MoneyError::Unreadable(text.into()),
            other => other,
        }
    }
}

impl fmt::Display for Money {
    /// `1,200,000.00元` style, for pages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let yuan = abs / 100;
        let fen = abs % 100;
        let digits = yuan.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "{sign}{grouped}.{fen:02}元")
    }
}

/// Decimal figures in the text (`1,200,000.00`, `120.000000`), each with the byte
/// offset just after it. A figure glued to a Chinese ordinal (`合同包1`) still counts:
/// the caller decides what the cell means.
fn figure_tokens(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_digit()
                    || (bytes[i] == b',' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit())
                    || (bytes[i] == b'.' && i + 1 < bytes.len() && bytes[i + 1].is_ascii_digit()))
            {
                i += 1;
            }
            out.push((text[start..i].to_string(), i));
        } else {
            i += 1;
        }
    }
    out
}

/// The exact value of a decimal figure in `unit`, in fen.
fn decimal_to_fen(token: &str, unit: AmountUnit) -> Result<Money, MoneyError> {
    let plain: String = token.chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = match plain.split_once('.') {
        Some((w, f)) => (w, f),
        None => (plain.as_str(), ""),
    };
    if whole.is_empty() || fraction.contains('.') {
        return Err(MoneyError::Unreadable(token.into()));
    }
    let digits = unit.fen_digits() as usize;
    let (kept, dropped) = if fraction.len() > digits {
        fraction.split_at(digits)
    } else {
        (fraction, "")
    };
    if dropped.chars().any(|c| c != '0') {
        return Err(MoneyError::Inexact(token.into()));
    }
    let too_large = || MoneyError::TooLarge(token.into());
    let whole: i64 = whole.parse().map_err(|_| too_large())?;
    let mut kept = kept.to_string();
    while kept.len() < digits {
        kept.push('0');
    }
    let fraction: i64 = if kept.is_empty() {
        0
    } else {
        kept.parse().map_err(|_| too_large())?
    };
    let scale = 10_i64.pow(digits as u32);
    whole
        .checked_mul(scale)
        .and_then(|w| w.checked_add(fraction))
        .map(Money)
        .ok_or_else(too_large)
}

const CAPITAL_DIGITS: [(char, i64); 12] = [
    ('零', 0),
    ('〇', 0),
    ('壹', 1),
    ('贰', 2),
    ('叁', 3),
    ('肆', 4),
    ('伍', 5),
    ('陆', 6),
    ('柒', 7),
    ('捌', 8),
    ('玖', 9),
    ('两', 2),
];

fn capital_digit(c: char) -> Option<i64> {
    CAPITAL_DIGITS
        .iter()
        .find(|(d, _)| *d == c)
        .map(|(_, v)| *v)
}

fn is_capital_char(c: char) -> bool {
    capital_digit(c).is_some() || "拾佰仟万亿元圆角分整正".contains(c)
}

/// The longest run of 大写 characters that holds a digit (or 拾, as in 拾万元).
fn capital_part(text: &str) -> Option<String> {
    let has_value = |s: &str| s.chars().any(|c| capital_digit(c).is_some() || c == '拾');
    let mut best = String::new();
    let mut current = String::new();
    for c in text.chars() {
        if is_capital_char(c) {
            current.push(c);
        } else {
            if has_value(&current) && current.len() > best.len() {
                best = current.clone();
            }
            current.clear();
        }
    }
    if has_value(&current) && current.len() > best.len() {
        best = current;
    }
    (!best.is_empty()).then_some(best)
}

/// 壹佰贰拾万元整 → 120 000 000 fen; 捌拾捌万玖仟贰佰元整; 叁元伍角陆分.
fn parse_capital(text: &str) -> Option<Money> {
    let mut fen: i64 = 0;
    let mut yi_part: i64 = 0; // yuan from the 亿 section
    let mut wan_part: i64 = 0; // yuan from the 万 section
    let mut section: i64 = 0; // yuan below 万
    let mut digit: Option<i64> = None;
    let mut seen_yuan = false;
    for c in text.chars() {
        if let Some(d) = capital_digit(c) {
            // 零 only fills a gap (壹仟零伍); two non-zero digits in a row are no amount.
            if digit.is_some_and(|prev| prev != 0) {
                return None;
            }
            digit = Some(d);
            continue;
        }
        match c {
            '拾' | '佰' | '仟' => {
                let unit = match c {
                    '拾' => 10,
                    '佰' => 100,
                    _ => 1000,
                };
                // 拾万 may omit its 壹.
                let d = digit.take().unwrap_or(1);
                section = section.checked_add(d.checked_mul(unit)?)?;
            }
            '万' => {
                let below = section.checked_add(digit.take().unwrap_or(0))?;
                wan_part = below.checked_mul(10_000)?;
                section = 0;
            }
            '亿' => {
                let below = wan_part
                    .checked_add(section)?
                    .checked_add(digit.take().unwrap_or(0))?;
                yi_part = below.checked_mul(100_000_000)?;
                wan_part = 0;
                section = 0;
            }
            '元' | '圆' => {
                let yuan = yi_part
                    .checked_add(wan_part)?
                    .checked_add(section)?
                    .checked_add(digit.take().unwrap_or(0))?;
                fen = fen.checked_add(yuan.checked_mul(100)?)?;
                yi_part = 0;
                wan_part = 0;
                section = 0;
                seen_yuan = true;
            }
            '角' => fen = fen.checked_add(digit.take()?.checked_mul(10)?)?,
            '分' => fen = fen.checked_add(digit.take()?)?,
            '整' | '正' => {}
            _ => return None,
        }
    }
    // 大写 without 元 (e.g. 壹佰万) is not an amount we read.
    if !seen_yuan || digit.is_some_and(|d| d != 0) || section + wan_part + yi_part != 0 {
        return None;
    }
    Some(Money(fen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AmountUnit::{Wan, Yuan};

    fn yuan(text: &str, unit: AmountUnit) -> i64 {
        let money = Money::parse(text, unit).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(money.fen() % 100, 0, "{text}");
        money.yuan()
    }

    #[test]
    fn the_forms_of_the_sample_notices_are_read_exactly() {
        assert_eq!(yuan("1,860,000.00元", Yuan), 1_860_000);
        assert_eq!(yuan("680000", Yuan), 680_000);
        assert_eq!(yuan("45万元", Yuan), 450_000);
        assert_eq!(yuan("80.00万元", Yuan), 800_000);
        assert_eq!(yuan("￥120.000000 万元（人民币）", Yuan), 1_200_000);
        assert_eq!(yuan("￥9.850000 万元（人民币）", Yuan), 98_500);
        assert_eq!(yuan("￥139.650000 万元（人民币）", Yuan), 1_396_500);
        assert_eq!(
            yuan("人民币壹佰贰拾万元整（¥1,200,000.00）", Yuan),
            1_200_000
        );
        assert_eq!(
            yuan("人民币捌拾捌万玖仟贰佰元整（¥889,200.00）", Yuan),
            889_200
        );
        assert_eq!(yuan("５２０，０００．００元", Yuan), 520_000);
        assert_eq!(yuan("总价形式报价:1712400.00(元)", Yuan), 1_712_400);
        assert_eq!(yuan("113.8万元", Yuan), 1_138_000);
        assert_eq!(yuan("628,000.00元", Yuan), 628_000);
        assert_eq!(yuan("2800000元", Yuan), 2_800_000);
    }

    #[test]
    fn a_bare_figure_takes_the_unit_of_its_label() {
        assert_eq!(AmountUnit::from_label("预算金额（万元）"), Wan);
        assert_eq!(AmountUnit::from_label("预算金额（元）"), Yuan);
        assert_eq!(yuan("186", Wan), 1_860_000);
        assert_eq!(yuan("186", Yuan), 186);
    }

    #[test]
    fn capital_amounts_alone_are_read() {
        assert_eq!(
            Money::parse("壹佰贰拾万元整", Yuan).unwrap().yuan(),
            1_200_000
        );
        assert_eq!(Money::parse("拾万元整", Yuan).unwrap().yuan(), 100_000);
        assert_eq!(Money::parse("壹仟零伍元", Yuan).unwrap().yuan(), 1005);
        assert_eq!(
            Money::parse("壹亿贰仟万元整", Yuan).unwrap().yuan(),
            120_000_000
        );
        assert_eq!(Money::parse("叁元伍角陆分", Yuan).unwrap().fen(), 356);
        assert_eq!(
            Money::parse("壹拾贰万叁仟肆佰伍拾陆元柒角捌分", Yuan)
                .unwrap()
                .fen(),
            12_345_678
        );
    }

    #[test]
    fn fractions_finer_than_a_fen_are_refused_not_rounded() {
        assert!(matches!(
            Money::parse("1.005元", Yuan),
            Err(MoneyError::Inexact(_))
        ));
        assert!(matches!(
            Money::parse("12.3456789万元", Yuan),
            Err(MoneyError::Inexact(_))
        ));
        assert_eq!(
            Money::parse("12.345678万元", Yuan).unwrap().fen(),
            12_345_678
        );
    }

    #[test]
    fn disagreements_and_nonsense_are_errors() {
        assert!(matches!(
            Money::parse("人民币壹佰万元整（¥1,200,000.00）", Yuan),
            Err(MoneyError::Mismatch(_))
        ));
        assert!(matches!(
            Money::parse("100元至200元", Yuan),
            Err(MoneyError::Ambiguous(_))
        ));
        assert!(matches!(
            Money::parse("详见采购文件", Yuan),
            Err(MoneyError::Unreadable(_))
        ));
        assert!(matches!(Money::parse("  ", Yuan), Err(MoneyError::Empty)));
        assert!(matches!(
            Money::parse("-500元", Yuan),
            Err(MoneyError::Negative)
        ));
        assert!(matches!(
            Money::parse("99999999999999999999元", Yuan),
            Err(MoneyError::TooLarge(_))
        ));
    }

    #[test]
    fn money_displays_with_grouping() {
        assert_eq!(Money::from_fen(120_000_000).to_string(), "1,200,000.00元");
        assert_eq!(Money::from_fen(5).to_string(), "0.05元");
    }
}
