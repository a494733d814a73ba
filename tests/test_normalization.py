"""Normalization kinds, stats files and the embodiment table."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from robosim_cosmos.embodiments import EMBODIMENTS, get_embodiment
from robosim_cosmos.kinematics.normalization import (
    ActionStats,
    compute_stats,
    load_stats,
    save_stats,
)

DROID_Q01 = [-0.014200, -0.013416, -0.015206, 0.998459, -0.047659, -0.034774, -0.047609, 0.998428, -0.035553, 0.0]
DROID_Q99 = [0.014515, 0.011517, 0.014520, 1.0, 0.047596, 0.034660, 0.047654, 1.0, 0.038888, 1.0]


def test_shipped_droid_stats_match_design():
    s = load_stats(embodiment="droid")
    assert s.kind == "quantile" and s.domain_name == "droid_lerobot"
    assert np.allclose(s.values["q01"], DROID_Q01) and np.allclose(s.values["q99"], DROID_Q99)
    # ±1 map to the quantiles; identity rotation maps to +1 in columns 3 and 7.
    assert np.allclose(s.denormalize(-np.ones(10)), DROID_Q01)
    assert np.allclose(s.denormalize(np.ones(10)), DROID_Q99)
    n = s.normalize(np.array([0, 0, 0, 1, 0, 0, 0, 1, 0, 1.0]))
    assert np.allclose(n[[3, 7, 9]], 1.0)
    # the formula: x = 0.5 (n + 1)(q99 - q01) + q01
    x = s.denormalize(np.full(10, 0.3))
    assert np.allclose(x, 0.5 * 1.3 * (np.array(DROID_Q99) - DROID_Q01) + DROID_Q01)


@given(arrays(np.float64, (5, 10), elements=st.floats(0, 1)))
def test_quantile_round_trip_inside_range(u):
    s = load_stats(embodiment="droid")
    lo, hi = s.values["q01"], s.values["q99"]
    raw = lo + u * (hi - lo)
    assert np.allclose(s.denormalize(s.normalize(raw)), raw, atol=1e-12)
    assert np.all(np.abs(s.normalize(raw)) <= 1.0)


def test_normalize_clips_outside_quantiles():
    s = load_stats(embodiment="droid")
    n = s.normalize(np.full(10, 5.0))
    assert np.all(n <= 1.0)


@pytest.mark.parametrize("kind", ["quantile", "minmax", "meanstd", "quantile_rot"])
def test_every_kind_round_trips_and_saves(kind, tmp_path):
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(500, 4)) * [1, 2, 3, 4] + [0, 1, -1, 5]
    stats = compute_stats(raw, kind=kind, domain_name="mine")
    x = np.quantile(raw, [0.3, 0.5, 0.7], axis=0)
    assert np.allclose(stats.denormalize(stats.normalize(x)), x)
    if kind == "meanstd":
        assert np.allclose(stats.normalize(stats.values["mean"] + stats.values["std"]), 1.0)
    if kind == "minmax":
        assert np.allclose(stats.normalize(raw.max(axis=0)), 1.0)
    loaded = load_stats(save_stats(stats, tmp_path / "s.json"))
    assert loaded.kind == kind and loaded.width == 4
    assert np.allclose(loaded.denormalize(np.full(4, 0.25)), stats.denormalize(np.full(4, 0.25)))
    if kind == "quantile_rot":
        assert "global_raw" in json.loads((tmp_path / "s.json").read_text())


def test_cosmos_style_nested_action_stats(tmp_path):
    path = tmp_path / "nested.json"
    path.write_text(json.dumps({"action": {"q01": DROID_Q01, "q99": DROID_Q99}}))
    assert load_stats(path, embodiment="droid").width == 10


@pytest.mark.parametrize(
    "doc, message",
    [
        ({"q01": [0.0, float("nan")], "q99": [1.0, 1.0]}, "NaN"),
        ({"q01": [0.0] * 9, "q99": [1.0] * 9}, "width 9"),
        ({"q01": [1.0] * 10, "q99": [0.0] * 10}, "q99 < q01"),
        ({"q01": [0.0] * 10}, "needs stats"),
        ({"q01": [0.0] * 10, "q99": ["a"] * 10}, "list of numbers"),
        ({"normalization": "zscore", "q01": [0.0] * 10, "q99": [1.0] * 10}, "unknown normalization"),
        ({"domain_name": "bridge_orig_lerobot", "q01": [0.0] * 10, "q99": [1.0] * 10}, "not 'droid_lerobot'"),
    ],
)
def test_bad_stats_files(tmp_path, doc, message):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc).replace("NaN", "NaN"))
    with pytest.raises(ValueError, match=message):
        load_stats(path, embodiment="droid")


def test_missing_and_unshipped_stats(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_stats(tmp_path / "nope.json")
    with pytest.raises(ValueError, match="no stats file ships"):
        load_stats(embodiment="bridge")
    with pytest.raises(ValueError, match="shipped domains"):
        load_stats("libero_stats")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_stats(tmp_path / "broken.json")


def test_stats_class_rejects_bad_values():
    with pytest.raises(ValueError, match="NaN"):
        ActionStats("quantile", {"q01": [np.inf], "q99": [1.0]})
    with pytest.raises(ValueError, match="inconsistent widths"):
        ActionStats("quantile", {"q01": [0.0], "q99": [1.0, 2.0]})
    s = load_stats(embodiment="droid")
    with pytest.raises(ValueError, match=r"\[\.\.\., 10\]"):
        s.denormalize(np.zeros(9))
    with pytest.raises(ValueError, match="NaN"):
        s.denormalize(np.full(10, np.nan))
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        compute_stats(np.zeros(5))


def test_embodiment_table():
    droid = get_embodiment("droid")
    assert (droid.domain_name, droid.domain_id, droid.raw_dim, droid.fps, droid.default_chunk) == (
        "droid_lerobot", 8, 10, 15.0, 16)
    assert get_embodiment("droid_lerobot") is droid and get_embodiment("Franka") is droid
    assert get_embodiment("bridge").domain_id == 7 and get_embodiment("bridge").fps == 5
    assert get_embodiment("umi").domain_id == 6 and get_embodiment("fractal").domain_id == 20
    av = get_embodiment("av")
    assert (av.raw_dim, av.default_chunk, av.gripper) == (9, 60, "none")
    assert get_embodiment("agibot").raw_dim == 29
    assert droid.columns[-1] == "grasp" and len(droid.columns) == 10
    ids = [e.domain_id for e in EMBODIMENTS]
    assert len(ids) == len(set(ids))
    with pytest.raises(ValueError, match=r"valid names: .*droid"):
        get_embodiment("pr2")
    with pytest.raises(ValueError, match="libero"):
        get_embodiment("libero")


def test_stats_of_another_normalization_kind_are_refused_for_an_embodiment():
    from robosim_cosmos.errors import StatsError
    from robosim_cosmos.kinematics.decode import ChunkDecoder
    from robosim_cosmos.kinematics.normalization import check_stats_for, load_stats

    quantile = load_stats("droid_lerobot")
    assert check_stats_for(quantile, "droid") is quantile
    meanstd = ActionStats("meanstd", {"mean": [0.0] * 10, "std": [1.0] * 10}, domain_name="droid_lerobot")
    with pytest.raises(StatsError, match="'meanstd' normalization; embodiment 'droid' is normalized with 'quantile'"):
        ChunkDecoder("droid", stats=meanstd)
    with pytest.raises(ValueError, match="width 9"):  # still a ValueError for callers that catch one
        check_stats_for(ActionStats("quantile", {"q01": [0.0] * 9, "q99": [1.0] * 9}), "droid")
