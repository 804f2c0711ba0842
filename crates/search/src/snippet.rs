//! Highlighted snippets: the text HTML-escaped, matched words in `<mark>…</mark>`.

use std::collections::HashSet;

use crate::analyzer;

/// Characters of context kept before the first match of a window.
const LEAD: usize = 12;

/// An HTML fragment of at most about `max_chars` characters of `text`: escaped, with
/// every word whose index token is in `terms` wrapped in `<mark>` … `</mark>`, and
/// `…` where text was cut off. The window is the one with the most matches; without
/// a match it is the beginning of the text. Safe to insert into HTML as is.
pub fn highlight(text: &str, terms: &HashSet<String>, max_chars: usize) -> String {
    // Matched byte ranges, merged where they overlap or touch.
    let mut ranges: Vec<(usize, usize)> = analyzer::index_tokens(text)
        .into_iter()
        .filter(|t| terms.contains(&t.text))
        .map(|t| (t.from, t.to))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }

    // Character boundaries, to count and cut in characters.
    let bounds: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let char_at = |byte: usize| bounds.partition_point(|&b| b < byte);
    let total = bounds.len() - 1;

    let (mut start, mut end) = (0, total.min(max_chars));
    if total > max_chars && !merged.is_empty() {
        // The window starting LEAD characters before a match that holds most matches.
        let starts: Vec<usize> = merged.iter().map(|r| char_at(r.0)).collect();
        let mut best = (0, 0);
        for (i, &s) in starts.iter().enumerate() {
            let from = s.saturating_sub(LEAD);
            let count = starts[i..]
                .iter()
                .take_while(|&&t| t < from + max_chars)
                .count();
            if count > best.0 {
                best = (count, from);
            }
        }
        start = best.1.min(total - max_chars);
        end = start + max_chars;
    }
    let (window_from, window_to) = (bounds[start], bounds[end]);

    let mut out = String::with_capacity(window_to - window_from + 32);
    if start > 0 {
        out.push('…');
    }
    let mut at = window_from;
    for (a, b) in merged {
        let (a, b) = (a.max(window_from), b.min(window_to));
        if a >= b {
            continue;
        }
        escape_into(&mut out, &text[at..a]);
        out.push_str("<mark>");
        escape_into(&mut out, &text[a..b]);
        out.push_str("</mark>");
        at = b;
    }
    escape_into(&mut out, &text[at..window_to]);
    if end < total {
        out.push('…');
    }
    out
}

fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> HashSet<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn markup_in_the_text_comes_out_escaped_and_matches_are_marked() {
        let html = highlight(
            "<script>alert(1)</script>危险废物 & \"废矿物油\"",
            &terms(&["危险废物"]),
            200,
        );
        assert_eq!(
            html,
            "&lt;script&gt;alert(1)&lt;/script&gt;<mark>危险废物</mark> &amp; &quot;废矿物油&quot;"
        );
    }

    #[test]
    fn overlapping_search_mode_tokens_make_one_mark() {
        let html = highlight(
            "危险废物经营许可证",
            &terms(&["危险废物", "危险", "废物", "许可"]),
            200,
        );
        assert_eq!(html, "<mark>危险废物</mark>经营<mark>许可</mark>证");
    }

    #[test]
    fn a_long_text_is_cut_around_the_matches() {
        let text = format!("{}排污许可证{}", "前文".repeat(100), "后文".repeat(100));
        let html = highlight(&text, &terms(&["排污许可证"]), 40);
        assert!(html.starts_with('…') && html.ends_with('…'), "{html}");
        assert!(html.contains("<mark>排污许可证</mark>"), "{html}");
        assert!(html.chars().count() <= 40 + 2 + "<mark></mark>".len());
    }

    #[test]
    fn a_text_without_matches_gives_its_beginning() {
        assert_eq!(highlight("甲乙丙丁", &terms(&["x"]), 2), "甲乙…");
    }
}
