//! Issue 13, property tests of the image decoders (PNG, JPEG, DICOM) on arbitrary bytes and on
//! mutated valid files: decoding returns `Ok` or an error, never panics, and no single allocation
//! exceeds a bound set by `max_image_pixels` (a counting global allocator records the largest
//! request while a case decodes). 64 cases per property keep it fast in a debug build.
#![allow(clippy::unwrap_used)] // test code: a panic is the failure report
#![allow(unsafe_code)] // the counting allocator below; it only forwards to the system allocator

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use eclip_workbench::model::preprocess::{Preprocessor, with_scratch};
use eclip_workbench::model::spec::ImageSpec;
use proptest::prelude::*;

/// Forwards to `System` and records the largest single allocation.
struct Counting;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: same layout, forwarded.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The limit during these tests: 1 MP. A decode may allocate a few buffers of that many pixels
/// (16-bit RGBA samples, f32 planes), so 64 MiB bounds any single allocation generously; an
/// unguarded decoder of a header declaring 60000 × 60000 would ask for gigabytes.
const MAX_PIXELS: u64 = 1_000_000;
const MAX_ALLOCATION: usize = 64 << 20;

fn preprocessor(channels: usize) -> Preprocessor {
    Preprocessor::from_spec(&ImageSpec {
        file: "image.onnx".into(),
        input: "pixel_values".into(),
        output: "image_embeds".into(),
        size: 32,
        channels,
        mean: vec![0.5; channels],
        std: vec![0.25; channels],
        resize: "shortest_edge_bilinear_center_crop".into(),
    })
}

/// Decodes `bytes` as the file `name` (the extension picks DICOM); returns the largest single
/// allocation made meanwhile.
fn decode(name: &str, bytes: &[u8], channels: usize) -> usize {
    // One decode at a time: the largest allocation is process-wide.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    eclip_workbench::limits::set_max_image_pixels(MAX_PIXELS);
    let pre = preprocessor(channels);
    let mut out = vec![0.0f32; pre.tensor_len()];
    LARGEST.store(0, Ordering::Relaxed);
    let result = with_scratch(|s| pre.preprocess_into(Path::new(name), bytes, s, &mut out));
    let largest = LARGEST.load(Ordering::Relaxed);
    if result.is_ok() {
        assert!(
            out.iter().all(|v| v.is_finite()),
            "{name}: non-finite pixels"
        );
    }
    largest
}

fn png() -> Vec<u8> {
    let img = image::GrayImage::from_fn(40, 30, |x, y| image::Luma([(x * 6 + y) as u8]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn jpeg() -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([(x * 6) as u8, (y * 8) as u8, 7]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&img)
        .unwrap();
    out
}

fn dicom() -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parity/gen_windowed.dcm"))
        .unwrap()
}

/// A valid file with some bytes overwritten and possibly cut short.
fn mutated(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let len = valid.len();
    (
        proptest::collection::vec((0..len, any::<u8>()), 1..8),
        0..=len,
        any::<bool>(),
    )
        .prop_map(move |(edits, cut, truncate)| {
            let mut b = valid.clone();
            for (i, v) in edits {
                b[i] = v;
            }
            if truncate {
                b.truncate(cut);
            }
            b
        })
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ext in 0..3usize) {
        let name = ["x.png", "x.jpg", "x.dcm"][ext];
        prop_assert!(decode(name, &bytes, 1) <= MAX_ALLOCATION);
    }

    #[test]
    fn mutated_png_never_panics_or_overallocates(bytes in mutated(png()), channels in 1..=3usize) {
        prop_assume!(channels != 2);
        prop_assert!(decode("m.png", &bytes, channels) <= MAX_ALLOCATION);
    }

    #[test]
    fn mutated_jpeg_never_panics_or_overallocates(bytes in mutated(jpeg())) {
        prop_assert!(decode("m.jpg", &bytes, 3) <= MAX_ALLOCATION);
    }

    #[test]
    fn mutated_dicom_never_panics_or_overallocates(bytes in mutated(dicom())) {
        prop_assert!(decode("m.dcm", &bytes, 1) <= MAX_ALLOCATION);
    }

    /// Headers declaring any size: the PNG IHDR and the JPEG SOF0 dimensions of valid files set to
    /// arbitrary values (CRC left stale for PNG, so the decoder may also refuse the chunk).
    #[test]
    fn declared_sizes_are_bounded_before_decoding(w in 1u16..=u16::MAX, h in 1u16..=u16::MAX) {
        let mut p = png();
        // IHDR data starts at byte 16: width (4 bytes BE), height (4 bytes BE).
        p[16..20].copy_from_slice(&u32::from(w).to_be_bytes());
        p[20..24].copy_from_slice(&u32::from(h).to_be_bytes());
        prop_assert!(decode("h.png", &p, 1) <= MAX_ALLOCATION);
        let mut j = jpeg();
        if let Some(sof) = j.windows(2).position(|x| x == [0xFF, 0xC0]) {
            // SOF0: marker, length (2), precision (1), height (2), width (2).
            j[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
            j[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
        }
        prop_assert!(decode("h.jpg", &j, 3) <= MAX_ALLOCATION);
    }
}

#[test]
fn the_valid_seeds_decode() {
    eclip_workbench::limits::set_max_image_pixels(MAX_PIXELS);
    let pre = preprocessor(1);
    let mut out = vec![0.0f32; pre.tensor_len()];
    for (name, bytes) in [("a.png", png()), ("a.jpg", jpeg()), ("a.dcm", dicom())] {
        with_scratch(|s| pre.preprocess_into(Path::new(name), &bytes, s, &mut out))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
