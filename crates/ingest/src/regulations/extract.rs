//! The full text of a document from an uploaded file: plain text (UTF-8 or GB18030),
//! HTML, PDF (its text layer) and DOCX. A file whose text cannot be taken — a scanned
//! PDF without a text layer, a damaged archive — gives an [`ExtractError`] that says
//! why, in words for the uploader; the caller keeps the file either way.

use greenbridge_domain::FileKind;
use std::io::Read;

/// Longest full text kept, in bytes (a code of 1,242 articles is about 400 KB).
pub const MAX_TEXT_BYTES: usize = 4 * 1024 * 1024;
/// Largest DOCX part read (the XML of the body).
const MAX_DOCX_XML: u64 = 64 * 1024 * 1024;

/// Why no text came out of a file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("该文件类型（{0}）不能提取全文，已作为附件保存")]
    Unsupported(&'static str),
    #[error("PDF 中没有可提取的文字（可能是扫描件），已作为附件保存")]
    NoTextLayer,
    #[error("无法读取该 PDF 的文字：{0}；文件已作为附件保存")]
    BadPdf(String),
    #[error("无法读取该 Word 文档：{0}；文件已作为附件保存")]
    BadDocx(String),
    #[error("文本文件的编码无法识别，已作为附件保存")]
    Encoding,
    #[error("文件中没有文字，已作为附件保存")]
    Empty,
}

/// The text of `bytes`, a file of `kind` named `file_name` by its uploader.
pub fn extract_text(kind: FileKind, file_name: &str, bytes: &[u8]) -> Result<String, ExtractError> {
    let text = match kind {
        FileKind::Text | FileKind::Csv => {
            let text = decode_text(bytes)?;
            if looks_like_html(file_name, &text) {
                html_to_text(&text)
            } else {
                text
            }
        }
        FileKind::Pdf => pdf_text(bytes)?,
        FileKind::Docx => docx_text(bytes)?,
        other => return Err(ExtractError::Unsupported(other.label())),
    };
    let text = tidy(&text);
    if text.is_empty() {
        return Err(match kind {
            FileKind::Pdf => ExtractError::NoTextLayer,
            _ => ExtractError::Empty,
        });
    }
    Ok(cut(text))
}

/// UTF-8 (with or without BOM), else GB18030 (which covers GBK and GB2312), the
/// encodings Chinese office software saves text in.
fn decode_text(bytes: &[u8]) -> Result<String, ExtractError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_string());
    }
    let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
    if had_errors {
        return Err(ExtractError::Encoding);
    }
    Ok(text.into_owned())
}

fn looks_like_html(file_name: &str, text: &str) -> bool {
    let name = file_name.to_ascii_lowercase();
    if name.ends_with(".html") || name.ends_with(".htm") {
        return true;
    }
    let head: String = text
        .trim_start()
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.contains("<body")
}

/// The visible text of an HTML page: block elements on their own lines, scripts and
/// styles left out.
pub fn html_to_text(html: &str) -> String {
    use scraper::{ElementRef, Html, Node};
    fn walk(element: ElementRef<'_>, out: &mut String) {
        for child in element.children() {
            if let Node::Text(text) = child.value() {
                out.push_str(text);
                continue;
            }
            let Some(child) = ElementRef::wrap(child) else {
                continue;
            };
            let name = child.value().name();
            if matches!(name, "script" | "style" | "head" | "noscript" | "template") {
                continue;
            }
            let block = matches!(
                name,
                "p" | "div"
                    | "br"
                    | "li"
                    | "tr"
                    | "h1"
                    | "h2"
                    | "h3"
                    | "h4"
                    | "h5"
                    | "h6"
                    | "section"
                    | "article"
                    | "blockquote"
                    | "table"
                    | "ul"
                    | "ol"
            );
            if block {
                out.push('\n');
            }
            if matches!(name, "td" | "th") {
                out.push('\t');
            }
            walk(child, out);
            if block {
                out.push('\n');
            }
        }
    }
    let document = Html::parse_document(html);
    let mut out = String::new();
    walk(document.root_element(), &mut out);
    out
}

fn pdf_text(bytes: &[u8]) -> Result<String, ExtractError> {
    // The PDF parser may panic on malformed input; a bad upload must not take the
    // request down with it.
    let owned = bytes.to_vec();
    let outcome = std::panic::catch_unwind(move || pdf_extract::extract_text_from_mem(&owned));
    match outcome {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(ExtractError::BadPdf(short(&e.to_string()))),
        Err(_) => Err(ExtractError::BadPdf("文件结构异常".into())),
    }
}

/// The paragraphs of `word/document.xml`: `w:t` runs, `w:tab` as a tab, `w:br` and
/// the end of each `w:p` as line breaks.
fn docx_text(bytes: &[u8]) -> Result<String, ExtractError> {
    use quick_xml::events::Event;
    let bad = |e: &dyn std::fmt::Display| ExtractError::BadDocx(short(&e.to_string()));
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(&e))?;
    let mut xml = String::new();
    archive
        .by_name("word/document.xml")
        .map_err(|_| ExtractError::BadDocx("缺少正文部分 word/document.xml".into()))?
        .take(MAX_DOCX_XML)
        .read_to_string(&mut xml)
        .map_err(|e| bad(&e))?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event().map_err(|e| bad(&e))? {
            Event::Start(e) if e.local_name().into_inner() == "t" => in_text = true,
            Event::End(e) if e.local_name().into_inner() == "t" => in_text = false,
            Event::End(e) if e.local_name().into_inner() == "p" => out.push('\n'),
            Event::Empty(e) if e.local_name().into_inner() == "tab" => out.push('\t'),
            Event::Empty(e) if matches!(e.local_name().into_inner(), "br" | "cr") => out.push('\n'),
            Event::Text(t) if in_text => {
                let raw = t.to_string();
                out.push_str(&unescape_xml(&raw));
            }
            Event::GeneralRef(r) if in_text => {
                let name = r.to_string();
                out.push_str(&unescape_xml(&format!("&{name};")));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(out)
}

/// The five XML entities and numeric character references.
fn unescape_xml(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail.find(';') else {
            out.push_str(tail);
            return out;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") || e.starts_with("#X") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => out.push(c),
            None => out.push_str(&tail[..=end]),
        }
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Lines trimmed at the end, runs of blank lines made one, no leading or trailing
/// blank lines.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let line = line.trim_end().trim_start_matches(['\u{feff}']);
        if line.trim().is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank > 0 {
                out.push('\n');
            }
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

fn cut(mut text: String) -> String {
    if text.len() > MAX_TEXT_BYTES {
        let mut end = MAX_TEXT_BYTES;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

fn short(message: &str) -> String {
    message.chars().take(120).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// A DOCX with one paragraph per item.
    pub(crate) fn docx(paragraphs: &[&str]) -> Vec<u8> {
        let mut body = String::new();
        for p in paragraphs {
            body.push_str(&format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>"
            ));
        }
        let document = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
             <w:body>{body}</w:body></w:document>"
        );
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            zip.start_file("[Content_Types].xml", options).unwrap();
            zip.write_all(b"<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>").unwrap();
            zip.start_file("word/document.xml", options).unwrap();
            zip.write_all(document.as_bytes()).unwrap();
            zip.finish().unwrap();
        }
        out.into_inner()
    }

    /// A one-page PDF showing `text` in Helvetica (ASCII), or an empty page.
    pub(crate) fn pdf(text: Option<&str>) -> Vec<u8> {
        let content = match text {
            Some(t) => format!("BT /F1 12 Tf 72 720 Td ({t}) Tj ET"),
            None => String::new(),
        };
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>".to_string(),
            format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        ];
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
        }
        let xref = out.len();
        out.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    #[test]
    fn plain_text_in_utf8_or_gb18030_is_read() {
        let text = extract_text(
            FileKind::Text,
            "a.txt",
            "\u{feff}第一条 为了保护环境。\r\n\r\n\r\n第二条".as_bytes(),
        )
        .unwrap();
        assert_eq!(text, "第一条 为了保护环境。\n\n第二条");
        let (gbk, _, _) = encoding_rs::GB18030.encode("地表水环境质量标准");
        assert_eq!(
            extract_text(FileKind::Text, "a.txt", &gbk).unwrap(),
            "地表水环境质量标准"
        );
    }

    #[test]
    fn html_gives_its_visible_text() {
        let html = "<!DOCTYPE html><html><head><title>t</title><style>p{}</style></head>\
                    <body><h1>标题</h1><p>第一条&nbsp;内容</p><script>alert(1)</script><p>第二条</p></body></html>";
        let text = extract_text(FileKind::Text, "page.html", html.as_bytes()).unwrap();
        assert!(text.contains("标题"));
        assert!(text.contains("第一条"));
        assert!(text.contains("第二条"));
        assert!(!text.contains("alert"));
        assert!(!text.contains("p{}"));
    }

    #[test]
    fn docx_paragraphs_become_lines() {
        let bytes = docx(&["第一条 总则", "第二条 适用范围 &amp; 定义"]);
        let text = extract_text(FileKind::Docx, "a.docx", &bytes).unwrap();
        assert_eq!(text, "第一条 总则\n第二条 适用范围 & 定义");
        assert!(matches!(
            extract_text(FileKind::Docx, "a.docx", b"PK\x03\x04 broken"),
            Err(ExtractError::BadDocx(_))
        ));
    }

    #[test]
    fn pdf_text_layer_is_read_and_a_scan_is_reported() {
        let text = extract_text(
            FileKind::Pdf,
            "a.pdf",
            &pdf(Some("GB 3838-2002 surface water")),
        )
        .unwrap();
        assert!(text.contains("GB 3838-2002"), "{text:?}");
        assert_eq!(
            extract_text(FileKind::Pdf, "scan.pdf", &pdf(None)),
            Err(ExtractError::NoTextLayer)
        );
        assert!(matches!(
            extract_text(FileKind::Pdf, "bad.pdf", b"%PDF-1.4 garbage"),
            Err(ExtractError::BadPdf(_))
        ));
    }

    #[test]
    fn pictures_are_not_read() {
        assert_eq!(
            extract_text(FileKind::Png, "a.png", b"\x89PNG"),
            Err(ExtractError::Unsupported("PNG"))
        );
    }
}
