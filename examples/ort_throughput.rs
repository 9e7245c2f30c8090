/*!
Raw ONNX Runtime throughput of an image graph, without decoding or preprocessing: how fast can the
execution provider go, and what do I/O binding, batch size, TF32 and an fp16 graph buy?

This example owns the upper bound the workbench's embedding pipeline is measured against
(`benchmarks/gpu/run_gpu.sh` runs it next to `eclip embed --device cuda` and PyTorch eager). It feeds
random pixels of the shape `model.json` declares and prints one JSON line per (batch, mode):

- `run`: `Session::run` with a host tensor each batch — what the workbench's pipeline does;
- `iobinding`: the input lives in pinned host memory (CUDA) and is bound with an `IoBinding`, the output
  stays on the device and is synchronised once per batch — the copy-avoiding path the CUDA EP favours.

```text
cargo run --release --example ort_throughput -- --model-dir benchmarks/models/vit-b-16-random \
    --device cuda --batch 64,128 --iters 20 [--tf32]
```

For the fp16 graph, point `--model-dir` at the `-fp16` copy `eclip_model.precision` writes.

`ORT_DYLIB_PATH` (or `--ort-dylib`) names the ONNX Runtime library, as for `eclip`.
*/
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use ort::environment::Environment;
use ort::ep;
use ort::memory::{AllocationDevice, Allocator, AllocatorType, MemoryInfo, MemoryType};
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::Tensor;

#[derive(Parser, Debug)]
#[command(about = "ONNX Runtime throughput of an image graph (images/s), CPU or CUDA")]
struct Args {
    /// Model folder (model.json + image.onnx), docs/formats.md §2.
    #[arg(long)]
    model_dir: PathBuf,
    /// cpu or cuda.
    #[arg(long, default_value = "cpu")]
    device: String,
    /// Comma-separated batch sizes.
    #[arg(long, default_value = "32")]
    batch: String,
    /// Timed batches per setting (after the warm-up).
    #[arg(long, default_value_t = 10)]
    iters: usize,
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// Intra-op threads (0 = ONNX Runtime's default).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Allow TF32 tensor-core math for fp32 graphs on CUDA.
    #[arg(long)]
    tf32: bool,
    /// Comma-separated modes: run, iobinding.
    #[arg(long, default_value = "run,iobinding")]
    modes: String,
    /// ONNX Runtime library (default: ORT_DYLIB_PATH).
    #[arg(long)]
    ort_dylib: Option<PathBuf>,
}

struct ImageSpec {
    file: PathBuf,
    input: String,
    output: String,
    channels: usize,
    size: usize,
}

fn read_spec(dir: &Path) -> Result<ImageSpec> {
    let path = dir.join("model.json");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let m: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let img = &m["image"];
    let field = |k: &str| {
        img[k]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{}: image.{k} missing", path.display()))
    };
    let num = |k: &str| {
        img[k]
            .as_u64()
            .map(|v| v as usize)
            .with_context(|| format!("{}: image.{k} missing", path.display()))
    };
    Ok(ImageSpec {
        file: dir.join(field("file")?),
        input: field("input")?,
        output: field("output")?,
        channels: num("channels")?,
        size: num("size")?,
    })
}

/// Builder errors carry the builder (not `Send`), so this returns `ort::Error` and the caller adds context.
fn session(env: &Environment, spec: &ImageSpec, args: &Args, cuda: bool) -> ort::Result<Session> {
    let mut b = Session::builder(env)?.with_optimization_level(GraphOptimizationLevel::Level3)?;
    if args.threads > 0 {
        b = b.with_intra_threads(args.threads)?;
    }
    if cuda {
        let provider = ep::CUDA::default()
            .with_tf32(args.tf32)
            .with_conv_algorithm_search(ep::cuda::ConvAlgorithmSearch::Exhaustive)
            .build()
            .error_on_failure();
        b = b.with_execution_providers([provider])?;
    }
    b.commit_from_file(&spec.file)
}

/// Deterministic pseudo-random pixels (a xorshift stream), so runs are comparable.
fn pixels(n: usize) -> Vec<f32> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 40) as f32 / (1u64 << 24) as f32 * 4.0 - 2.0
        })
        .collect()
}

/// Seconds for `args.iters` calls of `once` after `args.warmup` untimed ones.
fn timed(
    sess: &mut Session,
    args: &Args,
    mut once: impl FnMut(&mut Session) -> Result<()>,
) -> Result<f64> {
    for _ in 0..args.warmup {
        once(sess)?;
    }
    let t0 = Instant::now();
    for _ in 0..args.iters {
        once(sess)?;
    }
    Ok(t0.elapsed().as_secs_f64())
}

fn time_run(sess: &mut Session, spec: &ImageSpec, batch: usize, args: &Args) -> Result<f64> {
    let shape = [batch, spec.channels, spec.size, spec.size];
    let data = pixels(shape.iter().product());
    let once = |sess: &mut Session| -> Result<()> {
        let t = Tensor::from_array((shape, data.clone()))?;
        let out = sess.run(ort::inputs![spec.input.as_str() => t])?;
        let (_, emb) = out[spec.output.as_str()].try_extract_tensor::<f32>()?;
        if emb.iter().any(|v| !v.is_finite()) {
            bail!("non-finite output");
        }
        Ok(())
    };
    timed(sess, args, once)
}

fn time_iobinding(
    sess: &mut Session,
    spec: &ImageSpec,
    batch: usize,
    args: &Args,
    cuda: bool,
) -> Result<f64> {
    let shape = [batch, spec.channels, spec.size, spec.size];
    let data = pixels(shape.iter().product());
    let (in_info, out_info) = if cuda {
        (
            MemoryInfo::new(
                AllocationDevice::CUDA_PINNED,
                0,
                AllocatorType::Device,
                MemoryType::CPUInput,
            )?,
            MemoryInfo::new(
                AllocationDevice::CUDA,
                0,
                AllocatorType::Device,
                MemoryType::Default,
            )?,
        )
    } else {
        let cpu = || {
            MemoryInfo::new(
                AllocationDevice::CPU,
                0,
                AllocatorType::Device,
                MemoryType::Default,
            )
        };
        (cpu()?, cpu()?)
    };
    let allocator = Allocator::new(sess, in_info)?;
    let mut input = Tensor::<f32>::new(&allocator, shape)?;
    input.extract_tensor_mut().1.copy_from_slice(&data);
    let mut binding = sess.create_binding()?;
    binding.bind_output_to_device(spec.output.as_str(), &out_info)?;
    let once = |sess: &mut Session| -> Result<()> {
        // Re-binding queues the host-to-device copy of this batch, as a new batch would need.
        binding.bind_input(spec.input.as_str(), &input)?;
        let out = sess.run_binding(&binding)?;
        drop(out);
        binding.synchronize_outputs()?;
        Ok(())
    };
    timed(sess, args, once)
}

fn main() -> Result<()> {
    let args = Args::parse();
    let lib = args
        .ort_dylib
        .clone()
        .or_else(|| std::env::var_os("ORT_DYLIB_PATH").map(PathBuf::from))
        .context("set ORT_DYLIB_PATH (or --ort-dylib) to libonnxruntime.so.<version>")?;
    let env = ort::init_from(&lib)
        .with_context(|| format!("cannot load {}", lib.display()))?
        .with_name("ort_throughput")
        .build()?;
    let cuda = match args.device.as_str() {
        "cpu" => false,
        "cuda" => true,
        other => bail!("--device must be cpu or cuda, not {other:?}"),
    };
    let spec = read_spec(&args.model_dir)?;
    let mut sess = session(&env, &spec, &args, cuda)
        .with_context(|| format!("opening {}", spec.file.display()))?;
    for b in args.batch.split(',') {
        let batch: usize = b
            .trim()
            .parse()
            .with_context(|| format!("bad batch size {b:?}"))?;
        for mode in args.modes.split(',').map(str::trim) {
            let secs = match mode {
                "run" => time_run(&mut sess, &spec, batch, &args)?,
                "iobinding" => time_iobinding(&mut sess, &spec, batch, &args, cuda)?,
                other => bail!("unknown mode {other:?} (run, iobinding)"),
            };
            let images = (batch * args.iters) as f64;
            let line = serde_json::json!({
                "runner": "ort-rust", "model": args.model_dir.display().to_string(), "device": args.device,
                "tf32": args.tf32, "mode": mode, "batch": batch, "iters": args.iters,
                "images_per_s": images / secs, "ms_per_batch": 1e3 * secs / args.iters as f64,
            });
            println!("{line}");
        }
    }
    Ok(())
}
