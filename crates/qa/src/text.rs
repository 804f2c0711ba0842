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

/// Words that shape a question without saying what it is about: pronouns,
/// particles, the question forms (是不是, 要不要) and the small adverbs of
/// spoken Chinese. "是不是就不用管" in a question must not make an entry that
/// happens to ask "是不是就不用管排污许可" the answer to "是不是就不用管登记".
const FUNCTION_WORDS: &[&str] = &[
    "的",
    "地",
    "得",
    "了",
    "着",
    "过",
    "和",
    "与",
    "及",
    "或",
    "或者",
    "还是",
    "是",
    "在",
    "对",
    "把",
    "被",
    "从",
    "向",
    "给",
    "吗",
    "呢",
    "吧",
    "啊",
    "呀",
    "么",
    "嘛",
    "啦",
    "怎么",
    "怎样",
    "怎么办",
    "如何",
    "什么",
    "啥",
    "哪",
    "哪些",
    "哪个",
    "哪里",
    "请问",
    "一下",
    "我",
    "我们",
    "咱们",
    "你",
    "您",
    "你们",
    "他们",
    "人家",
    "有",
    "有没有",
    "要",
    "想",
    "需要",
    "可以",
    "能",
    "能否",
    "能不能",
    "是不是",
    "要不要",
    "会不会",
    "用不用",
    "算不算",
    "可不可以",
    "需不需要",
    "行不行",
    "就",
    "还",
    "都",
    "也",
    "又",
    "再",
    "才",
    "那",
    "这",
    "那些",
    "这些",
    "这个",
    "那个",
    "这种",
    "那种",
    "这样",
    "那样",
    "现在",
    "已经",
    "不用",
    "不是",
    "没有",
    "一般",
    "应该",
    "如果",
    "但是",
    "因为",
    "所以",
    "自己",
    "一些",
    "有些",
    "到底",
    "究竟",
    "听说",
    "是否",
];

/// The bigrams of `text` (folded) that lie wholly inside function words at every
/// place they occur.
pub fn function_bigrams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut marked = vec![false; chars.len()];
    for word in FUNCTION_WORDS {
        let w: Vec<char> = word.chars().collect();
        if w.len() > chars.len() {
            continue;
        }
        for start in 0..=chars.len() - w.len() {
            if chars[start..start + w.len()] == w[..] {
                marked[start..start + w.len()].fill(true);
            }
        }
    }
    let mut function: Vec<String> = Vec::new();
    let mut content: Vec<String> = Vec::new();
    for i in 0..chars.len().saturating_sub(1) {
        if !is_han(chars[i]) || !is_han(chars[i + 1]) {
            continue;
        }
        let gram: String = chars[i..i + 2].iter().collect();
        if marked[i] && marked[i + 1] {
            function.push(gram);
        } else {
            content.push(gram);
        }
    }
    function.retain(|g| !content.contains(g));
    function.sort();
    function.dedup();
    function
}

/// Whether `word` is one of the function words of questions.
pub fn is_function_word(word: &str) -> bool {
    FUNCTION_WORDS.contains(&word)
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
    fn function_bigrams_are_those_only_inside_function_words() {
        let grams = function_bigrams("是不是就不用管登记");
        assert!(grams.contains(&"是不".to_string()));
        assert!(grams.contains(&"就不".to_string()));
        assert!(!grams.contains(&"登记".to_string()));
        assert!(!grams.contains(&"用管".to_string()));
    }

    #[test]
    fn folding_normalises_width_case_and_traditional_characters() {
        assert_eq!(fold("ＨＷ０８"), "hw08");
        assert_eq!(fold("排污許可的執行報告"), "排污许可的执行报告");
    }
}
