"""The in-process diffusers backend, end to end on a tiny random Cosmos3 checkpoint.

The checkpoint is built and saved at test time (nothing is downloaded) and loaded
through the same path as a real one. Tests that need torch/diffusers skip cleanly
without them; the conditioning-image tests are numpy only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robosim_cosmos.errors import MissingDependencyError
from robosim_cosmos.image_resize import resize_bilinear
from robosim_cosmos.policies.conditioning import conditioning_image, to_pipeline_image
from robosim_cosmos.policies.diffusers_policy import DiffusersCosmos3Policy
from robosim_cosmos.policy_api import ActionChunk, Policy

REPO_ROOT = Path(__file__).resolve().parents[1]
CHUNK = 4  # small chunk, tier 256 and 2 steps keep a call under a second on 2 CPU cores
FAST = dict(chunk_size=CHUNK, num_inference_steps=2, guidance_scale=1.0, resolution_tier=256)
INSTRUCTION = "put the marker in the bowl"


def _observation(seed: int = 0, height: int = 180, width: int = 320) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    keys = ("exterior_image_1_left", "exterior_image_2_left", "wrist_image_left")
    obs: dict[str, np.ndarray] = {k: rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for k in keys}
    obs["joint_position"] = np.zeros(7)
    obs["gripper_position"] = np.zeros(1)
    return obs


def _solid(color: tuple[int, int, int], height: int = 180, width: int = 320) -> np.ndarray:
    return np.broadcast_to(np.array(color, dtype=np.uint8), (height, width, 3)).copy()


# --------------------------------------------------------------------------- conditioning image


def test_ego_view_returns_the_chosen_exterior_camera():
    obs = _observation()
    image = conditioning_image(obs, "ego_view")
    assert image.dtype == np.uint8 and image.shape == (180, 320, 3)
    np.testing.assert_array_equal(image, obs["exterior_image_1_left"])
    other = conditioning_image(obs, "ego_view", camera="exterior_image_2_left")
    np.testing.assert_array_equal(other, obs["exterior_image_2_left"])


def test_concat_view_puts_wrist_on_top_and_exteriors_half_size_below():
    obs = {
        "wrist_image_left": _solid((255, 0, 0)),
        "exterior_image_1_left": _solid((0, 255, 0)),
        "exterior_image_2_left": _solid((0, 0, 255)),
    }
    image = conditioning_image(obs, "concat_view")
    assert image.dtype == np.uint8
    assert image.shape == (180 + 90, 320, 3)
    assert np.all(image[:180] == (255, 0, 0))  # wrist, full size
    assert np.all(image[180:, :160] == (0, 255, 0))  # exterior 1, bottom left
    assert np.all(image[180:, 160:] == (0, 0, 255))  # exterior 2, bottom right


def test_concat_view_half_size_is_the_2x2_block_mean():
    rng = np.random.default_rng(1)
    obs = _observation()
    obs["exterior_image_1_left"] = rng.integers(0, 256, (180, 320, 3), dtype=np.uint8)
    image = conditioning_image(obs, "concat_view")
    blocks = obs["exterior_image_1_left"].astype(np.float64).reshape(90, 2, 160, 2, 3).mean(axis=(1, 3))
    # A 2x downsample samples exactly between pixels; the server truncates to uint8.
    np.testing.assert_array_equal(image[180:, :160], np.floor(blocks).astype(np.uint8))


def test_concat_view_handles_odd_sizes():
    obs = _observation(height=181, width=321)
    image = conditioning_image(obs, "concat_view")
    assert image.shape == (181 + 90, 321, 3)


def test_resize_matches_torch_bilinear():
    torch = pytest.importorskip("torch")
    functional = pytest.importorskip("torch.nn.functional")
    rng = np.random.default_rng(2)
    for height, width, out_h, out_w in [(180, 320, 90, 160), (181, 321, 90, 161), (100, 90, 37, 59)]:
        image = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        tensor = torch.from_numpy(image).permute(2, 0, 1)[None].float()
        ref = functional.interpolate(tensor, size=(out_h, out_w), mode="bilinear", align_corners=False)
        ref = ref[0].permute(1, 2, 0).numpy().astype(np.uint8)
        diff = np.abs(resize_bilinear(image, out_h, out_w).astype(int) - ref.astype(int))
        # Exact for the 2x DROID case; elsewhere float rounding before truncation may differ by 1.
        assert diff.max() <= (0 if (height, width) == (180, 320) else 1)


@pytest.mark.parametrize(
    ("observation", "view_point", "match"),
    [
        ({}, "ego_view", "exterior_image_1_left"),
        ({"exterior_image_1_left": np.zeros((180, 320, 3), np.float32)}, "ego_view", "uint8"),
        ({"exterior_image_1_left": np.zeros((180, 320), np.uint8)}, "ego_view", r"\[H, W, 3\]"),
        ({"exterior_image_1_left": np.zeros((180, 320, 3), np.uint8)}, "concat_view", "wrist_image_left"),
        ({"exterior_image_1_left": np.zeros((180, 320, 3), np.uint8)}, "side_view", "ego_view"),
    ],
)
def test_conditioning_image_errors(observation, view_point, match):
    with pytest.raises(ValueError, match=match):
        conditioning_image(observation, view_point)


def test_conditioning_image_rejects_unknown_camera():
    with pytest.raises(ValueError, match="exterior_image_2_left"):
        conditioning_image(_observation(), "ego_view", camera="wrist_image_left")


def test_to_pipeline_image_is_an_rgb_pil_image_with_the_same_pixels():
    pil_image = pytest.importorskip("PIL.Image")
    array = _observation()["exterior_image_1_left"]
    image = to_pipeline_image(array)
    assert isinstance(image, pil_image.Image) and image.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(image), array)
    with pytest.raises(ValueError, match="uint8"):
        to_pipeline_image(array.astype(np.float32) / 255.0)


def test_modules_import_without_torch():
    # Block the heavy modules in a fresh interpreter: importing ours must not touch them.
    code = (
        "import sys\n"
        "for name in ('torch', 'diffusers', 'transformers', 'PIL'):\n"
        "    sys.modules[name] = None\n"
        "import robosim_cosmos.policies.diffusers_policy, robosim_cosmos.policies.conditioning\n"
        "import robosim_cosmos.testing\n"
        "from robosim_cosmos.errors import MissingDependencyError\n"
        "try:\n"
        "    robosim_cosmos.policies.diffusers_policy.DiffusersCosmos3Policy('anything')\n"
        "except MissingDependencyError as exc:\n"
        "    assert 'pip install' in str(exc), exc\n"
        "else:\n"
        "    raise SystemExit('no MissingDependencyError')\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_missing_torch_raises_missing_dependency_with_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"robosim_cosmos\[cosmos\]"):
        DiffusersCosmos3Policy("does/not/matter")


# --------------------------------------------------------------------------- tiny checkpoint


@pytest.fixture(scope="module")
def policy(tiny_checkpoint) -> DiffusersCosmos3Policy:
    return DiffusersCosmos3Policy(tiny_checkpoint, seed=0, **FAST)


class _SpyPipeline:
    """Forwards to the real pipeline and records every call's keyword arguments."""

    def __init__(self, inner):
        self._inner = inner
        self.calls: list[dict] = []

    def __call__(self, **kwargs):
        self.calls.append(kwargs)
        return self._inner(**kwargs)

    def __getattr__(self, name):
        return getattr(self._inner, name)


def test_checkpoint_has_the_real_layout(tiny_checkpoint):
    for part in ("transformer", "vae", "scheduler", "text_tokenizer"):
        assert (tiny_checkpoint / part).is_dir(), part
    index = json.loads((tiny_checkpoint / "model_index.json").read_text())
    assert index["_class_name"] == "Cosmos3OmniPipeline"


def test_tiny_pipeline_is_deterministic(tiny_checkpoint):
    from robosim_cosmos.testing import build_tiny_cosmos3_pipeline

    first = build_tiny_cosmos3_pipeline(seed=3).transformer.state_dict()
    second = build_tiny_cosmos3_pipeline(seed=3).transformer.state_dict()
    assert all(np.array_equal(first[k].numpy(), second[k].numpy()) for k in first)


def test_policy_mode_returns_actions_and_video(policy):
    assert isinstance(policy, Policy)
    chunk = policy.get_actions(_observation(), INSTRUCTION)
    assert isinstance(chunk, ActionChunk)
    assert chunk.layout == "cosmos_ee_delta" and chunk.embodiment == "droid"
    assert chunk.actions.shape == (CHUNK, 10) and chunk.actions.dtype == np.float32
    assert np.all(np.isfinite(chunk.actions))
    video = chunk.predicted_video
    assert video is not None and video.dtype == np.uint8
    assert video.ndim == 4 and video.shape[0] == CHUNK + 1 and video.shape[-1] == 3
    assert chunk.info["mode"] == "policy" and chunk.info["domain_name"] == "droid_lerobot"
    assert chunk.info["steps"] == 2 and chunk.info["latency_s"] > 0


def test_latent_output_skips_the_video(policy):
    latent_only = DiffusersCosmos3Policy(policy.pipeline, return_video=False, **FAST)
    spy = latent_only.pipeline = _SpyPipeline(policy.pipeline)
    chunk = latent_only.get_actions(_observation(), INSTRUCTION)
    assert chunk.predicted_video is None
    assert chunk.actions.shape == (CHUNK, 10)
    assert spy.calls[-1]["output_type"] == "latent"


def test_seed_makes_calls_reproducible(policy):
    obs = _observation()
    seeded = DiffusersCosmos3Policy(policy.pipeline, seed=7, return_video=False, **FAST)
    first = seeded.get_actions(obs, INSTRUCTION).actions
    second = seeded.get_actions(obs, INSTRUCTION).actions
    assert not np.array_equal(first, second)  # the generator advances between calls
    seeded.reset()
    np.testing.assert_array_equal(seeded.get_actions(obs, INSTRUCTION).actions, first)
    other = DiffusersCosmos3Policy(policy.pipeline, seed=7, return_video=False, **FAST)
    np.testing.assert_array_equal(other.get_actions(obs, INSTRUCTION).actions, first)


def test_concat_view_runs(policy):
    concat = DiffusersCosmos3Policy(policy.pipeline, view_point="concat_view", return_video=False, **FAST)
    spy = concat.pipeline = _SpyPipeline(policy.pipeline)
    chunk = concat.get_actions(_observation(), INSTRUCTION)
    assert chunk.actions.shape == (CHUNK, 10)
    action = spy.calls[-1]["action"]
    assert action.view_point == "concat_view" and action.image.size == (320, 270)


def test_forward_dynamics_returns_a_video(policy):
    actions = np.zeros((CHUNK, 10), dtype=np.float32)
    chunk = policy.forward_dynamics(_observation(), INSTRUCTION, actions)
    assert chunk.actions.shape == (0, 10)
    assert chunk.predicted_video is not None and chunk.predicted_video.shape[0] == CHUNK + 1
    assert chunk.info["mode"] == "forward_dynamics"

    # The same through get_actions in forward_dynamics mode, actions in the observation.
    fd = DiffusersCosmos3Policy(policy.pipeline, mode="forward_dynamics", **FAST)
    obs = dict(_observation(), actions=actions[:2])  # shorter chunks repeat the last action
    assert fd.get_actions(obs, INSTRUCTION).predicted_video.shape[0] == CHUNK + 1
    with pytest.raises(ValueError, match="'actions'"):
        fd.get_actions(_observation(), INSTRUCTION)


@pytest.mark.parametrize(
    "bad", [np.zeros((CHUNK, 8)), np.zeros((CHUNK + 1, 10)), np.zeros(10), np.full((2, 10), np.nan)]
)
def test_forward_dynamics_rejects_bad_actions(policy, bad):
    with pytest.raises(ValueError):
        policy.forward_dynamics(_observation(), INSTRUCTION, bad)


def test_inverse_dynamics_returns_actions(policy):
    rng = np.random.default_rng(4)
    video = rng.integers(0, 256, (CHUNK + 1, 180, 320, 3), dtype=np.uint8)
    spy_policy = DiffusersCosmos3Policy(policy.pipeline, mode="inverse_dynamics", **FAST)
    spy = spy_policy.pipeline = _SpyPipeline(policy.pipeline)
    chunk = spy_policy.inverse_dynamics(video, INSTRUCTION)
    assert chunk.actions.shape == (CHUNK, 10) and chunk.actions.dtype == np.float32
    assert np.all(np.isfinite(chunk.actions))
    assert chunk.predicted_video is None and chunk.info["mode"] == "inverse_dynamics"
    via_get_actions = spy_policy.get_actions({"video": video}, INSTRUCTION)
    assert via_get_actions.actions.shape == (CHUNK, 10)
    # uint8 frames reach the pipeline as PIL images, never as raw uint8 arrays.
    from PIL import Image

    assert all(isinstance(frame, Image.Image) for frame in spy.calls[-1]["action"].video)
    with pytest.raises(ValueError, match="chunk_size"):
        spy_policy.inverse_dynamics(video[:CHUNK], INSTRUCTION)
    with pytest.raises(ValueError, match="uint8"):
        spy_policy.inverse_dynamics(video.astype(np.float32), INSTRUCTION)


def test_conditioning_reaches_the_pipeline_as_pil_or_unit_float(policy):
    from PIL import Image

    checked = DiffusersCosmos3Policy(policy.pipeline, return_video=False, **FAST)
    spy = checked.pipeline = _SpyPipeline(policy.pipeline)
    obs = _observation()
    checked.get_actions(obs, INSTRUCTION)
    checked.forward_dynamics(obs, INSTRUCTION, np.zeros((CHUNK, 10), np.float32))
    for call in spy.calls:
        image = call["action"].image
        if isinstance(image, Image.Image):
            np.testing.assert_array_equal(np.asarray(image), obs["exterior_image_1_left"])
        else:  # the only other safe form: floats in [0, 1]
            array = np.asarray(image)
            assert array.dtype.kind == "f" and array.min() >= 0.0 and array.max() <= 1.0
        assert call["fps"] == 15.0  # DROID's control rate goes into the caption
        assert call["enable_safety_check"] is False


def test_bfloat16_load_keeps_time_embedder_in_float32(tiny_checkpoint):
    import torch

    low = DiffusersCosmos3Policy(tiny_checkpoint, dtype="bfloat16", return_video=False, **FAST)
    transformer = low.pipeline.transformer
    dtypes = {name: p.dtype for name, p in transformer.named_parameters()}
    assert all(d == torch.float32 for n, d in dtypes.items() if "time_embedder" in n.split("."))
    assert dtypes["proj_in.weight"] == torch.bfloat16
    assert low.get_actions(_observation(), INSTRUCTION).actions.shape == (CHUNK, 10)


def test_accepts_a_pipeline_object(tiny_checkpoint):
    from robosim_cosmos.testing import build_tiny_cosmos3_pipeline

    direct = DiffusersCosmos3Policy(build_tiny_cosmos3_pipeline(), return_video=False, **FAST)
    assert direct.get_actions(_observation(), INSTRUCTION).actions.shape == (CHUNK, 10)
    with pytest.raises(TypeError, match="Cosmos3OmniPipeline"):
        DiffusersCosmos3Policy(object())


# --------------------------------------------------------------------------- errors


def test_missing_path_raises_file_not_found(tiny_checkpoint, tmp_path):
    with pytest.raises(FileNotFoundError, match="no Cosmos3 checkpoint"):
        DiffusersCosmos3Policy(tmp_path / "nope", **FAST)


def test_folder_without_model_index_is_rejected(tiny_checkpoint, tmp_path):
    with pytest.raises(ValueError, match=r"model_index\.json"):
        DiffusersCosmos3Policy(tmp_path, **FAST)
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "WanPipeline"}))
    with pytest.raises(ValueError, match="Cosmos3OmniPipeline"):
        DiffusersCosmos3Policy(tmp_path, **FAST)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"mode": "planner"}, "mode must be one of"),
        ({"embodiment": "roomba"}, "unknown embodiment"),
        ({"embodiment": "av"}, "10-wide"),
        ({"resolution_tier": 300}, "resolution_tier"),
        ({"view_point": "wrist_view"}, "view_point"),
        ({"camera": "wrist_image_left"}, "camera"),
        ({"dtype": "float64"}, "dtype"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"num_inference_steps": 0}, "num_inference_steps"),
        ({"guidance_scale": float("nan")}, "guidance_scale"),
    ],
)
def test_bad_arguments_raise_value_error(tiny_checkpoint, kwargs, match):
    args = dict(FAST, **kwargs)
    with pytest.raises(ValueError, match=match):
        DiffusersCosmos3Policy(tiny_checkpoint, **args)


def test_empty_instruction_is_rejected(policy):
    with pytest.raises(ValueError, match="instruction"):
        policy.get_actions(_observation(), "  ")


def test_embodiment_table_agrees_with_the_installed_diffusers():
    """Every domain id and action width in our table is the one diffusers conditions the model with."""
    pytest.importorskip("diffusers")
    from diffusers.pipelines.cosmos import pipeline_cosmos3_omni as omni

    from robosim_cosmos.embodiments import EMBODIMENTS

    checked = 0
    for emb in EMBODIMENTS:
        if emb.domain_name in omni._EMBODIMENT_TO_DOMAIN_ID:
            assert omni._EMBODIMENT_TO_DOMAIN_ID[emb.domain_name] == emb.domain_id, emb.name
            checked += 1
        if emb.domain_name in omni._EMBODIMENT_TO_RAW_ACTION_DIM:
            assert omni._EMBODIMENT_TO_RAW_ACTION_DIM[emb.domain_name] == emb.raw_dim, emb.name
    assert checked == len(EMBODIMENTS)


def test_a_domain_id_diffusers_disagrees_with_is_refused():
    import dataclasses

    import diffusers

    from robosim_cosmos.embodiments import get_embodiment
    from robosim_cosmos.errors import ConfigError
    from robosim_cosmos.policies.cosmos3_pipeline import check_domain_table

    droid = get_embodiment("droid")
    check_domain_table(droid, diffusers)  # agrees: no error
    with pytest.raises(ConfigError, match="maps domain 'droid_lerobot' to id 8"):
        check_domain_table(dataclasses.replace(droid, domain_id=9), diffusers)
    with pytest.raises(ConfigError, match="10-wide"):
        check_domain_table(dataclasses.replace(droid, raw_dim=11), diffusers)
