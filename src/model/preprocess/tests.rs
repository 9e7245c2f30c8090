use super::super::spec::Geometry;
use super::dicom::Voi;
use super::*;
use image::{ImageBuffer, Luma};

#[test]
fn shorter_edge_becomes_size_and_longer_rounds_half_up() {
    assert_eq!(resized_shape(512, 512, 128), (128, 128));
    assert_eq!(resized_shape(885, 1036, 128), (128, 150)); // 149.84
    assert_eq!(resized_shape(4, 6, 3), (3, 5)); // 4.5 rounds up
    assert_eq!(resized_shape(6, 4, 3), (5, 3));
}

/// The libraries' geometry (values as torchvision / transformers compute them, see
/// `onnx-export/tests/test_model_transform.py::test_library_rule_geometry`).
#[test]
fn library_geometry_truncates_and_rounds_the_crop_like_the_libraries() {
    use Geometry::{Torchvision, Transformers, Workbench};
    assert_eq!(shape_for(Torchvision, 5, 7, 4), (4, 5)); // 5.6 truncates
    assert_eq!(shape_for(Workbench, 5, 7, 4), (4, 6));
    assert_eq!(shape_for(Transformers, 1036, 885, 224), (262, 224));
    assert_eq!(shape_for(Torchvision, 45, 38, 16), (18, 16)); // 18.9
    let tv: Vec<usize> = (0..8)
        .map(|d| crop_offset(Torchvision, 32 + d, 32))
        .collect();
    assert_eq!(tv, [0, 0, 1, 2, 2, 2, 3, 4]); // round(d / 2), halves to even
    let hf: Vec<usize> = (0..8)
        .map(|d| crop_offset(Transformers, 32 + d, 32))
        .collect();
    assert_eq!(hf, [0, 0, 1, 1, 2, 2, 3, 3]);
}

/// The 8-bit samples become `v / 255` exactly as torchvision's `ToTensor` computes it in f32.
#[test]
fn eight_bit_samples_scale_like_to_tensor() {
    for v in 0..=255u8 {
        assert_eq!(lut8()[usize::from(v)] as f32, f32::from(v) / 255.0, "{v}");
    }
}

#[test]
fn voi_lut_clamps_and_floors_like_pydicom() {
    // pydicom 3.0.2 `apply_voi` on LUTDescriptor [4, 10, 8], LUTData [0, 100, 200, 255] and the
    // inputs below gives [0, 0, 100, 100, 255, 255]: values below `first` take entry 0, floats are
    // floored to an index, values past the table take the last entry.
    let data = [0u16, 100, 200, 255];
    let lut = Voi::Lut {
        first: 10.0,
        max: 255.0,
        data: &data,
    };
    let got: Vec<f64> = [-5.0, 10.9, 11.0, 11.99, 13.0, 1e6]
        .iter()
        .map(|v| lut.apply(*v) * 255.0)
        .collect();
    assert_eq!(got, [0.0, 0.0, 100.0, 100.0, 255.0, 255.0]);
}

#[test]
fn jpeg2000_decodes_and_jpeg_ls_is_refused_by_name() {
    let j2k =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parity/gen_j2k.dcm"))
            .expect("gen_j2k.dcm (make_parity_refs.py)");
    let dir = tempfile::tempdir().expect("tempdir");
    let ok = dir.path().join("j2k.dcm");
    std::fs::write(&ok, &j2k).expect("write");
    let img = decode_image(&ok, 1).expect("JPEG 2000 lossless decodes");
    assert_eq!((img.width, img.height), (50, 61));
    // The same file relabelled JPEG-LS Lossless (a UID of the same length): the decoder must
    // refuse it with an error naming the file and the transfer syntax.
    let (j2k_uid, ls_uid) = (b"1.2.840.10008.1.2.4.90", b"1.2.840.10008.1.2.4.80");
    let at = j2k
        .windows(j2k_uid.len())
        .position(|w| w == j2k_uid)
        .expect("transfer syntax UID in the file meta");
    let mut ls = j2k.clone();
    ls[at..at + ls_uid.len()].copy_from_slice(ls_uid);
    let bad = dir.path().join("ls.dcm");
    std::fs::write(&bad, &ls).expect("write");
    let e = decode_image(&bad, 1)
        .expect_err("JPEG-LS is not decoded here")
        .to_string();
    assert!(
        e.contains("ls.dcm") && e.contains("JPEG-LS Lossless") && e.contains("gdcmconv"),
        "{e}"
    );
}

#[test]
fn fast_rule_factors_and_box_reduce() {
    // PIL's draft rule: the largest of 8, 4, 2, 1 not above min(w / nw, h / nh).
    assert_eq!(draft_factor(2500, 2048, 128), 8); // 2048 / 128 = 16
    assert_eq!(draft_factor(885, 1036, 128), 4); // 885 / 128 = 6.9
    assert_eq!(draft_factor(200, 200, 128), 1);
    assert_eq!(reduce_factor(2500, 2048, (156, 128)), 8);
    assert_eq!(reduce_factor(313, 256, (156, 128)), 1);
    // 3 x 5 plane, k = 2: blocks of 4, 2 (right edge), 2 (bottom edge) and 1 pixels.
    let p = [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
    ];
    let mut out = Vec::new();
    assert_eq!(box_reduce(&p, 5, 3, 2, &mut out), (2, 3));
    assert_eq!(out, vec![4.0, 6.0, 7.5, 11.5, 13.5, 15.0]);
}

/// A deterministic test plane with smooth structure plus pixel noise.
fn plane(w: usize, h: usize, seed: u64) -> Vec<f32> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    (0..w * h)
        .map(|i| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (x >> 40) as f32 / (1u64 << 24) as f32;
            let (r, c) = ((i / w) as f32, (i % w) as f32);
            (0.5 + 0.3 * (r * 0.05).sin() * (c * 0.07).cos() + 0.2 * (noise - 0.5)).clamp(0.0, 1.0)
        })
        .collect()
}

/// The re-implemented bilinear path is bit-identical to `image::imageops::resize` + crop (the
/// pre-v1 contract's implementation), downscaling, upscaling and one-axis cases.
#[test]
fn bilinear_is_bit_identical_to_the_image_crate() {
    for (w, h, size) in [
        (300, 257, 64),
        (257, 300, 64),
        (90, 71, 128),
        (1036, 885, 128),
        (64, 40, 64),
        (40, 64, 40),
        (129, 128, 128),
    ] {
        let p = plane(w, h, (w * h) as u64);
        let (nh, nw) = resized_shape(h, w, size);
        let buf: ImageBuffer<Luma<f32>, Vec<f32>> =
            ImageBuffer::from_raw(w as u32, h as u32, p.clone()).unwrap();
        let full = image::imageops::resize(
            &buf,
            nw as u32,
            nh as u32,
            image::imageops::FilterType::Triangle,
        );
        let s = size as usize;
        let (top, left) = ((nh - s) / 2, (nw - s) / 2);
        let want: Vec<u32> = (top..top + s)
            .flat_map(|y| full.as_raw()[y * nw + left..y * nw + left + s].to_vec())
            .map(f32::to_bits)
            .collect();
        let (mut tmp, mut out) = (Vec::new(), Vec::new());
        resize_crop_into(&p, w, h, size, Resize::Bilinear, &mut tmp, &mut out);
        let got: Vec<u32> = out.iter().map(|v| v.to_bits()).collect();
        assert!(got == want, "{w}x{h} -> {size}: not bit-identical");
    }
}

/// Bicubic against Pillow 13.0.0 (values printed by
/// `np.asarray(Image.fromarray(a, "F").resize((nw, nh), Image.BICUBIC))` with
/// `a[r, c] = ((7 r + 3 c) % 11) / 10` as float32): a downscale 13x9 -> 7x5 and an upscale
/// 5x3 -> 10x6 (overshooting below 0, which PIL does not clamp), then the centre crop.
#[test]
fn bicubic_matches_pillow() {
    let cases: [(usize, usize, u32, usize, &[f32]); 2] = [
        (13, 9, 5, 7, &PIL_13X9_TO_7X5),
        (5, 3, 6, 10, &PIL_5X3_TO_10X6),
    ];
    for (w, h, size, nw, full) in cases {
        let p: Vec<f32> = (0..h)
            .flat_map(|r| (0..w).map(move |c| ((r * 7 + c * 3) % 11) as f32 / 10.0))
            .collect();
        let s = size as usize;
        let left = (nw - s) / 2;
        let (mut tmp, mut out) = (Vec::new(), Vec::new());
        resize_crop_into(&p, w, h, size, Resize::Bicubic, &mut tmp, &mut out);
        for r in 0..s {
            for c in 0..s {
                let (g, want) = (out[r * s + c], full[r * nw + left + c]);
                assert!(
                    (g - want).abs() <= 1e-7,
                    "{w}x{h} ({r},{c}): {g} vs PIL {want}"
                );
            }
        }
    }
}
#[allow(clippy::excessive_precision)]
const PIL_13X9_TO_7X5: [f32; 35] = [
    0.4504435062408447,
    0.5735228061676025,
    0.4110504686832428,
    0.5215871334075928,
    0.5886956453323364,
    0.4309837222099304,
    0.49066752195358276,
    0.6043374538421631,
    0.5329301357269287,
    0.37266290187835693,
    0.6200866103172302,
    0.485729843378067,
    0.4141412675380707,
    0.5673920512199402,
    0.6074858903884888,
    0.40130460262298584,
    0.5134251117706299,
    0.5623485445976257,
    0.4492170512676239,
    0.4631698727607727,
    0.6306838393211365,
    0.48927274346351624,
    0.4064166843891144,
    0.5877640843391418,
    0.5200390219688416,
    0.37901753187179565,
    0.6135587096214294,
    0.4844413101673126,
    0.420403391122818,
    0.5149303674697876,
    0.5676321387290955,
    0.4366026222705841,
    0.4435581564903259,
    0.6088508367538452,
    0.4425445795059204,
];
#[allow(clippy::excessive_precision)]
const PIL_5X3_TO_10X6: [f32; 60] = [
    -0.0882352888584137,
    -0.013525119051337242,
    0.14454424381256104,
    0.3329504132270813,
    0.540579080581665,
    0.7451746463775635,
    0.9467371106147766,
    0.7573192715644836,
    0.2150493711233139,
    -0.04091695323586464,
    0.11513524502515793,
    0.19706964492797852,
    0.3705800473690033,
    0.46874430775642395,
    0.47936248779296875,
    0.5931683778762817,
    0.8101619482040405,
    0.7242268919944763,
    0.3609089255332947,
    0.18943753838539124,
    0.5460484623908997,
    0.6432941555976868,
    0.8495308756828308,
    0.7564229369163513,
    0.34946921467781067,
    0.27098044753074646,
    0.5209565758705139,
    0.6543383002281189,
    0.6700228452682495,
    0.6775034070014954,
    0.6330713629722595,
    0.7303170561790466,
    0.9365537762641907,
    0.8509243726730347,
    0.458927720785141,
    0.285710871219635,
    0.3312738537788391,
    0.4709923565387726,
    0.6895024180412292,
    0.7926807403564453,
    0.3647702932357788,
    0.4467046856880188,
    0.620215117931366,
    0.7398324012756348,
    0.7933565378189087,
    0.6354242563247681,
    0.2660355865955353,
    0.1982782632112503,
    0.41678833961486816,
    0.5198368430137634,
    0.23823529481887817,
    0.31294548511505127,
    0.4710148572921753,
    0.6874770522117615,
    0.9512178301811218,
    0.8004365563392639,
    0.23513326048851013,
    0.06948810815811157,
    0.28812795877456665,
    0.3911764919757843,
];
