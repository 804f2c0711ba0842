//! The sensitive-word list (`reference/sensitive_words.txt`, data not code): words that
//! send a user's text to a reviewer before it is public. A hit is a reason to look,
//! not a verdict, so the platform flags and never blocks.
//!
//! Plain entries match as substrings after NFKC, lower-casing and removing whitespace
//! (the entry likewise); `re:` entries are regular expressions over the NFKC text.

use crate::text::nfkc;

pub struct SensitiveWords {
    plain: Vec<(String, String)>,
    patterns: Vec<(String, regex::Regex)>,
}

fn squeeze(s: &str) -> String {
    nfkc(s)
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

impl SensitiveWords {
    pub fn embedded() -> &'static SensitiveWords {
        static WORDS: std::sync::OnceLock<SensitiveWords> = std::sync::OnceLock::new();
        WORDS.get_or_init(|| {
            SensitiveWords::parse(include_str!("../../../reference/sensitive_words.txt"))
        })
    }

    /// Reads the list; an entry whose pattern does not compile is left out (and a test
    /// proves the shipped list has none).
    pub fn parse(text: &str) -> SensitiveWords {
        let mut plain = Vec::new();
        let mut patterns = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(pattern) = line.strip_prefix("re:") {
                if let Ok(re) = regex::Regex::new(pattern) {
                    patterns.push((pattern.to_string(), re));
                }
            } else {
                let key = squeeze(line);
                if !key.is_empty() && !plain.iter().any(|(k, _)| *k == key) {
                    plain.push((key, line.to_string()));
                }
            }
        }
        SensitiveWords { plain, patterns }
    }

    pub fn len(&self) -> usize {
        self.plain.len() + self.patterns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries the text hits, as written in the list (matched text for patterns).
    pub fn hits(&self, text: &str) -> Vec<String> {
        let squeezed = squeeze(text);
        let normal = nfkc(text);
        let mut out: Vec<String> = self
            .plain
            .iter()
            .filter(|(key, _)| squeezed.contains(key.as_str()))
            .map(|(_, word)| word.clone())
            .collect();
        for (_, re) in &self.patterns {
            if let Some(m) = re.find(&normal) {
                out.push(m.as_str().to_string());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_loads_every_entry() {
        let words = SensitiveWords::embedded();
        let raw = include_str!("../../../reference/sensitive_words.txt")
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
            .count();
        assert!(words.len() > 50);
        assert!(words.len() <= raw);
        assert_eq!(words.patterns.len(), 2);
    }

    #[test]
    fn hits_ignore_width_case_and_spaces() {
        let words = SensitiveWords::embedded();
        assert!(!words.hits("详情请加 微信 联系").is_empty());
        assert!(!words.hits("ＱＱ：12345678").is_empty());
        assert!(words.hits("我司需要委托处置废矿物油，请报价。").is_empty());
    }
}
