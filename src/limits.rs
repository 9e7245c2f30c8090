/*!
Resource limits checked before work starts, so that a bad setting or a hostile file fails fast
with a message naming the culprit instead of hanging or exhausting memory (docs/limits.md):

- `threads` ([`check_threads`]): at most [`THREADS_PER_CORE`] × the available cores;
- image size ([`check_image_pixels`]): width × height from the file's header, before any pixel
  buffer is allocated, at most `[runtime] max_image_pixels` (default [`DEFAULT_MAX_IMAGE_PIXELS`]);
- JPEG completeness ([`jpeg_is_complete`]): a file cut short is refused instead of decoded into a
  partly grey image;
- DICOM element headers ([`check_dicom_meta`]): valid VRs and lengths inside the file, before
  dicom-rs allocates what a corrupt header declares.

The pixel limit is process-wide (set once by [`crate::workbench::Workbench::open`] from the
config) because it guards every decoder, including the TUI's display decoder and heatmaps.
*/
use std::sync::atomic::{AtomicU64, Ordering};

/// Default `[runtime] max_image_pixels`: 100 megapixels, above the largest radiographs
/// (about 4k × 5k = 20 MP) with room for scanned films.
pub(crate) const DEFAULT_MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// `threads` may be at most this many times the available cores.
pub(crate) const THREADS_PER_CORE: usize = 4;

static MAX_IMAGE_PIXELS: AtomicU64 = AtomicU64::new(DEFAULT_MAX_IMAGE_PIXELS);

/// Set the process-wide image size limit (pixels = width × height).
pub fn set_max_image_pixels(n: u64) {
    MAX_IMAGE_PIXELS.store(n, Ordering::Relaxed);
}

/// The current image size limit.
pub(crate) fn max_image_pixels() -> u64 {
    MAX_IMAGE_PIXELS.load(Ordering::Relaxed)
}

/// `Err(message)` when a `width` × `height` image exceeds the limit.
pub(crate) fn check_image_pixels(width: u64, height: u64) -> Result<(), String> {
    let max = max_image_pixels();
    let pixels = width.saturating_mul(height);
    if pixels > max {
        return Err(format!(
            "image is {width}x{height} = {pixels} pixels, more than max_image_pixels = {max}; \
             it was not decoded (raise [runtime] max_image_pixels if the file is genuine)"
        ));
    }
    Ok(())
}

/// The available cores (1 when unknown).
pub(crate) fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The largest accepted `threads` on this machine.
pub(crate) fn max_threads() -> usize {
    THREADS_PER_CORE * available_cores()
}

/// `threads` is out of bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "threads = {threads} is more than {THREADS_PER_CORE} x the {cores} available cores ({max}); set [runtime] threads (or --threads) to at most {max}, or 0 for ONNX Runtime's default"
)]
pub struct ThreadsError {
    pub(crate) threads: usize,
    pub(crate) cores: usize,
    pub(crate) max: usize,
}

/// Check `threads` (0 = ONNX Runtime's default, always accepted).
pub(crate) fn check_threads(threads: usize) -> Result<(), ThreadsError> {
    let (cores, max) = (available_cores(), max_threads());
    if threads > max {
        return Err(ThreadsError {
            threads,
            cores,
            max,
        });
    }
    Ok(())
}

/// True when a JPEG's last scan is followed by its end-of-image marker (`FF D9`). Inside
/// entropy-coded data `FF` is always stuffed (`FF 00`) or a restart marker, so the last `FF DA`
/// (start of scan) and the last `FF D9` are markers; an EXIF thumbnail's own markers come before
/// the main image's. A file cut anywhere after the headers has its last scan without an EOI.
pub(crate) fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |m: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == m);
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

/// Checks the element headers of a DICOM file before it is parsed: the file meta group (always
/// explicit VR little endian) and the top-level data set (explicit or implicit VR little endian, as
/// the meta group's transfer syntax says): every VR is valid and every defined length fits in the
/// file. dicom-rs allocates an element's declared length before reading it, so one corrupted VR or
/// length in a 7 KB file made it request gigabytes (found by `tests/decoders_prop.rs`). The walk
/// stops at the first undefined length (a sequence or encapsulated pixel data: their items are
/// bounded by the file as they are read); files without the `DICM` marker, and big-endian or
/// deflated data sets, are left to the parser.
pub(crate) fn check_dicom_meta(bytes: &[u8]) -> Result<(), String> {
    let start = match bytes.get(128..132) {
        Some(b"DICM") => 132,
        _ if bytes.starts_with(b"DICM") => 4,
        _ => return Ok(()),
    };
    let corrupt = |at: usize, what: String| {
        Err(format!(
            "corrupt DICOM file at byte {at}: {what}; the file was not parsed"
        ))
    };
    let mut at = start;
    let mut implicit = false;
    let mut in_meta = true;
    while let Some(head) = bytes.get(at..at + 8) {
        let group = u16::from_le_bytes([head[0], head[1]]);
        if in_meta && group != 0x0002 {
            in_meta = false;
            let syntax = transfer_syntax(bytes, start);
            match syntax.as_deref() {
                Some("1.2.840.10008.1.2") => implicit = true,
                Some("1.2.840.10008.1.2.2" | "1.2.840.10008.1.2.1.99") => return Ok(()),
                _ => {}
            }
        }
        let (len, header) = if implicit && !in_meta {
            (u32::from_le_bytes([head[4], head[5], head[6], head[7]]), 8)
        } else {
            let vr = [head[4], head[5]];
            if !vr.iter().all(u8::is_ascii_uppercase) {
                return corrupt(at, format!("{vr:?} is not a value representation"));
            }
            if LONG_VRS.contains(&&vr) {
                let Some(l) = bytes.get(at + 8..at + 12) else {
                    return corrupt(at, "the file ends inside an element header".into());
                };
                (u32::from_le_bytes([l[0], l[1], l[2], l[3]]), 12)
            } else {
                (u32::from(u16::from_le_bytes([head[6], head[7]])), 8)
            }
        };
        if len == u32::MAX {
            break; // undefined length
        }
        let end = at.saturating_add(header).saturating_add(len as usize);
        if end > bytes.len() {
            return corrupt(
                at,
                format!(
                    "an element of {len} bytes in a file of {} bytes",
                    bytes.len()
                ),
            );
        }
        at = end;
    }
    Ok(())
}

/// Value representations with a 4-byte length in explicit VR.
const LONG_VRS: [&[u8; 2]; 13] = [
    b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV",
];

/// The transfer syntax UID (0002,0010) of a meta group starting at `start`, if it is readable.
fn transfer_syntax(bytes: &[u8], start: usize) -> Option<String> {
    let mut at = start;
    while let Some(head) = bytes.get(at..at + 8) {
        if u16::from_le_bytes([head[0], head[1]]) != 0x0002 {
            return None;
        }
        let element = u16::from_le_bytes([head[2], head[3]]);
        let long = LONG_VRS.contains(&&[head[4], head[5]]);
        let (len, header) = if long {
            let l = bytes.get(at + 8..at + 12)?;
            (u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize, 12)
        } else {
            (usize::from(u16::from_le_bytes([head[6], head[7]])), 8)
        };
        let value = bytes.get(at + header..at + header + len)?;
        if element == 0x0010 {
            return Some(
                String::from_utf8_lossy(value)
                    .trim_end_matches(['\0', ' '])
                    .to_string(),
            );
        }
        at += header + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_are_bounded_by_the_cores() {
        assert!(check_threads(0).is_ok());
        assert!(check_threads(max_threads()).is_ok());
        let e = check_threads(max_threads() + 1).expect_err("too many");
        assert!(e.to_string().contains("threads ="), "{e}");
        assert!(check_threads(100_000).is_err());
    }

    #[test]
    fn image_pixels_over_the_limit_are_refused_without_overflow() {
        assert!(check_image_pixels(10_000, 10_000).is_ok());
        let e = check_image_pixels(20_000, 20_000).expect_err("400 MP");
        assert!(
            e.contains("20000x20000") && e.contains("max_image_pixels"),
            "{e}"
        );
        assert!(check_image_pixels(u64::MAX, u64::MAX).is_err());
    }

    #[test]
    fn a_dicom_meta_header_with_a_corrupt_vr_or_length_is_refused() {
        let good = include_bytes!("../tests/data/parity/gen_windowed.dcm");
        assert!(check_dicom_meta(good).is_ok());
        // Byte 232 is the `U` of the transfer syntax's `UI`.
        let mut bad = good.to_vec();
        bad[232] = 0;
        let e = check_dicom_meta(&bad).expect_err("bad VR");
        assert!(e.contains("byte 228"), "{e}");
        // Byte 480 is the `C` of Photometric Interpretation's `CS`, in the data set.
        let mut bad = good.to_vec();
        bad[480] = 0;
        assert!(check_dicom_meta(&bad).is_err(), "a bad VR in the data set");
        let mut long = good.to_vec();
        long[234] = 0xFF;
        long[235] = 0xFF;
        assert!(check_dicom_meta(&long).is_err(), "a length past the end");
        assert!(
            check_dicom_meta(b"not a dicom").is_ok(),
            "left to the parser"
        );
    }

    #[test]
    fn jpeg_completeness_follows_the_last_scan() {
        // SOI, thumbnail scan + EOI, main scan, EOI.
        let full = [
            0xFF, 0xD8, 0xFF, 0xDA, 1, 0xFF, 0xD9, 0xFF, 0xDA, 2, 0xFF, 0x00, 3, 0xFF, 0xD9,
        ];
        assert!(jpeg_is_complete(&full));
        assert!(!jpeg_is_complete(&full[..12]), "cut in the main scan");
        assert!(!jpeg_is_complete(&full[..4]));
        assert!(!jpeg_is_complete(&[]));
    }
}
