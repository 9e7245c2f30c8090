"""Reference values for the `eclip-paper` zero-shot definition (tests in src/eval/zeroshot.rs).

The eCLIP authors (ykumards/eCLIP @5f79125, eclip/eval/eval_classification_chexpert.py lines 135-146)
L2-normalise every prompt embedding, average them per class and do NOT re-normalise the mean;
CLIP_benchmark and CheXzero re-normalise it. Images are L2-normalised, scores are image @ class.T,
the prediction is the argmax. This script computes both rules in numpy on fixed, rounded embeddings.

Run: .venv/bin/python onnx-export/scripts/eclip_zeroshot_reference.py
"""

import numpy as np


def class_embedding(prompts: np.ndarray, renormalise: bool) -> np.ndarray:
    normed = prompts / np.linalg.norm(prompts, axis=1, keepdims=True)
    mean = normed.mean(axis=0)
    return mean / np.linalg.norm(mean) if renormalise else mean


def main() -> None:
    rng = np.random.default_rng(0)
    sizes = [1, 3, 5]
    prompts = [np.round(rng.normal(size=(n, 4)), 4) for n in sizes]
    raw_images = np.round(rng.normal(size=(6, 4)), 4)
    images = raw_images / np.linalg.norm(raw_images, axis=1, keepdims=True)
    for c, p in enumerate(prompts):
        print(f"prompts[{c}] =", p.tolist())
    print("images (before L2) =", raw_images.tolist())
    for renorm in (True, False):
        classes = np.stack([class_embedding(p, renorm) for p in prompts])
        scores = images @ classes.T
        print("renormalised" if renorm else "mean-of-normalised")
        print("  class norms =", np.round(np.linalg.norm(classes, axis=1), 10).tolist())
        print("  scores =", np.round(scores, 8).tolist())
        print("  argmax =", scores.argmax(axis=1).tolist())
    # The hand-made flip: class 0 has two orthogonal prompts, class 1 one prompt.
    flip = [np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), np.array([[0.9, 0.3, 0.1 * np.sqrt(10.0)]])]
    x = np.array([[0.8, 0.6, 0.0]])
    for renorm in (True, False):
        classes = np.stack([class_embedding(p, renorm) for p in flip])
        s = x @ classes.T
        label = "renormalised" if renorm else "mean-of-normalised"
        print(f"flip {label}: scores = {np.round(s[0], 10).tolist()} argmax = {int(s.argmax())}")


if __name__ == "__main__":
    main()
