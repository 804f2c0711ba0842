//! Text features of the matcher: analyzer words and character bigrams.
//!
//! Words come from the shared analyzer (jieba with the domain dictionary, the
//! synonym and abbreviation table), so 危废 in a question meets 危险废物 in an
//! answer. Character bigrams are the safety net for what word segmentation
//! misses: a typo (排污登计) breaks one word but leaves most bigrams of the
//! phrase intact, and colloquial words jieba cuts oddly still share bigrams
//! with the entry's wording.

use greenbridge_search::analyzer;

use crate::variants;

/// Normalised text: NFKC, lower case, traditional characters folded to simplified.
pub fn fold(text: &str) -> String {
    variants::simplify(&analyzer::normalize(text))
}

/// Han character bigrams of `text` (already folded), plus every ASCII
/// letter/digit run as one token (`hw08`, `pm2.5` → `pm2`, `5`).
pub fn bigrams(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut han: Vec<char> = Vec::new();
    let mut code = String::new();
    let flush_han = |han: &mut Vec<char>, out: &mut Vec<String>| {
        if han.len() == 1 {
            out.push(han[0].to_string());
        }
        for pair in han.windows(2) {
            let mut s = String::with_capacity(6);
            s.push(pair[0]);
            s.push(pair[1]);
            out.push(s);
        }
        han.clear();
    };
    for c in text.chars() {
        if is_han(c) {
            if !code.is_empty() {
                out.push(std::mem::take(&mut code));
            }
            han.push(c);
        } else if c.is_ascii_alphanumeric() {
            flush_han(&mut han, &mut out);
            code.push(c);
        } else {
            flush_han(&mut han, &mut out);
            if !code.is_empty() {
                out.push(std::mem::take(&mut code));
            }
        }
    }
    flush_han(&mut han, &mut out);
    if !code.is_empty() {
        out.push(code);
    }
    out
}

/// Index-side words of `text`: the analyzer's search-mode tokens.
pub fn index_words(text: &str) -> Vec<String> {
    analyzer::index_tokens(text)
        .into_iter()
        .map(|t| t.text)
        .collect()
}

/// Han ideographs (the ranges the analyzer treats as Han).
pub fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3007}'
        | '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{2FA1F}'
        | '\u{30000}'..='\u{323AF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_cover_han_runs_and_keep_codes_whole() {
        assert_eq!(bigrams("危废hw08，水"), ["危废", "hw08", "水"]);
        assert_eq!(bigrams("排污许可"), ["排污", "污许", "许可"]);
    }

    #[test]
    fn folding_normalises_width_case_and_traditional_characters() {
        assert_eq!(fold("ＨＷ０８"), "hw08");
        assert_eq!(fold("排污許可的執行報告"), "排污许可的执行报告");
    }
}
