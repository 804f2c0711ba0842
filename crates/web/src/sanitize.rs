//! The server-side HTML sanitiser for every rich text that users or staff write
//! (profiles, demands, answers, notices): what is stored and shown passes through
//! [`sanitize_rich_text`] first. Templates print its output with `|safe`; everything
//! else stays autoescaped.
//!
//! Built on `ammonia` (html5ever parses the input as a browser would, so unclosed tags,
//! odd quoting and entity-encoded URLs are seen the way a browser would see them) with
//! a conservative allow-list: paragraphs and line breaks, strong/em, lists, h3–h4,
//! blockquote, simple tables, and links to `http`, `https` and `mailto` only, which
//! get `rel="noopener noreferrer nofollow"`. Everything else — scripts, styles, event
//! handlers, `style` attributes, images, frames, SVG and MathML, forms, relative and
//! `javascript:`/`data:` URLs — is dropped; the text inside unknown tags is kept,
//! except inside `script` and `style`, which go with their content.

use ammonia::{Builder, UrlRelative};
use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

static SANITIZER: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = Builder::empty();
    builder
        .tags(HashSet::from([
            "p",
            "br",
            "strong",
            "em",
            "ul",
            "ol",
            "li",
            "a",
            "h3",
            "h4",
            "blockquote",
            "table",
            "thead",
            "tbody",
            "tr",
            "th",
            "td",
        ]))
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href"])),
            ("th", HashSet::from(["colspan", "rowspan"])),
            ("td", HashSet::from(["colspan", "rowspan"])),
        ]))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean_content_tags(HashSet::from([
            "script", "style", "iframe", "object", "embed", "noscript", "template", "svg", "math",
        ]))
        .strip_comments(true);
    builder
});

/// `html` with everything outside the allow-list removed; safe to print unescaped.
pub fn sanitize_rich_text(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::sanitize_rich_text;

    /// Nothing that can run script, load a resource or restyle the page survives.
    fn assert_inert(output: &str) {
        let lower = output.to_ascii_lowercase();
        for needle in [
            "<script",
            "</script",
            "javascript:",
            "vbscript:",
            "data:",
            "onerror",
            "onload",
            "onclick",
            "onmouseover",
            "onfocus",
            "<svg",
            "<math",
            "<iframe",
            "<object",
            "<embed",
            "<img",
            "<style",
            "style=",
            "expression(",
            "<form",
            "<input",
            "<base",
            "<meta",
            "<link",
            "srcdoc",
            "formaction",
        ] {
            assert!(
                !lower.contains(needle),
                "{needle:?} survived sanitising:\n{output}"
            );
        }
    }

    const PAYLOADS: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</scr</script>ipt>",
        "<img src=x onerror=alert(1)>",
        "<body onload=alert(1)>",
        "<p onclick=\"alert(1)\">点我</p>",
        "<a href=\"javascript:alert(1)\">链接</a>",
        "<a href=\"JaVaScRiPt:alert(1)\">链接</a>",
        "<a href=\" javascript:alert(1)\">链接</a>",
        "<a href=\"java\tscript:alert(1)\">链接</a>",
        "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">链接</a>",
        "<a href=\"&#x6A;avascript&colon;alert(1)\">链接</a>",
        "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">链接</a>",
        "<a href=\"vbscript:msgbox(1)\">链接</a>",
        "<svg onload=alert(1)><circle r=10 /></svg>",
        "<svg><script>alert(1)</script></svg>",
        "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>",
        "<math href=\"javascript:alert(1)\">x</math>",
        "<div style=\"width: expression(alert(1))\">x</div>",
        "<p style=\"background:url(javascript:alert(1))\">x</p>",
        "<style>body{background:url('javascript:alert(1)')}</style>",
        "<iframe src=\"https://evil.example\"></iframe>",
        "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
        "<object data=\"evil.swf\"></object>",
        "<embed src=\"evil.swf\">",
        "<img src=\"x\" onerror=\"alert(1)\"",
        "<p>未闭合 <a href=\"https://example.cn\" onmouseover=alert(1)",
        "<a href='https://example.cn' title=\"x\" onfocus='alert(1)' autofocus>x</a>",
        "<a href=\"https://example.cn\"\"onclick=alert(1)\">x</a>",
        "<p title=\"\"><img src=x onerror=alert(1)>\"></p>",
        "<form action=\"javascript:alert(1)\"><input type=submit formaction=javascript:alert(1)></form>",
        "<base href=\"javascript:alert(1)//\">",
        "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
        "<link rel=stylesheet href=\"https://evil.example/x.css\">",
        "<!--<script>alert(1)</script>-->",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<template><script>alert(1)</script></template>",
        "<video><source onerror=\"alert(1)\"></video>",
        "<details open ontoggle=alert(1)>",
        "<a href=\"https://example.cn\" style=\"position:fixed;top:0\">x</a>",
    ];

    #[test]
    fn the_usual_xss_payloads_do_not_survive() {
        for payload in PAYLOADS {
            let output = sanitize_rich_text(payload);
            assert_inert(&output);
        }
    }

    #[test]
    fn harmless_text_and_allowed_markup_are_kept() {
        let input = "<h3>危险废物处置</h3><p>请于<strong>3 月 31 日</strong>前提交<em>年度计划</em>。<br>联系：\
                     <a href=\"mailto:office@example.cn\">office@example.cn</a></p>\
                     <ul><li>废矿物油</li><li>废铅蓄电池</li></ul><ol><li>一</li></ol>\
                     <blockquote>引用</blockquote><h4>小标题</h4>\
                     <table><thead><tr><th>类别</th></tr></thead><tbody><tr><td colspan=\"2\">HW08</td></tr></tbody></table>";
        let output = sanitize_rich_text(input);
        for kept in [
            "<h3>危险废物处置</h3>",
            "<strong>3 月 31 日</strong>",
            "<em>年度计划</em>",
            "<br>",
            "<ul><li>废矿物油</li><li>废铅蓄电池</li></ul>",
            "<ol><li>一</li></ol>",
            "<blockquote>引用</blockquote>",
            "<h4>小标题</h4>",
            "<th>类别</th>",
            "<td colspan=\"2\">HW08</td>",
            "href=\"mailto:office@example.cn\"",
        ] {
            assert!(output.contains(kept), "{kept:?} lost:\n{output}");
        }
        assert_eq!(
            sanitize_rich_text("纯文本 1 < 2 & 3 > 2"),
            "纯文本 1 &lt; 2 &amp; 3 &gt; 2"
        );
    }

    #[test]
    fn links_keep_http_and_https_with_a_safe_rel() {
        let output = sanitize_rich_text(
            "<a href=\"https://www.mee.gov.cn/\" target=\"_blank\" rel=\"opener\">生态环境部</a>",
        );
        assert_eq!(
            output,
            "<a href=\"https://www.mee.gov.cn/\" rel=\"noopener noreferrer nofollow\">生态环境部</a>"
        );
        let relative = sanitize_rich_text("<a href=\"/admin\">后台</a>");
        assert!(!relative.contains("href"), "{relative}");
    }

    #[test]
    fn text_of_dropped_tags_stays_but_script_text_goes() {
        assert_eq!(
            sanitize_rich_text("<div><span>保留文字</span></div>"),
            "保留文字"
        );
        assert_eq!(sanitize_rich_text("前<script>alert(1)</script>后"), "前后");
        assert_eq!(sanitize_rich_text("前<style>p{}</style>后"), "前后");
    }
}
