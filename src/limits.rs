/*!
Resource limits checked before work starts, so that a bad setting or a hostile file fails fast
with a message naming the culprit instead of hanging or exhausting memory (docs/limits.md):

- `threads` ([`check_threads`]): at most [`THREADS_PER_CORE`] × the available cores;
- image size ([`check_image_pixels`]): width × height from the file's header, before any pixel
  buffer is allocated, at most `[runtime] max_image_pixels` (default [`DEFAULT_MAX_IMAGE_PIXELS`]);
- JPEG completeness ([`jpeg_is_complete`]): a file cut short is refused instead of decoded into a
  partly grey image.

The pixel limit is process-wide (set once by [`crate::workbench::Workbench::open`] from the
config) because it guards every decoder, including the TUI's display decoder and heatmaps.
*/
use std::sync::atomic::{AtomicU64, Ordering};

/// Default `[runtime] max_image_pixels`: 100 megapixels, above the largest radiographs
/// (about 4k × 5k = 20 MP) with room for scanned films.
pub const DEFAULT_MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// `threads` may be at most this many times the available cores.
pub const THREADS_PER_CORE: usize = 4;

static MAX_IMAGE_PIXELS: AtomicU64 = AtomicU64::new(DEFAULT_MAX_IMAGE_PIXELS);

/// Set the process-wide image size limit (pixels = width × height).
pub fn set_max_image_pixels(n: u64) {
    MAX_IMAGE_PIXELS.store(n, Ordering::Relaxed);
}

/// The current image size limit.
pub fn max_image_pixels() -> u64 {
    MAX_IMAGE_PIXELS.load(Ordering::Relaxed)
}

/// `Err(message)` when a `width` × `height` image exceeds the limit.
pub fn check_image_pixels(width: u64, height: u64) -> Result<(), String> {
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
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// The largest accepted `threads` on this machine.
pub fn max_threads() -> usize {
    THREADS_PER_CORE * available_cores()
}

/// `threads` is out of bounds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "threads = {threads} is more than {THREADS_PER_CORE} x the {cores} available cores ({max}); set [runtime] threads (or --threads) to at most {max}, or 0 for ONNX Runtime's default"
)]
pub struct ThreadsError {
    pub threads: usize,
    pub cores: usize,
    pub max: usize,
}

/// Check `threads` (0 = ONNX Runtime's default, always accepted).
pub fn check_threads(threads: usize) -> Result<(), ThreadsError> {
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
pub fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |m: u8| bytes.windows(2).rposition(|w| w[0] == 0xFF && w[1] == m);
    match (last(0xDA), last(0xD9)) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
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
