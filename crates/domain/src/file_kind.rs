//! Kinds of uploaded file, recognised by their content ("magic bytes"), never by the
//! name or the type the browser claims.
//!
//! [`FileKind::sniff`] looks at the first bytes of a file (up to [`SNIFF_LEN`]) and
//! names its kind. Decisions:
//!
//! - Office documents (DOCX, XLSX, PPTX) are ZIP archives. The local file headers in
//!   the first [`SNIFF_LEN`] bytes are read for their entry names: a `word/` entry makes
//!   DOCX, `xl/` XLSX, `ppt/` PPTX (Office and LibreOffice write `[Content_Types].xml`,
//!   `_rels/` and the main part first, well inside 64 KiB). When the prefix names none
//!   of them (a large embedded picture first, say), a ZIP whose file name ends in
//!   `.docx`/`.xlsx`/`.pptx` is taken as that kind. Any other ZIP is no accepted kind.
//! - MP4 is an ISO base media file with an `ftyp` box; the still-image brands of the same
//!   container (HEIC, AVIF) are not MP4.
//! - WebM is EBML (`1A 45 DF A3`) whose DocType is `webm` (Matroska `.mkv` is not).
//! - WebVTT captions are text that starts with `WEBVTT` (after an optional byte-order
//!   mark) followed by a space, a tab or a line break, as the WebVTT standard requires.
//! - Text (CSV or plain): the first KiB is valid UTF-8 (a character cut at the end of
//!   that window is allowed) without NUL bytes, and no binary signature matched. CSV and
//!   plain text cannot be told apart by content: a `.csv` name makes CSV, else text.

/// How many leading bytes [`FileKind::sniff`] wants (fewer when the file is shorter).
pub const SNIFF_LEN: usize = 64 * 1024;

/// How many leading bytes must be UTF-8 without NUL for a file to count as text.
pub const TEXT_SNIFF_LEN: usize = 1024;

/// A kind of file recognised by its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Pdf,
    Jpeg,
    Png,
    Webp,
    Mp4,
    Webm,
    Docx,
    Xlsx,
    Pptx,
    Csv,
    Text,
    /// WebVTT captions (`.vtt`), for the `<track>` of a video.
    Vtt,
}

impl FileKind {
    pub const ALL: [FileKind; 12] = [
        FileKind::Pdf,
        FileKind::Jpeg,
        FileKind::Png,
        FileKind::Webp,
        FileKind::Mp4,
        FileKind::Webm,
        FileKind::Docx,
        FileKind::Xlsx,
        FileKind::Pptx,
        FileKind::Csv,
        FileKind::Text,
        FileKind::Vtt,
    ];

    /// The stable identifier kept in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpeg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Mp4 => "mp4",
            FileKind::Webm => "webm",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Pptx => "pptx",
            FileKind::Csv => "csv",
            FileKind::Text => "text",
            FileKind::Vtt => "vtt",
        }
    }

    pub fn parse(value: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.as_str() == value)
    }

    /// The media type a download is served with.
    pub fn mime(self) -> &'static str {
        match self {
            FileKind::Pdf => "application/pdf",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Png => "image/png",
            FileKind::Webp => "image/webp",
            FileKind::Mp4 => "video/mp4",
            FileKind::Webm => "video/webm",
            FileKind::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Pptx => {
                "application/vnd.openxmlformats-officedocument.presentationml.presentation"
            }
            FileKind::Csv => "text/csv; charset=utf-8",
            FileKind::Text => "text/plain; charset=utf-8",
            FileKind::Vtt => "text/vtt; charset=utf-8",
        }
    }

    pub fn from_mime(mime: &str) -> Option<FileKind> {
        FileKind::ALL.into_iter().find(|k| k.mime() == mime)
    }

    /// The usual file-name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Pdf => "pdf",
            FileKind::Jpeg => "jpg",
            FileKind::Png => "png",
            FileKind::Webp => "webp",
            FileKind::Mp4 => "mp4",
            FileKind::Webm => "webm",
            FileKind::Docx => "docx",
            FileKind::Xlsx => "xlsx",
            FileKind::Pptx => "pptx",
            FileKind::Csv => "csv",
            FileKind::Text => "txt",
            FileKind::Vtt => "vtt",
        }
    }

    /// The name users see in messages ("只接受 PDF、JPG、PNG").
    pub fn label(self) -> &'static str {
        match self {
            FileKind::Pdf => "PDF",
            FileKind::Jpeg => "JPG",
            FileKind::Png => "PNG",
            FileKind::Webp => "WebP",
            FileKind::Mp4 => "MP4",
            FileKind::Webm => "WebM",
            FileKind::Docx => "Word（DOCX）",
            FileKind::Xlsx => "Excel（XLSX）",
            FileKind::Pptx => "PowerPoint（PPTX）",
            FileKind::Csv => "CSV",
            FileKind::Text => "纯文本（TXT）",
            FileKind::Vtt => "WebVTT 字幕",
        }
    }

    /// Whether a browser may show the file in place (PDF, pictures, video) rather
    /// than save it.
    pub fn inline(self) -> bool {
        matches!(
            self,
            FileKind::Pdf
                | FileKind::Jpeg
                | FileKind::Png
                | FileKind::Webp
                | FileKind::Mp4
                | FileKind::Webm
        )
    }

    /// The kind of a file from its first bytes (`head`, up to [`SNIFF_LEN`]; all of the
    /// file when it is shorter) and its name as the uploader gave it (only to tell
    /// CSV from text, and an Office ZIP whose parts lie beyond the prefix).
    pub fn sniff(head: &[u8], file_name: &str) -> Option<FileKind> {
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, e)| e.to_ascii_lowercase())
            .unwrap_or_default();
        if head.starts_with(b"%PDF-") {
            Some(FileKind::Pdf)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileKind::Jpeg)
        } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(FileKind::Png)
        } else if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
            Some(FileKind::Webp)
        } else if head.len() >= 12 && &head[4..8] == b"ftyp" {
            const STILL_IMAGE_BRANDS: [&[u8; 4]; 6] =
                [b"heic", b"heix", b"mif1", b"msf1", b"avif", b"avis"];
            let brand = &head[8..12];
            (!STILL_IMAGE_BRANDS.iter().any(|b| &b[..] == brand)).then_some(FileKind::Mp4)
        } else if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
            // The DocType element (0x42 0x82) sits in the EBML header, within 64 bytes.
            let header = &head[..head.len().min(64)];
            find(header, b"\x42\x82")
                .is_some_and(|at| header[at + 2..].get(1..5) == Some(b"webm"))
                .then_some(FileKind::Webm)
        } else if head.starts_with(b"PK\x03\x04") {
            office_kind(head).or(match extension.as_str() {
                "docx" => Some(FileKind::Docx),
                "xlsx" => Some(FileKind::Xlsx),
                "pptx" => Some(FileKind::Pptx),
                _ => None,
            })
        } else if is_webvtt(head) {
            Some(FileKind::Vtt)
        } else if is_text(head) {
            Some(if extension == "csv" {
                FileKind::Csv
            } else {
                FileKind::Text
            })
        } else {
            None
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The Office kind named by the entries of a ZIP prefix: every local file header
/// (`PK\x03\x04`, name length at offset 26, name at 30) found in it.
fn office_kind(head: &[u8]) -> Option<FileKind> {
    let mut at = 0;
    while let Some(offset) = find(&head[at..], b"PK\x03\x04") {
        let start = at + offset;
        at = start + 4;
        let Some(length) = head.get(start + 26..start + 28) else {
            break;
        };
        let length = u16::from_le_bytes([length[0], length[1]]) as usize;
        let Some(name) = head.get(start + 30..start + 30 + length) else {
            break;
        };
        for (prefix, kind) in [
            (&b"word/"[..], FileKind::Docx),
            (&b"xl/"[..], FileKind::Xlsx),
            (&b"ppt/"[..], FileKind::Pptx),
        ] {
            if name.starts_with(prefix) {
                return Some(kind);
            }
        }
    }
    None
}

/// `WEBVTT` at the start (after an optional UTF-8 byte-order mark), then the end of
/// the file, a space, a tab or a line break; and text after all.
fn is_webvtt(head: &[u8]) -> bool {
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    body.strip_prefix(b"WEBVTT")
        .is_some_and(|rest| matches!(rest.first(), None | Some(b' ' | b'\t' | b'\n' | b'\r')))
        && is_text(body)
}

/// UTF-8 without NUL in the first [`TEXT_SNIFF_LEN`] bytes; a character cut by the end
/// of that window (but not by the end of the file) is fine.
fn is_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let window = &head[..head.len().min(TEXT_SNIFF_LEN)];
    if window.contains(&0) {
        return false;
    }
    match std::str::from_utf8(window) {
        Ok(_) => true,
        Err(error) => {
            error.error_len().is_none()
                && window.len() < head.len()
                && window.len() - error.valid_up_to() < 4
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(names: &[&str]) -> Vec<u8> {
        let mut zip = Vec::new();
        for name in names {
            zip.extend_from_slice(b"PK\x03\x04");
            zip.extend_from_slice(&[0u8; 22]);
            zip.extend_from_slice(&(name.len() as u16).to_le_bytes());
            zip.extend_from_slice(&[0, 0]);
            zip.extend_from_slice(name.as_bytes());
            zip.extend_from_slice(b"compressed bytes");
        }
        zip
    }

    #[test]
    fn binary_signatures_are_recognised() {
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n", "x"), Some(FileKind::Pdf));
        assert_eq!(
            FileKind::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], "a.png"),
            Some(FileKind::Jpeg)
        );
        assert_eq!(
            FileKind::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "a.pdf"),
            Some(FileKind::Png)
        );
        assert_eq!(
            FileKind::sniff(b"RIFF\x24\0\0\0WEBPVP8 ", "a"),
            Some(FileKind::Webp)
        );
        assert_eq!(
            FileKind::sniff(b"RIFF\x24\0\0\0WAVEfmt ", "a.webp"),
            None,
            "a WAV is not WebP"
        );
        assert_eq!(
            FileKind::sniff(b"\0\0\0\x20ftypisom\0\0\x02\0", "v"),
            Some(FileKind::Mp4)
        );
        assert_eq!(
            FileKind::sniff(b"\0\0\0\x18ftypheic\0\0\0\0", "p.mp4"),
            None,
            "a HEIC photo is not MP4"
        );
        let webm = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04";
        assert_eq!(FileKind::sniff(webm, "v"), Some(FileKind::Webm));
        let mkv = b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska";
        assert_eq!(FileKind::sniff(mkv, "v.webm"), None);
    }

    #[test]
    fn office_documents_are_told_apart_by_their_parts() {
        let docx = zip_with(&["[Content_Types].xml", "_rels/.rels", "word/document.xml"]);
        assert_eq!(FileKind::sniff(&docx, "a.zip"), Some(FileKind::Docx));
        let xlsx = zip_with(&["[Content_Types].xml", "xl/workbook.xml"]);
        assert_eq!(FileKind::sniff(&xlsx, "a.docx"), Some(FileKind::Xlsx));
        let pptx = zip_with(&["[Content_Types].xml", "ppt/presentation.xml"]);
        assert_eq!(FileKind::sniff(&pptx, "a"), Some(FileKind::Pptx));
        let unknown = zip_with(&["[Content_Types].xml", "media/big.png"]);
        assert_eq!(
            FileKind::sniff(&unknown, "报告.DOCX"),
            Some(FileKind::Docx),
            "parts beyond the prefix: the name decides"
        );
        let plain_zip = zip_with(&["readme.txt"]);
        assert_eq!(FileKind::sniff(&plain_zip, "a.zip"), None);
        assert_eq!(FileKind::sniff(b"PK\x03\x04", "a.zip"), None);
    }

    #[test]
    fn text_is_utf8_without_nul_and_csv_by_its_name() {
        assert_eq!(
            FileKind::sniff("名称,数量\n废矿物油,3\n".as_bytes(), "台账.csv"),
            Some(FileKind::Csv)
        );
        assert_eq!(
            FileKind::sniff("只是一段文字".as_bytes(), "说明.pdf"),
            Some(FileKind::Text)
        );
        assert_eq!(FileKind::sniff(b"abc\0def", "a.txt"), None);
        assert_eq!(FileKind::sniff(&[0xC3, 0x28, b'a'], "a.txt"), None);
        assert_eq!(FileKind::sniff(b"", "a.txt"), None);
        // A three-byte character cut by the 1 KiB window is still text.
        let mut long = vec![b'a'; TEXT_SNIFF_LEN - 1];
        long.extend_from_slice("中文".as_bytes());
        assert_eq!(FileKind::sniff(&long, "a.txt"), Some(FileKind::Text));
        // ... but cut by the end of the file it is not.
        assert_eq!(FileKind::sniff(&"中".as_bytes()[..2], "a.txt"), None);
    }

    #[test]
    fn webvtt_is_told_from_plain_text_by_its_signature() {
        let vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\n绿色课堂\n".as_bytes();
        assert_eq!(FileKind::sniff(vtt, "a.txt"), Some(FileKind::Vtt));
        let with_bom = "\u{feff}WEBVTT - 字幕\r\n\r\n".as_bytes();
        assert_eq!(FileKind::sniff(with_bom, "a.vtt"), Some(FileKind::Vtt));
        assert_eq!(
            FileKind::sniff(b"WEBVTTX\n", "a.vtt"),
            Some(FileKind::Text),
            "the signature must end in white space"
        );
        assert_eq!(
            FileKind::sniff(
                "1\n00:00:00,000 --> 00:00:02,000\n字幕\n".as_bytes(),
                "a.vtt"
            ),
            Some(FileKind::Text),
            "SubRip is not WebVTT"
        );
        assert_eq!(FileKind::sniff(b"WEBVTT\n\0\x01", "a.vtt"), None);
    }

    #[test]
    fn identifiers_round_trip() {
        for kind in FileKind::ALL {
            assert_eq!(FileKind::parse(kind.as_str()), Some(kind));
            assert_eq!(FileKind::from_mime(kind.mime()), Some(kind));
        }
    }
}
