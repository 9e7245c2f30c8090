"""Gaze: readers on the real GazeSearch file, errors on malformed files, fitted statistics and the
simulation that follows them, fixation -> heatmap conversion."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from eclip_data.gaze import (
    FINDING_TO_TASK,
    POOLED,
    Fixations,
    GazeFormatError,
    _stats_for,
    fit_gaze_stats,
    load_default_stats,
    read_fixation_csv,
    read_gazesearch,
    simulate_scanpath,
)
from eclip_data.heatmap import ScreenGeometry, fixation_heatmap, load_heatmap, save_heatmap

ROOT = Path(__file__).resolve().parents[2]
# the real file lives in ../shared/data next to the repository (CI); a git worktree sits one level deeper
_CANDIDATES = [ROOT.parent / "shared", ROOT.parent.parent / "shared"]
GAZESEARCH = next(
    (
        c / "data" / "gaze" / "gazesearch_scanpaths.json"
        for c in _CANDIDATES
        if (c / "data" / "gaze").is_dir()
    ),
    _CANDIDATES[0] / "data" / "gaze" / "gazesearch_scanpaths.json",
)


@pytest.fixture(scope="module")
def real_paths() -> list[Fixations]:
    return read_gazesearch(GAZESEARCH)


def test_reads_the_real_gazesearch_file(real_paths):
    assert len(real_paths) == 4875
    assert len({p.task for p in real_paths}) == 13
    first = real_paths[0]
    assert first.name.endswith(".jpg") and first.task == "lung opacity"
    assert first.x.tolist() == [18, 12, 12, 12, 18, 9] and first.y[0] == 182
    assert all(len(p.x) == len(p.y) == len(p.duration_s) for p in real_paths)
    r = first.rescaled(128, 128)
    assert r.x[0] == pytest.approx((18 + 0.5) * 128 / 224 - 0.5)
    h = fixation_heatmap(first, 128, 128, 4.0)
    assert h.shape == (128, 128) and h.max() == pytest.approx(1.0) and h.min() >= 0


def test_fitted_stats_match_the_shipped_file(real_paths):
    fitted = fit_gaze_stats(real_paths)
    shipped = load_default_stats()
    for name in (*FINDING_TO_TASK, POOLED):
        a, b = fitted["findings"][name], shipped["findings"][name]
        assert a["n_scanpaths"] == b["n_scanpaths"]
        for key in ("count_mean", "near_target_fraction", "near_target_sigma"):
            assert a[key] == pytest.approx(b[key], abs=1e-3), (name, key)
        assert a["log_duration_search"] == b["log_duration_search"]


@pytest.mark.parametrize("finding", [*FINDING_TO_TASK, POOLED])
def test_simulated_scanpaths_reproduce_fitted_statistics(finding):
    stats = load_default_stats()["findings"][finding]
    rng = np.random.default_rng(0)
    mu, cov = np.array(stats["search_mean"]), np.array(stats["search_cov"])
    paths = [simulate_scanpath(rng, stats, tuple(rng.multivariate_normal(mu, cov)), 224) for _ in range(1500)]
    refit = _stats_for(paths)
    assert refit["count_mean"] == pytest.approx(stats["count_mean"], abs=0.1)
    for key in ("log_duration_search", "log_duration_target"):
        assert refit[key]["mean"] == pytest.approx(stats[key]["mean"], abs=0.06), key
        assert refit[key]["sd"] == pytest.approx(stats[key]["sd"], abs=0.06), key
    assert refit["near_target_fraction"] == pytest.approx(stats["near_target_fraction"], abs=0.05)
    assert refit["near_target_sigma"] == pytest.approx(stats["near_target_sigma"], rel=0.2)
    assert np.allclose(refit["search_mean"], stats["search_mean"], atol=8)


def test_simulation_without_target_follows_search_pattern():
    stats = load_default_stats()["findings"][POOLED]
    rng = np.random.default_rng(1)
    xy = np.concatenate(
        [np.stack([p.x, p.y], 1) for p in (simulate_scanpath(rng, stats, None, 224) for _ in range(800))]
    )
    assert np.allclose(xy.mean(0), stats["search_mean"], atol=4)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_fixation_csv(tmp_path):
    p = _write(tmp_path, "f.csv", "image,x,y,duration_s\na.png,10,20,0.3\nb.png,1.5,2,0.1\na.png,30,40,0.2\n")
    fx = read_fixation_csv(p)
    assert fx == {"a.png": [(10.0, 20.0, 0.3), (30.0, 40.0, 0.2)], "b.png": [(1.5, 2.0, 0.1)]}


CSV_CASES = [
    ("image,x,y\na.png,1,2\n", "line 1: missing column(s) duration_s"),
    ("image,x,y,duration_s\na.png,1,2,0.3\nb.png,abc,2,0.3\n", "line 3: column 'x' is not a number"),
    ("image,x,y,duration_s\na.png,1,2,-0.3\n", "line 2: column 'duration_s' must be finite"),
    ("image,x,y,duration_s\na.png,1,2,nan\n", "line 2: column 'duration_s' must be finite"),
    ("image,x,y,duration_s\na.png,1,2\n", "line 2: expected 4 fields, got 3"),
    ("image,x,y,duration_s\n,1,2,0.3\n", "line 2: empty image name"),
    ("", "empty file"),
]
JSON_CASES = [
    ('{"X": [1]}', "expected a JSON list"),
    ('[{"X": [1], "Y": [1], "T": [0.2]}, 3]', "entry 1: expected an object"),
    ('[{"X": [1, 2], "Y": [1], "T": [0.2, 0.3]}]', "entry 0: X, Y, T have different lengths"),
    ('[{"X": [1], "Y": [300], "T": [0.2]}]', "entry 0: fixation 0 at (1.0, 300.0) is outside"),
    ('[{"X": [1], "Y": ["a"], "T": [0.2]}]', "entry 0: field 'Y'[0] is not a finite number"),
    ('[{"X": [1], "T": [0.2]}]', "entry 0: field 'Y' must be a list"),
    ("[{", "not valid JSON"),
]


@pytest.mark.parametrize(
    ("reader", "text", "needle"),
    [(read_fixation_csv, t, n) for t, n in CSV_CASES] + [(read_gazesearch, t, n) for t, n in JSON_CASES],
)
def test_malformed_fixation_files_name_file_and_row(tmp_path, reader, text, needle):
    p = _write(tmp_path, "bad.csv" if reader is read_fixation_csv else "bad.json", text)
    with pytest.raises(GazeFormatError) as e:
        reader(p)
    assert str(p) in str(e.value) and needle in str(e.value)


def test_heatmap_is_duration_weighted_and_normalised():
    fix = Fixations(np.array([20.0, 90.0]), np.array([30.0, 60.0]), np.array([1.0, 0.5]), 128, 96)
    h = fixation_heatmap(fix, 128, 96, 3.0)
    assert h.shape == (96, 128) and h.dtype == np.float32
    assert h[30, 20] == pytest.approx(1.0, abs=1e-4)
    assert h[60, 90] == pytest.approx(0.5, abs=1e-3)
    assert h[30, 23] == pytest.approx(math.exp(-0.5), abs=1e-3)  # one sigma away
    empty = Fixations(np.zeros(0), np.zeros(0), np.zeros(0), 10, 10)
    assert not fixation_heatmap(empty, 10, 10, 2.0).any()
    with pytest.raises(ValueError):
        fixation_heatmap(fix, 128, 96, 0.0)


def test_sigma_in_degrees_of_visual_angle():
    # 1 degree at 70 cm = 1.2218 cm; 1920 px over 53 cm; image shown 1000 px wide, stored 500 px wide
    geo = ScreenGeometry(
        screen_width_px=1920, screen_width_cm=53.0, distance_cm=70.0, image_width_on_screen_px=1000
    )
    expected = 2 * 70 * math.tan(math.radians(0.5)) * 1920 / 53.0 * 500 / 1000
    assert geo.sigma_px(1.0, 500) == pytest.approx(expected)
    with pytest.raises(ValueError):
        ScreenGeometry(0, 53, 70, 1000).sigma_px(1.0, 500)


@pytest.mark.parametrize(
    ("name", "bits", "tol"), [("h.png", 8, 1 / 255), ("h.png", 16, 1 / 65535), ("h.npy", 8, 0)]
)
def test_heatmap_file_round_trip(tmp_path, name, bits, tol):
    h = fixation_heatmap(Fixations(np.array([5.0]), np.array([7.0]), np.array([0.4]), 32, 32), 32, 32, 2.0)
    save_heatmap(h, tmp_path / name, bits=bits)
    back = load_heatmap(tmp_path / name)
    assert back.shape == h.shape and np.abs(back - h).max() <= tol + 1e-7


def test_shipped_stats_are_valid_json_with_method():
    stats = json.loads(
        (Path(__file__).resolve().parents[1] / "src" / "eclip_data" / "gaze_stats.json").read_text()
    )
    assert "EM" in stats["method"] and set(stats["findings"]) == {*FINDING_TO_TASK, POOLED}
