//! Homophone repair of typed questions.
//!
//! Nearly every typo in a Chinese question comes from a pinyin input method: the
//! user picked a character that sounds like the one meant (排污登计 for 排污登记,
//! 青埔 for 青浦, 危费 for 危废). Such a pair of characters is usually unknown to
//! the base, while a word of the base sounds the same. The matcher therefore
//! offers, for a character pair the base never uses, the two-character words of
//! the base that share its toneless reading and differ from it in one character,
//! as a discounted alternative. Pairs the base knows are left alone:
//! a correct word is never "repaired" into another one.

use std::collections::HashMap;

use pinyin::ToPinyin;

use crate::text::is_han;

/// The two-character words of the base, by toneless reading (`deng ji`).
#[derive(Debug, Default)]
pub struct Homophones {
    by_sound: HashMap<String, Vec<(String, u32)>>,
}

impl Homophones {
    /// Collects `words` (the word vocabulary of the base) that are two Han
    /// characters and also a bigram of `grams` (whose id is kept).
    pub fn new<'a>(
        words: impl Iterator<Item = &'a String>,
        grams: &HashMap<String, u32>,
    ) -> Homophones {
        let mut by_sound: HashMap<String, Vec<(String, u32)>> = HashMap::new();
        for word in words {
            let mut chars = word.chars();
            let (Some(a), Some(b), None) = (chars.next(), chars.next(), chars.next()) else {
                continue;
            };
            if !is_han(a) || !is_han(b) {
                continue;
            }
            let Some(&id) = grams.get(word.as_str()) else {
                continue;
            };
            if let Some(sound) = sounds(a, b) {
                let list = by_sound.entry(sound).or_default();
                if !list.iter().any(|(w, _)| w == word) {
                    list.push((word.clone(), id));
                }
            }
        }
        for list in by_sound.values_mut() {
            list.sort();
        }
        Homophones { by_sound }
    }

    /// The base's words that sound like `pair` (two Han characters), without
    /// `pair` itself, in a stable order.
    pub fn of(&self, pair: &str) -> Vec<(String, u32)> {
        let mut chars = pair.chars();
        let (Some(a), Some(b), None) = (chars.next(), chars.next(), chars.next()) else {
            return Vec::new();
        };
        let mut out: Vec<(String, u32)> = Vec::new();
        if let Some(sound) = sounds(a, b) {
            for candidate in self.by_sound.get(&sound).into_iter().flatten() {
                // A typo changes one character of a word; a pair whose two
                // characters both differ is another text that happens to sound alike.
                let differing = candidate
                    .0
                    .chars()
                    .zip([a, b])
                    .filter(|(x, y)| x != y)
                    .count();
                if differing == 1 && !out.contains(candidate) {
                    out.push(candidate.clone());
                }
            }
        }
        out
    }
}

/// The toneless common reading of a character. Only the first reading counts:
/// the rare readings of common characters (还 fú, 厂 ān) would make pairs that
/// nobody confuses sound alike.
fn reading(c: char) -> Option<&'static str> {
    c.to_pinyin().map(|p| p.plain())
}

/// The reading of the pair `a b`, as `"a-reading b-reading"`.
fn sounds(a: char, b: char) -> Option<String> {
    Some(format!("{} {}", reading(a)?, reading(b)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn homophones(words: &[&str]) -> Homophones {
        let words: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        let grams: HashMap<String, u32> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u32))
            .collect();
        Homophones::new(words.iter(), &grams)
    }

    #[test]
    fn a_typed_pair_finds_the_word_that_sounds_the_same() {
        let h = homophones(&["登记", "青浦", "危废", "排污"]);
        assert_eq!(h.of("登计"), [("登记".to_string(), 0)]);
        assert_eq!(h.of("青埔"), [("青浦".to_string(), 1)]);
        assert_eq!(h.of("危费"), [("危废".to_string(), 2)]);
        assert!(h.of("水泥").is_empty());
    }

    #[test]
    fn the_word_itself_and_longer_words_are_not_offered() {
        let h = homophones(&["登记", "排污许可"]);
        assert!(h.of("登记").is_empty());
        assert!(h.of("排乌").is_empty());
    }
}
