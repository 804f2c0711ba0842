//! Text normalisation shared by the parsers.

use unicode_normalization::UnicodeNormalization;

/// NFKC folds what Chinese input methods produce in full-width mode
/// (`９１３１`, `ＨＷ０８`, `（`) into the ASCII people meant, so every parser
/// starts here.
pub(crate) fn nfkc(s: &str) -> String {
    s.nfkc().collect()
}

/// NFKC, trimmed and lower-cased: the form used for case-insensitive matching.
pub(crate) fn fold(s: &str) -> String {
    nfkc(s).trim().to_lowercase()
}

/// NFKC, trimmed and upper-cased: the form of codes such as `HW08`.
pub(crate) fn code_form(s: &str) -> String {
    nfkc(s).trim().to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_letters_and_digits_become_ascii() {
        assert_eq!(nfkc("ＨＷ０８（）"), "HW08()");
    }

    #[test]
    fn fold_trims_and_lower_cases() {
        assert_eq!(fold("\u{3000} ＡbC "), "abc");
    }

    #[test]
    fn code_form_trims_and_upper_cases() {
        assert_eq!(code_form(" hw０８ "), "HW08");
    }
}
