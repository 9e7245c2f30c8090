"""benchmarks/reference.py: the Python side of the benchmarks must do the workbench's work exactly.

- decoding with PIL gives the values of `eclip_model.transform.decode_image` (the pypng reference) for
  8-bit and 16-bit gray, 8-bit RGB and 16-bit RGB PNGs;
- retrieval ranks follow the workbench's tie rule (rank = #greater + #equal at a smaller index), checked
  against a hand-worked case and a brute-force loop, chunked and unchunked.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import png
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import reference

from eclip_model.transform import decode_image


def _write_png(path: Path, arr: np.ndarray, bitdepth: int) -> None:
    h, w, c = arr.shape
    greyscale = c == 1
    writer = png.Writer(width=w, height=h, bitdepth=bitdepth, greyscale=greyscale, alpha=False)
    with open(path, "wb") as fh:
        writer.write(fh, arr.reshape(h, w * c).tolist())


@pytest.mark.parametrize(("channels", "bitdepth"), [(1, 8), (1, 16), (3, 8), (3, 16)])
def test_decode_matches_transform(tmp_path: Path, channels: int, bitdepth: int) -> None:
    rng = np.random.default_rng(channels * bitdepth)
    arr = rng.integers(0, 2**bitdepth, size=(5, 7, channels))
    path = tmp_path / "x.png"
    _write_png(path, arr, bitdepth)
    got = reference.decode(path)
    want = decode_image(path)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-7)


def test_ranks_tie_rule_hand_worked() -> None:
    # Query 0: scores [1, 1, 0] against own score 1: nothing greater, tie at index 1 is later -> rank 0.
    # Query 1: scores [1, 1, 0]: tie at index 0 is earlier -> rank 1.
    # Query 2 (paired with candidate 2): own score 0, two greater -> rank 2.
    q = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    c = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    ranks = reference.retrieval_ranks(q, c)
    assert ranks.tolist() == [0, 1, 2]


def test_ranks_match_brute_force_chunked_or_not() -> None:
    rng = np.random.default_rng(1)
    q = rng.integers(-2, 3, size=(37, 4)).astype(np.float32)  # small integers: many exact ties
    c = rng.integers(-2, 3, size=(37, 4)).astype(np.float32)
    s = q @ c.T
    brute = [
        sum(1 for j in range(37) if s[i, j] > s[i, i] or (s[i, j] == s[i, i] and j < i)) for i in range(37)
    ]
    assert reference.retrieval_ranks(q, c).tolist() == brute
    assert reference.retrieval_ranks(q, c, chunk=5).tolist() == brute
    assert reference.rank_checksum(np.array(brute)) == reference.rank_checksum(
        reference.retrieval_ranks(q, c, 8)
    )
