//! A video's duration, read from its container: for a lesson whose form left the
//! duration empty. MP4 keeps it in `moov/mvhd` (the `moov` box may sit at the end
//! of the file, so the top-level boxes are walked with range reads); WebM in the
//! `Segment/Info` element, near the start. Anything unexpected gives `None`: the
//! lesson is then saved without a duration, as before.

use greenbridge_domain::file_kind::FileKind;
use greenbridge_store::FileRecord;
use greenbridge_store::blob::StorageKey;
use tokio::io::AsyncReadExt;

use crate::state::AppState;

/// How much of a WebM file is read for its `Info` element.
const WEBM_HEAD_BYTES: u64 = 256 * 1024;
/// The largest `moov` box read (its `mvhd` comes first; the rest is sample tables).
const MOOV_MAX_BYTES: u64 = 1024 * 1024;
/// Top-level MP4 boxes walked before giving up.
const MP4_BOXES_MAX: usize = 64;

/// The duration of a stored video in whole seconds, when its container says.
pub async fn video_seconds(state: &AppState, file: &FileRecord) -> Option<i64> {
    let key = StorageKey::parse(&file.storage_key).ok()?;
    match file.kind {
        FileKind::Mp4 => mp4_seconds(state, &key).await,
        FileKind::Webm => webm_seconds(&read_range(state, &key, 0, WEBM_HEAD_BYTES).await?),
        _ => None,
    }
}

/// Up to `len` bytes of the file from `start`.
async fn read_range(state: &AppState, key: &StorageKey, start: u64, len: u64) -> Option<Vec<u8>> {
    let opened = state
        .files
        .open(key, Some((start, Some(start + len.max(1) - 1))))
        .await
        .ok()?;
    let mut bytes = Vec::new();
    opened.reader.take(len).read_to_end(&mut bytes).await.ok()?;
    Some(bytes)
}

async fn mp4_seconds(state: &AppState, key: &StorageKey) -> Option<i64> {
    let total = state.files.len(key).await.ok()?;
    let mut offset = 0u64;
    for _ in 0..MP4_BOXES_MAX {
        let remaining = total.checked_sub(offset).filter(|r| *r >= 8)?;
        let header = read_range(state, key, offset, remaining.min(16)).await?;
        let (size, kind, header_len) = mp4_box(&header, remaining)?;
        if &kind == b"moov" {
            let body_len = (size - header_len).min(MOOV_MAX_BYTES);
            let body = read_range(state, key, offset + header_len, body_len).await?;
            return mvhd_seconds(&body);
        }
        offset += size;
    }
    None
}

/// An MP4 box header: the box's whole size, its type and the header's length.
/// `remaining`: the bytes left from the box's start (a size of 0 means "to the end").
fn mp4_box(bytes: &[u8], remaining: u64) -> Option<(u64, [u8; 4], u64)> {
    let size32 = u64::from(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?));
    let kind: [u8; 4] = bytes.get(4..8)?.try_into().ok()?;
    let (size, header_len) = match size32 {
        0 => (remaining, 8),
        1 => (u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?), 16),
        n => (n, 8),
    };
    (size >= header_len && size <= remaining).then_some((size, kind, header_len))
}

/// The duration the `mvhd` box among the children of `moov` gives.
fn mvhd_seconds(moov: &[u8]) -> Option<i64> {
    let mut offset = 0usize;
    while offset + 8 <= moov.len() {
        let rest = &moov[offset..];
        let (size, kind, header_len) = mp4_box(rest, rest.len() as u64)?;
        if &kind == b"mvhd" {
            let body = rest.get(header_len as usize..size as usize)?;
            let u32_at = |at: usize| -> Option<u64> {
                Some(u64::from(u32::from_be_bytes(
                    body.get(at..at + 4)?.try_into().ok()?,
                )))
            };
            // version 0: 32-bit times; version 1: 64-bit creation, modification
            // and duration.
            let (timescale, duration) = match body.first()? {
                0 => (
                    u32_at(12)?,
                    u32_at(16).filter(|d| *d != u64::from(u32::MAX))?,
                ),
                1 => (
                    u32_at(20)?,
                    u64::from_be_bytes(body.get(24..32)?.try_into().ok()?),
                ),
                _ => return None,
            };
            return seconds(duration as f64, timescale as f64);
        }
        offset += size as usize;
    }
    None
}

/// An EBML element id (with its length marker, as the Matroska tables write it).
fn ebml_id(bytes: &[u8]) -> Option<(u32, usize)> {
    let len = bytes.first()?.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let mut id = 0u32;
    for byte in bytes.get(..len)? {
        id = (id << 8) | u32::from(*byte);
    }
    Some((id, len))
}

/// An EBML element size (`None` inside: the "unknown size" of a live stream).
fn ebml_size(bytes: &[u8]) -> Option<(Option<u64>, usize)> {
    let first = *bytes.first()?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let mut value = u64::from(first) & (0xff >> len);
    for byte in bytes.get(1..len)? {
        value = (value << 8) | u64::from(*byte);
    }
    let unknown = value == (1u64 << (7 * len)) - 1;
    Some(((!unknown).then_some(value), len))
}

/// The duration of a WebM file from its first bytes: `Segment/Info/Duration` in
/// units of `TimecodeScale` nanoseconds (1 ms unless the file says otherwise).
fn webm_seconds(head: &[u8]) -> Option<i64> {
    const SEGMENT: u32 = 0x1853_8067;
    const INFO: u32 = 0x1549_A966;
    const TIMECODE_SCALE: u32 = 0x2A_D7B1;
    const DURATION: u32 = 0x4489;
    const CLUSTER: u32 = 0x1F43_B675;
    let mut scale = 1_000_000u64;
    let mut duration: Option<f64> = None;
    let (mut pos, mut end) = (0usize, head.len());
    while pos < end {
        let (id, id_len) = ebml_id(&head[pos..])?;
        let (size, size_len) = ebml_size(head.get(pos + id_len..)?)?;
        let body = pos + id_len + size_len;
        if matches!(id, SEGMENT | INFO) {
            // Into the element: its children follow.
            if let Some(size) = size {
                end = end.min(body.saturating_add(size as usize));
            }
            pos = body;
            continue;
        }
        if id == CLUSTER {
            break;
        }
        let size = size? as usize;
        let value = head.get(body..body.checked_add(size)?)?;
        match id {
            TIMECODE_SCALE if (1..=8).contains(&size) => {
                scale = value.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            }
            DURATION if size == 4 => {
                duration = Some(f64::from(f32::from_be_bytes(value.try_into().ok()?)));
            }
            DURATION if size == 8 => {
                duration = Some(f64::from_be_bytes(value.try_into().ok()?));
            }
            _ => {}
        }
        pos = body + size;
    }
    seconds(duration? * scale as f64, 1e9)
}

/// `amount / per_second`, rounded, when both make a sensible duration (under a day).
fn seconds(amount: f64, per_second: f64) -> Option<i64> {
    let seconds = (amount / per_second).round();
    (per_second > 0.0 && seconds.is_finite() && (1.0..86_400.0).contains(&seconds))
        .then_some(seconds as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mp4_box_bytes(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn mvhd_v0(timescale: u32, duration: u32) -> Vec<u8> {
        let mut body = vec![0u8; 4 + 8];
        body.extend_from_slice(&timescale.to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body.extend_from_slice(&[0u8; 80]);
        mp4_box_bytes(b"mvhd", &body)
    }

    #[test]
    fn the_mvhd_box_gives_the_duration_in_either_version() {
        let moov = [mvhd_v0(1000, 754_400), mp4_box_bytes(b"trak", &[0; 20])].concat();
        assert_eq!(mvhd_seconds(&moov), Some(754));
        let mut body = vec![1u8, 0, 0, 0];
        body.extend_from_slice(&[0u8; 16]);
        body.extend_from_slice(&90_000u32.to_be_bytes());
        body.extend_from_slice(&(90_000u64 * 61).to_be_bytes());
        assert_eq!(mvhd_seconds(&mp4_box_bytes(b"mvhd", &body)), Some(61));
        // Unknown duration, no mvhd, truncated boxes: nothing.
        assert_eq!(mvhd_seconds(&mvhd_v0(1000, u32::MAX)), None);
        assert_eq!(mvhd_seconds(&mp4_box_bytes(b"trak", &[0; 20])), None);
        assert_eq!(mvhd_seconds(&mvhd_v0(1000, 5000)[..20]), None);
    }

    #[test]
    fn a_box_size_of_one_reads_the_large_size_and_zero_runs_to_the_end() {
        let mut large = 1u32.to_be_bytes().to_vec();
        large.extend_from_slice(b"mdat");
        large.extend_from_slice(&40u64.to_be_bytes());
        assert_eq!(mp4_box(&large, 100), Some((40, *b"mdat", 16)));
        assert_eq!(mp4_box(&large, 30), None, "larger than the file");
        let mut open = 0u32.to_be_bytes().to_vec();
        open.extend_from_slice(b"mdat");
        assert_eq!(mp4_box(&open, 500), Some((500, *b"mdat", 8)));
    }

    #[test]
    fn the_sample_webm_says_its_duration() {
        let video = include_bytes!("../../../samples/courses/lvqiao-intro.webm");
        // The demo's clip lasts eight seconds (samples/courses.jsonl says 0:08).
        assert_eq!(webm_seconds(video), Some(8));
    }

    #[test]
    fn ebml_sizes_drop_their_marker_and_know_the_unknown_size() {
        assert_eq!(ebml_size(&[0x81]), Some((Some(1), 1)));
        assert_eq!(ebml_size(&[0x40, 0x02]), Some((Some(2), 2)));
        assert_eq!(ebml_size(&[0xff]), Some((None, 1)));
        assert_eq!(
            ebml_size(&[0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            Some((None, 8))
        );
        assert_eq!(ebml_size(&[0x00]), None);
        assert_eq!(ebml_id(&[0x1a, 0x45, 0xdf, 0xa3]), Some((0x1A45_DFA3, 4)));
    }

    #[test]
    fn a_webm_without_info_or_with_garbage_has_no_duration() {
        assert_eq!(webm_seconds(b"not a video at all"), None);
        assert_eq!(webm_seconds(&[]), None);
    }
}
