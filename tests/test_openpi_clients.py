"""openpi and RoboArena DROID policy servers: the ``openpi://`` client's requests and replies
over real websockets, this project's server answering in those dialects, and closed-loop episodes
driven through both action spaces by a server whose policy is the scripted expert."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from websockets.sync.client import connect as ws_connect

import robosim_cosmos  # registers the env ids
from robosim_cosmos.cli import main
from robosim_cosmos.envs.control import DROID_JOINT_DELTA
from robosim_cosmos.errors import ConfigError, ProtocolError
from robosim_cosmos.policies import create_policy
from robosim_cosmos.policies.scripted import ScriptedPolicy
from robosim_cosmos.policy_api import WHOLE_CHUNK, ActionChunk, Policy, open_loop_steps
from robosim_cosmos.service import PolicyServer, packb, unpackb
from robosim_cosmos.service.openpi_client import OpenpiPolicy

ROOT = Path(__file__).resolve().parents[1]
POSITIONS = ROOT / "examples" / "droid_joint_positions.json"
VELOCITIES = ROOT / "examples" / "droid_joint_velocities.json"
REACH = "robosim_cosmos/DroidReach-v0"
LIFT = "robosim_cosmos/DroidLiftCube-v0"
CUBE_IN_BOWL = "robosim_cosmos/DroidCubeInBowl-v0"
COLOURS = {"exterior_image_1_left": (200, 10, 10), "exterior_image_2_left": (10, 200, 10),
           "wrist_image_left": (10, 10, 200)}
OPENPI_KEYS = {"observation/exterior_image_1_left", "observation/wrist_image_left", "observation/joint_position",
               "observation/gripper_position", "prompt"}
INSTRUCTION = "pick up the cube"


def observation() -> dict[str, np.ndarray]:
    """A DROID observation as the env gives it: 180x320 cameras, each one flat colour."""
    obs = {camera: np.full((180, 320, 3), colour, np.uint8) for camera, colour in COLOURS.items()}
    obs["joint_position"] = np.linspace(-0.3, 0.3, 7)
    obs["gripper_position"] = np.array([0.25])
    obs["cartesian_position"] = np.arange(6, dtype=np.float64) / 10
    return obs


class Recorder:
    """A foreign policy server: sends ``metadata`` on connect, records each decoded request and
    answers it with ``reply`` (a reset, ``endpoint: "reset"``, with ``reset_reply``)."""

    def __init__(self, metadata: Any, reply: bytes | str, reset_reply: bytes | str = "reset successful") -> None:
        self.metadata, self.reply, self.reset_reply = metadata, reply, reset_reply
        self.requests: list[dict[str, Any]] = []

    async def __call__(self, ws) -> None:
        await ws.send(packb(self.metadata))
        async for message in ws:
            request = unpackb(message)
            self.requests.append(request)
            await ws.send(self.reset_reply if request.get("endpoint") == "reset" else self.reply)


def velocity_reply(rows: int = 10) -> tuple[np.ndarray, bytes]:
    actions = np.column_stack([np.linspace(-1.5, 1.5, rows * 7).reshape(rows, 7),
                               np.linspace(0.0, 1.0, rows)]).astype(np.float32)
    return actions, packb({"actions": actions, "policy_timing": {"infer_ms": 50.0},
                           "server_timing": {"infer_ms": 51.0}})


def assert_padded(image: np.ndarray, colour: tuple[int, int, int]) -> None:
    """180x320 in 224x224 keeping the aspect ratio: 126 rows of picture, black bars of 49 above and below."""
    assert image.dtype == np.uint8 and image.shape == (224, 224, 3)
    assert not image[:49].any() and not image[175:].any()
    assert (image[49:175] == colour).all()


# -- the openpi contract ----------------------------------------------------------------------

def test_openpi_request_is_what_the_openpi_droid_client_sends(ws_server):
    actions, reply = velocity_reply()
    server = Recorder({}, reply)
    with ws_server(server) as port, OpenpiPolicy(port=port) as policy:
        assert policy.connect() == {}
        assert (policy.layout, policy.action_space) == ("joint_vel", "joint_velocity")
        assert policy.default_open_loop_steps == 8
        chunk = policy.get_actions(observation(), INSTRUCTION)
        camera_2 = OpenpiPolicy(port=port, exterior_camera="exterior_image_2_left")
        camera_2.get_actions(observation(), INSTRUCTION)
        camera_2.close()
    request = server.requests[0]
    assert set(request) == OPENPI_KEYS and request["prompt"] == INSTRUCTION
    assert_padded(request["observation/exterior_image_1_left"], COLOURS["exterior_image_1_left"])
    assert_padded(request["observation/wrist_image_left"], COLOURS["wrist_image_left"])
    assert_padded(server.requests[1]["observation/exterior_image_1_left"], COLOURS["exterior_image_2_left"])
    joints, gripper = request["observation/joint_position"], request["observation/gripper_position"]
    assert joints.dtype == np.float64 and joints.shape == (7,) and np.array_equal(joints, np.linspace(-0.3, 0.3, 7))
    assert gripper.shape == (1,) and gripper[0] == 0.25
    # The rows as answered, the gripper binarized at 0.5; velocities beyond ±1 are left for the env
    # to clip and count, and reported here.
    assert isinstance(chunk, ActionChunk) and chunk.layout == "joint_vel" and chunk.actions.shape == (10, 8)
    np.testing.assert_array_equal(chunk.actions[:, :7], actions[:, :7])
    np.testing.assert_array_equal(chunk.actions[:, 7], (actions[:, 7] > 0.5).astype(np.float32))
    assert chunk.info["velocities_outside_unit_range"] == int(np.count_nonzero(np.abs(actions[:, :7]) > 1))
    assert chunk.info["server_timing"] == {"infer_ms": 51.0} and chunk.predicted_video is None
    assert policy.chunk_size == 10


def test_openpi_joint_position_checkpoints_and_options(ws_server):
    rows = np.column_stack([np.full((15, 7), 0.1), np.full(15, 0.7)]).astype(np.float32)
    server = Recorder({}, packb({"action": rows}))  # the singular key is accepted too
    with ws_server(server) as port:
        policy = create_policy(f"openpi://127.0.0.1:{port}", action_space="joint_position", binarize_gripper=False,
                               image_size=[96, 128])
        chunk = policy.get_actions(observation(), INSTRUCTION)
        policy.close()
    assert (policy.layout, policy.default_open_loop_steps, policy.chunk_size) == ("joint_pos", WHOLE_CHUNK, 15)
    np.testing.assert_array_equal(chunk.actions, rows)  # no binarization asked for
    image = server.requests[0]["observation/wrist_image_left"]
    # 180x320 into 96x128 keeping the aspect ratio: 72 rows of picture between bars of 12.
    assert image.shape == (96, 128, 3) and not image[:12].any() and not image[84:].any()
    assert (image[12:84] == COLOURS["wrist_image_left"]).all()
    assert open_loop_steps(None, policy.default_open_loop_steps, len(chunk)) == 15


# -- the RoboArena contract -------------------------------------------------------------------

ARENA = {"image_resolution": [224, 224], "needs_wrist_camera": True, "n_external_cameras": 2,
         "needs_stereo_camera": False, "needs_session_id": True, "action_space": "joint_position"}


def test_roboarena_requests_sessions_and_resets(ws_server):
    rows = np.column_stack([np.zeros((4, 7)), np.ones(4)]).astype(np.float32)
    server = Recorder(ARENA, packb({"actions": rows}))
    with ws_server(server) as port:
        policy = OpenpiPolicy(port=port)
        assert policy.connect() == ARENA
        assert (policy.layout, policy.default_open_loop_steps) == ("joint_pos", WHOLE_CHUNK)
        assert policy.image_size == (224, 224)
        policy.reset()  # the first episode: nothing to reset yet
        policy.get_actions(observation(), INSTRUCTION)
        policy.get_actions(observation(), INSTRUCTION)
        policy.reset()  # the episode ended: the server hears of it
        chunk = policy.get_actions(observation(), INSTRUCTION)
        policy.close()  # the last session ends too
    first, second, reset, third, last_reset = server.requests
    assert set(first) == {"observation/exterior_image_1_left", "observation/exterior_image_2_left",
                          "observation/wrist_image_left", "observation/joint_position",
                          "observation/cartesian_position", "observation/gripper_position", "prompt",
                          "endpoint", "session_id"}
    assert first["endpoint"] == "infer" and isinstance(first["session_id"], str)
    for camera, colour in COLOURS.items():  # stretched to 224x224, no bars (the RoboArena client's resize)
        image = first[f"observation/{camera}"]
        assert image.shape == (224, 224, 3) and (image == colour).all()
    np.testing.assert_array_equal(first["observation/cartesian_position"], np.arange(6) / 10)
    assert second["session_id"] == first["session_id"]
    assert reset == {"endpoint": "reset", "session_id": first["session_id"]}
    assert third["session_id"] not in (None, first["session_id"])
    assert last_reset == {"endpoint": "reset", "session_id": third["session_id"]}
    assert chunk.layout == "joint_pos" and len(chunk) == 4


def test_roboarena_defaults_send_one_raw_camera_and_no_session(ws_server):
    server = Recorder({"action_space": "joint_velocity"}, packb({"actions": np.zeros(8, np.float32)}))
    with ws_server(server) as port, OpenpiPolicy(port=port) as policy:
        chunk = policy.get_actions(observation(), INSTRUCTION)
        # RoboArena clients execute every row, whatever the action space.
        assert (policy.layout, policy.default_open_loop_steps) == ("joint_vel", WHOLE_CHUNK)
    request = server.requests[0]
    assert set(request) == {"observation/exterior_image_1_left", "observation/wrist_image_left",
                            "observation/joint_position", "observation/cartesian_position",
                            "observation/gripper_position", "prompt", "endpoint"}
    assert request["observation/exterior_image_1_left"].shape == (180, 320, 3)  # image_resolution None: as captured
    assert chunk.actions.shape == (1, 8)  # a single row, as the RoboArena client accepts


# -- one clear error each ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, match", [
    ({"action_space": "cartesian_velocity"},
     r"unknown action_space 'cartesian_velocity'; valid: \['joint_velocity', 'joint_position'\]"),
    ({"exterior_camera": "wrist_image_left"}, "unknown exterior_camera 'wrist_image_left'"),
    ({"image_size": [224]}, r"image_size must be \[H, W\]"),
    ({"colour": "blue"}, "OpenpiPolicy: .*colour.*its options: host, port, action_space"),
])
def test_bad_options_are_config_errors(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        create_policy("openpi", host="127.0.0.1", port=9, **kwargs)


@pytest.mark.parametrize("actions, shape", [
    (np.zeros((10, 7)), "[10, 7]"),
    (np.zeros((10, 10)), "[10, 10]"),
    (np.zeros((1, 10, 8)), "[1, 10, 8]"),
    (np.zeros((0, 8)), "[0, 8]"),
    (np.zeros(7), "[7]"),
])
def test_a_reply_of_the_wrong_shape_is_a_protocol_error(ws_server, actions, shape):
    with ws_server(Recorder({}, packb({"actions": actions}))) as port, OpenpiPolicy(port=port) as policy:
        expected = f"sent actions of shape {shape}; a DROID joint_velocity chunk is [N, 8] with N >= 1"
        with pytest.raises(ProtocolError, match=expected.replace("[", r"\[").replace("]", r"\]")):
            policy.get_actions(observation(), INSTRUCTION)


def test_a_reply_without_actions_is_a_protocol_error(ws_server):
    with (
        ws_server(Recorder({}, packb({"video": b""}))) as port,
        OpenpiPolicy(port=port) as policy,
        pytest.raises(ProtocolError, match=r"reply has no 'action' or 'actions'; keys: \['video'\]"),
    ):
        policy.get_actions(observation(), INSTRUCTION)


@pytest.mark.parametrize("metadata, kwargs, error, match", [
    ({"action_space": "joint_position"}, {"action_space": "joint_velocity"}, ConfigError,
     "announced action_space 'joint_position', but action_space='joint_velocity' was asked for"),
    ({"action_space": "cartesian_position"}, {}, ProtocolError,
     r"announced action_space 'cartesian_position'; valid: \['joint_velocity', 'joint_position'\]"),
    ({"needs_stereo_camera": True}, {}, ProtocolError, "needs stereo"),
    ({"n_external_cameras": 3}, {}, ProtocolError, "n_external_cameras=3"),
    ({"image_resolution": "big"}, {}, ProtocolError, "sent image_resolution='big'"),
    ({"needs_session_id": "yes"}, {}, ProtocolError, "needs_session_id='yes'; expected true or false"),
    ({"image_resolution": [180, 320]}, {"image_size": [224, 224]}, ConfigError,
     r"asks for images of \(180, 320\)"),
])
def test_metadata_that_cannot_be_served_is_refused(ws_server, metadata, kwargs, error, match):
    server = Recorder(metadata, packb({"actions": np.zeros((2, 8))}))
    with ws_server(server) as port:
        policy = OpenpiPolicy(port=port, retries=0, **kwargs)
        with pytest.raises(error, match=match):
            policy.get_actions(observation(), INSTRUCTION)
    assert server.requests == []


# -- a reply of the other action space ---------------------------------------------------------

HOME = np.array([0.0, -np.pi / 5, 0.0, -4 * np.pi / 5, 0.0, 3 * np.pi / 5, 0.0])  # DROID's reset pose


def rows_of(arm: np.ndarray, n: int = 10) -> np.ndarray:
    """``n`` rows: the arm values (row [7], or rows [n, 7]) + a closed gripper."""
    arm = np.broadcast_to(np.asarray(arm, dtype=np.float64), (n, 7))
    return np.column_stack([arm, np.ones(n)]).astype(np.float32)


@pytest.mark.parametrize("space, arm, evidence", [
    # velocity client: absolute joints a few degrees from the current ones (two of them beyond ±1)
    ("joint_velocity", HOME + 0.05, "the first row is within 2.9° of every current joint"),
    ("joint_velocity", HOME + 0.099, "within 5.7°"),
    ("joint_velocity", HOME + 0.11, None),                         # beyond NEAR_RAD: left alone
    ("joint_velocity", np.full(7, 1.2), "70 of 70 joint values lie outside [-1, 1]"),
    ("joint_velocity", np.r_[np.full(4, 1.2), np.zeros(3)], "40 of 70"),
    ("joint_velocity", np.r_[np.full(3, 1.2), np.zeros(4)], None),  # 30 of 70: a few clipped velocities
    ("joint_velocity", np.full(7, 0.4), None),
    # position client: velocities (all within ±1) far from the current joints
    ("joint_position", np.full(7, 0.3), "every joint value lies within [-1, 1] and the first row is 161°"),
    ("joint_position", HOME + 0.4, None),                          # 0.4 rad away: could still be positions
    ("joint_position", HOME, None),
])
def test_which_replies_look_like_the_other_action_space(space, arm, evidence):
    from robosim_cosmos.service.action_space import other_space_evidence

    found = other_space_evidence(space, rows_of(arm), HOME)
    if evidence is None:
        assert found is None
    else:
        assert found is not None and evidence in found


def test_a_reply_of_the_other_action_space_is_marked_and_warned_about_once(ws_server, caplog):
    obs = {**observation(), "joint_position": HOME}
    positions = rows_of(HOME + np.linspace(0.0, 0.05, 10)[:, None])
    with ws_server(Recorder({}, packb({"actions": positions}))) as port:
        policy = OpenpiPolicy(port=port)
        chunks = [policy.get_actions(obs, INSTRUCTION) for _ in range(2)]
        again = OpenpiPolicy(port=port)  # a suite's next task: a new client for the same server
        chunks.append(again.get_actions(obs, INSTRUCTION))
        told = OpenpiPolicy(port=port, action_space="joint_position")
        right = told.get_actions(obs, INSTRUCTION)
        for client in (policy, again, told):
            client.close()
    assert [c.info["action_space_mismatch"] for c in chunks] == ["joint_position"] * 3
    assert "action_space_mismatch" not in right.info
    np.testing.assert_array_equal(chunks[0].actions, positions)  # still passed on as answered
    warned = [r for r in caplog.records if r.name == "robosim_cosmos.action_space"]
    assert len(warned) == 1 and warned[0].levelname == "WARNING"
    text = warned[0].getMessage()
    assert (f"the policy server at ws://127.0.0.1:{port} answered rows that look like absolute joint positions "
            "(the first row is within 0.0° of every current joint), but this client runs them as joint "
            "velocities") in text
    assert "pass --policy-arg action_space=joint_position" in text


def test_velocities_sent_to_a_joint_position_client_are_marked_too(ws_server, caplog):
    obs = {**observation(), "joint_position": HOME}
    velocities = rows_of(np.full(7, 0.2))
    with ws_server(Recorder({}, packb({"actions": velocities}))) as port, \
            OpenpiPolicy(port=port, action_space="joint_position") as policy:
        chunk = policy.get_actions(obs, INSTRUCTION)
    assert chunk.info["action_space_mismatch"] == "joint_velocity"
    (warned,) = [r.getMessage() for r in caplog.records if r.name == "robosim_cosmos.action_space"]
    assert "look like joint velocities (every joint value lies within [-1, 1]" in warned
    assert "pass --policy-arg action_space=joint_velocity" in warned
    # A RoboArena server announces its space: the advice is about the server, not an option.
    with ws_server(Recorder(ARENA, packb({"actions": velocities}))) as port, OpenpiPolicy(port=port) as policy:
        assert policy.get_actions(obs, INSTRUCTION).info["action_space_mismatch"] == "joint_velocity"
    arena = [r.getMessage() for r in caplog.records if r.name == "robosim_cosmos.action_space"][1]
    assert f"the RoboArena server at ws://127.0.0.1:{port} announced action_space 'joint_position' but " in arena


def test_a_failed_reset_carries_the_servers_traceback(ws_server):
    traceback = 'Traceback (most recent call last):\n  File "server.py", line 1\nKeyError: session_id\n'
    server = Recorder({"needs_session_id": True}, packb({"actions": np.zeros((2, 8))}), reset_reply=traceback)
    with ws_server(server) as port:
        policy = OpenpiPolicy(port=port)
        policy.get_actions(observation(), INSTRUCTION)
        with pytest.raises(ProtocolError, match="failed to reset: KeyError: session_id") as raised:
            policy.reset()
        assert raised.value.remote_traceback == traceback
        policy.close()


def test_close_does_not_wait_long_for_a_silent_reset(ws_server):
    async def ignores_resets(ws) -> None:
        await ws.send(packb({"needs_session_id": True}))
        async for message in ws:
            if unpackb(message).get("endpoint") != "reset":
                await ws.send(packb({"actions": np.zeros((2, 8))}))

    with ws_server(ignores_resets) as port:
        policy = OpenpiPolicy(port=port, receive_timeout=0.5)
        policy.get_actions(observation(), INSTRUCTION)
        start = time.perf_counter()
        policy.close()  # the reset goes unanswered: close gives up after the receive timeout
        assert time.perf_counter() - start < 3.0
        assert policy.get_actions(observation(), INSTRUCTION).actions.shape == (2, 8)  # reconnects
        policy.close()


def test_openpi_specs():
    policy = create_policy("openpi://gpu-box:8001")
    assert isinstance(policy, OpenpiPolicy) and policy.address == "ws://gpu-box:8001"
    assert "gpu-box" in repr(policy) and policy.layout == "joint_vel"
    with pytest.raises(ConfigError, match=r"expected openpi://HOST:PORT"):
        create_policy("openpi://gpu-box")


# -- the cosmos3:// client's image sizes --------------------------------------------------------

def test_cosmos3_client_sends_the_envs_images_or_the_robolab_sizes(ws_server):
    env = gym.make(REACH, image_size=(360, 640))
    obs, _ = env.reset(seed=0)
    env.close()
    server = Recorder({}, packb({"action": np.zeros((32, 8), np.float32)}))
    with ws_server(server) as port:
        for kwargs in ({}, {"exterior_image_size": [180, 320]}):
            with create_policy(f"cosmos3://127.0.0.1:{port}", **kwargs) as policy:
                assert policy.get_actions(obs, INSTRUCTION).layout == "joint_pos"  # 8 wide, unnamed: joints
    as_rendered, robolab = server.requests
    for camera in COLOURS:  # the env's size, untouched
        np.testing.assert_array_equal(as_rendered[f"observation/{camera}"], obs[camera])
    # What NVIDIA's RoboLab client sends: the 360x640 wrist view and 180x320 exteriors.
    np.testing.assert_array_equal(robolab["observation/wrist_image_left"], obs["wrist_image_left"])
    for camera in ("exterior_image_1_left", "exterior_image_2_left"):
        image = robolab[f"observation/{camera}"]
        means = obs[camera].reshape(180, 2, 320, 2, 3).mean(axis=(1, 3))
        assert image.shape == (180, 320, 3) and np.abs(image - means).max() <= 1.0  # 2x2 means, PIL rounding


# -- this project's server, answering as openpi and RoboArena servers ---------------------------

class Fixed(Policy):
    """Always the same rows."""

    def __init__(self, layout: str = "joint_vel", rows: int = 10) -> None:
        self.layout, self.chunk_size = layout, rows
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def get_actions(self, observation, instruction):
        width = 10 if self.layout == "cosmos_ee_delta" else 8
        return ActionChunk(np.full((self.chunk_size, width), 0.5, np.float32), self.layout)


def raw(server: PolicyServer):
    return ws_connect(server.url, compression=None, max_size=None, open_timeout=5)


def openpi_request() -> dict[str, Any]:
    """What the openpi DROID client sends: two 224x224 images, joints, gripper, prompt."""
    return {"observation/exterior_image_1_left": np.zeros((224, 224, 3), np.uint8),
            "observation/wrist_image_left": np.zeros((224, 224, 3), np.uint8),
            "observation/joint_position": np.zeros(7), "observation/gripper_position": np.array([0.0]),
            "prompt": INSTRUCTION}


def test_server_answers_as_an_openpi_droid_server():
    with PolicyServer(Fixed(), port=0, dialect="openpi") as server, raw(server) as ws:
        assert unpackb(ws.recv(timeout=5)) == {}
        ws.send(packb(openpi_request()))
        reply = unpackb(ws.recv(timeout=5))
    assert set(reply) == {"actions", "server_timing"}
    assert reply["actions"].dtype == np.float32 and reply["actions"].shape == (10, 8)


def test_server_answers_as_a_roboarena_server():
    policy = Fixed("joint_pos", rows=6)
    meta = {"image_resolution": [224, 224], "needs_session_id": True}
    with PolicyServer(policy, port=0, dialect="roboarena", metadata=meta) as server:
        with raw(server) as ws:
            assert unpackb(ws.recv(timeout=5)) == {
                "image_resolution": [224, 224], "needs_wrist_camera": True, "n_external_cameras": 1,
                "needs_stereo_camera": False, "needs_session_id": True, "action_space": "joint_position"}
            for session in ("a", "a", "b"):
                ws.send(packb({**openpi_request(), "endpoint": "infer", "session_id": session}))
                assert unpackb(ws.recv(timeout=5))["actions"].shape == (6, 8)
            assert policy.resets == 1  # session "b" started without a reset: its state is fresh
            ws.send(packb({"endpoint": "reset", "session_id": "b"}))
            assert ws.recv(timeout=5) == "reset successful"
            ws.send(packb({**openpi_request(), "endpoint": "infer", "session_id": "c"}))
            ws.recv(timeout=5)
            assert policy.resets == 2  # the reset, once: "c" begins on the fresh state
        for change, match in [
            (lambda r: r.pop("session_id"), "needs a 'session_id' string"),
            (lambda r: r.update({"observation/wrist_image_left": np.zeros((180, 320, 3), np.uint8)}),
             "'observation/wrist_image_left' is 180x320; this server's image_resolution is 224x224"),
            (lambda r: r.update({"endpoint": "stop"}), "unknown 'endpoint' 'stop'"),
        ]:
            request = {**openpi_request(), "endpoint": "infer", "session_id": "d"}
            change(request)
            with raw(server) as ws:
                ws.recv(timeout=5)
                ws.send(packb(request))
                error = ws.recv(timeout=5)
            assert isinstance(error, str) and match in error


@pytest.mark.parametrize("policy, kwargs, match", [
    (Fixed("cosmos_ee_delta"), {"dialect": "openpi"}, "this policy's layout is 'cosmos_ee_delta'"),
    (Fixed("joint_vel"), {"dialect": "openpi", "metadata": {"action_space": "joint_velocity"}},
     r"metadata \['action_space'\] are RoboArena config keys"),
    (Fixed("joint_vel"), {"dialect": "roboarena", "metadata": {"action_space": "joint_position"}},
     "action_space 'joint_position' contradicts the policy's 'joint_vel' rows"),
    (Fixed("joint_pos"), {"dialect": "roboarena", "metadata": {"n_external_cameras": 0}},
     "n_external_cameras must be 1 or 2"),
    (Fixed("joint_pos"), {"dialect": "roboarena", "metadata": {"image_resolution": [224]}},
     "image_resolution must be"),
    (Fixed("joint_pos"), {"dialect": "robolab"}, r"unknown dialect 'robolab'; valid: \['cosmos3', 'openpi'"),
])
def test_server_dialect_misconfiguration_is_refused(policy, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        PolicyServer(policy, port=0, **kwargs)


# -- closed loop: a scripted-expert-backed server through both action spaces ---------------------

class ExpertJoints(Policy):
    """The scripted expert's cosmos chunk decoded to joint rows, as a DROID joint-space server
    would answer: absolute joints (``joint_pos``) or v = Δq / 0.2 per step (``joint_vel``)."""

    needs_images = False

    def __init__(self, env: gym.Env, layout: str, chunk_size: int) -> None:
        self.env, self.layout, self.chunk_size = env.unwrapped, layout, chunk_size
        self.expert = ScriptedPolicy(env, chunk_size=chunk_size)
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1
        self.expert.reset()

    def get_actions(self, observation, instruction):
        q = np.asarray(observation["joint_position"], dtype=np.float64)
        decoded = self.env.decoder.decode(self.expert.get_actions(observation, instruction).actions, q)
        joints = decoded.joint_positions
        if self.layout == "joint_vel":
            joints = np.diff(np.vstack([q, joints]), axis=0) / DROID_JOINT_DELTA
        return ActionChunk(np.column_stack([joints, decoded.gripper]), self.layout)


def run(env: gym.Env, policy: OpenpiPolicy, seed: int) -> dict[str, Any]:
    """One episode, each chunk executed for the policy's default open-loop horizon."""
    obs, info = env.reset(seed=seed)
    policy.reset()
    steps = chunks = clipped = 0
    executed: set[int] = set()
    while True:
        env.unwrapped.reanchor()
        chunk = policy.get_actions(obs, info["instruction"])
        chunks += 1
        n = open_loop_steps(None, policy.default_open_loop_steps, len(chunk))
        executed.add(n)
        for row in chunk.actions[:n]:
            obs, _, terminated, truncated, info = env.step(row)
            steps += 1
            clipped += info["clipped_values"]
            if terminated or truncated:
                return {"success": info["is_success"], "steps": steps, "chunks": chunks, "executed": executed,
                        "clipped": clipped}


@pytest.mark.parametrize("env_id, dialect, layout, metadata, executed", [
    (LIFT, "openpi", "joint_vel", None, {8}),                     # π0-DROID: [10, 8] velocities, 8 executed
    (REACH, "openpi", "joint_pos", None, {16}),                   # a _droid_jointpos checkpoint: every row
    (CUBE_IN_BOWL, "roboarena", "joint_pos", ARENA, {16}),
    (REACH, "roboarena", "joint_vel", {"n_external_cameras": 2, "needs_session_id": True}, {10}),
])
def test_scripted_expert_server_drives_episodes_to_success(env_id, dialect, layout, metadata, executed):
    mode = "joint_velocity" if layout == "joint_vel" else "joint_position"
    env = gym.make(env_id, action_mode=mode)  # rgb: the client sends real camera images
    expert = ExpertJoints(env, layout, 10 if layout == "joint_vel" else 16)
    kwargs = {"action_space": mode} if dialect == "openpi" else {}
    try:
        with PolicyServer(expert, port=0, dialect=dialect, metadata=metadata) as server:
            policy = OpenpiPolicy(port=server.port, **kwargs)
            results = [run(env, policy, seed) for seed in range(2)]
            policy.close()
    finally:
        env.close()
    for result in results:
        assert result["success"], result
        assert result["executed"] <= executed and result["clipped"] == 0
    assert policy.layout == layout
    # RoboArena: the second episode began with a reset for the first one, close() ended the second.
    assert expert.resets == (2 if dialect == "roboarena" else 0)


# -- robosim-cosmos serve --dialect -----------------------------------------------------------

@contextmanager
def serve_cli(*args: str, timeout: float = 120.0) -> Iterator[int]:
    """``robosim-cosmos serve --port 0 ...`` in a subprocess; yields the port it announces."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    with subprocess.Popen([sys.executable, "-m", "robosim_cosmos.cli", "serve", "--port", "0", *args],
                          cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True) as proc:
        lines: list[str] = []
        announced = threading.Event()

        def drain() -> None:
            for line in proc.stderr:
                lines.append(line)
                if "ws://127.0.0.1:" in line:
                    announced.set()
            announced.set()

        threading.Thread(target=drain, daemon=True).start()
        try:
            announced.wait(timeout)
            found = [line for line in lines if "ws://127.0.0.1:" in line]
            assert found, f"serve did not announce a port (exit code {proc.poll()}):\n{''.join(lines)}"
            yield int(found[0].split("ws://127.0.0.1:")[1].split()[0])
            proc.send_signal(signal.SIGINT)
            assert proc.wait(20) == 0, "".join(lines)
        finally:
            if proc.poll() is None:
                proc.kill()


def test_serve_cli_answers_as_a_roboarena_server(tmp_path):
    rows = np.column_stack([np.tile([0.0, -0.6, 0.0, -2.4, 0.0, 1.9, 0.0], (5, 1)), np.ones(5)])
    chunk_file = tmp_path / "joints.json"
    chunk_file.write_text(json.dumps({"layout": "joint_pos", "action_chunks": [rows.tolist()]}))
    with serve_cli("--policy", f"replay:{chunk_file}", "--dialect", "roboarena", "--metadata",
                   "image_resolution=[224,224]", "--metadata", "needs_session_id=true") as port:
        policy = create_policy(f"openpi://127.0.0.1:{port}")
        meta = policy.connect()
        chunk = policy.get_actions(observation(), INSTRUCTION)
        policy.close()
    assert meta["action_space"] == "joint_position" and meta["image_resolution"] == [224, 224]
    assert policy.layout == "joint_pos" and policy.roboarena is not None
    np.testing.assert_allclose(chunk.actions, rows, atol=1e-6)


def test_serve_cli_refuses_a_cosmos_policy_in_the_openpi_dialect(replay_chunk, capsys):
    assert main(["serve", "--policy", f"replay:{replay_chunk}", "--dialect", "openpi", "--port", "0"]) == 2
    assert "an openpi DROID server answers joint rows" in capsys.readouterr().err
    assert main(["serve", "--policy", f"replay:{replay_chunk}", "--metadata", "oops", "--port", "0"]) == 2
    assert "--metadata must look like KEY=VALUE" in capsys.readouterr().err


def test_serve_cli_openpi_metadata_is_announced_and_roboarena_keys_are_refused(capsys):
    with serve_cli("--policy", f"replay:{VELOCITIES}", "--dialect", "openpi", "--metadata", "reset_pose=[0.1, 0.2]",
                   "--metadata", "note=\"sim\"") as port:
        policy = create_policy(f"openpi://127.0.0.1:{port}")
        meta = policy.connect()
        policy.close()
    assert meta == {"reset_pose": [0.1, 0.2], "note": "sim"}  # what an openpi server sends: its policy's metadata
    assert policy.roboarena is None and policy.action_space == "joint_velocity"
    assert main(["serve", "--policy", f"replay:{VELOCITIES}", "--dialect", "openpi", "--port", "0",
                 "--metadata", "needs_session_id=true", "--metadata", "image_resolution=[224,224]"]) == 2
    assert ("robosim-cosmos serve: error: metadata ['image_resolution', 'needs_session_id'] are RoboArena config "
            "keys: an openpi server announcing them would be taken for a RoboArena server; serve with --dialect "
            "roboarena to announce them") in capsys.readouterr().err


# -- action spaces end to end: the example chunks behind an openpi server ------------------------

def rollout_cli(out: Path, port: int, *args: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """Two 24-step episodes of reach against ``openpi://127.0.0.1:PORT``; (exit code, summary, lines)."""
    code = main(["rollout", "--env", REACH, "--policy", f"openpi://127.0.0.1:{port}", "--episodes", "2",
                 "--max-steps", "24", "--no-video", "--out", str(out), *args])
    lines = [json.loads(t) for t in (out / "results.jsonl").read_text().splitlines()]
    return code, json.loads((out / "summary.json").read_text()), lines


def test_joint_positions_run_as_velocities_are_warned_about_once_and_counted(tmp_path, capsys):
    with serve_cli("--policy", f"replay:{POSITIONS}", "--dialect", "openpi") as port:
        code, summary, lines = rollout_cli(tmp_path / "wrong", port)
        err = capsys.readouterr().err
        pooled = rollout_cli(tmp_path / "pooled", port, "--num-envs", "2")
        pooled_err = capsys.readouterr().err
        right = rollout_cli(tmp_path / "right", port, "--policy-arg", "action_space=joint_position")
        right_err = capsys.readouterr().err
    # Each episode starts at the home pose the file starts from: its first reply gives it away.
    assert code == 0 and [r["action_space_mismatches"] for r in lines] == [1, 1]
    assert summary["overall"]["action_space_mismatches"] == 2 and summary["overall"]["clipped_values"] > 0
    warned = [line for line in err.splitlines() if "warning" in line]
    assert len(warned) == 1, err
    assert warned[0].startswith(f"robosim-cosmos rollout: warning: the policy server at ws://127.0.0.1:{port} "
                                "answered rows that look like absolute joint positions")
    assert "pass --policy-arg action_space=joint_position" in warned[0]
    # Two worker processes: still one line, from the parent.
    assert pooled[0] == 0 and pooled[1]["overall"]["action_space_mismatches"] == 2
    warned = [line for line in pooled_err.splitlines() if "warning" in line]
    assert len(warned) == 1, pooled_err
    assert warned[0].startswith("robosim-cosmos rollout: warning: in episode ")
    assert "pass --policy-arg action_space=joint_position" in warned[0]
    # Told what the server sends, the client runs the same rows as positions: nothing to clip or warn about.
    assert right[0] == 0 and "warning" not in right_err
    assert right[1]["overall"]["action_space_mismatches"] == 0 and right[1]["overall"]["clipped_values"] == 0


def test_an_openpi_server_replays_joint_velocities_into_a_rollout(tmp_path, capsys):
    doc = json.loads(VELOCITIES.read_text())
    del doc["layout"]  # an 8-wide file without a layout is joint_pos unless layout=joint_vel says otherwise
    bare = tmp_path / "velocities.json"
    bare.write_text(json.dumps(doc))
    with serve_cli("--policy", f"replay:{bare}", "--policy-arg", "layout=joint_vel", "--dialect", "openpi") as port:
        code, summary, lines = rollout_cli(tmp_path / "remote", port)
    assert code == 0 and "warning" not in capsys.readouterr().err
    local = robosim_cosmos.rollout(REACH, f"replay:{VELOCITIES}", episodes=2, max_steps=24, video=False,
                                   out=tmp_path / "local")
    assert summary["policy"]["repr"].startswith("OpenpiPolicy(") and "joint_velocity" in summary["policy"]["repr"]
    for remote, in_process in zip(lines, local.results, strict=True):
        assert remote["error"] is None and (remote["steps"], remote["chunks"]) == (24, 3)
        assert remote["clipped_values"] == remote["action_space_mismatches"] == 0
        # The same velocity rows reach the same env: the arm moves exactly as the file replayed in-process.
        assert remote["trajectory"] == in_process["trajectory"]
        assert remote["tracking_error"] == in_process["tracking_error"]
        assert remote["trajectory"]["path_length_m"] > 0.05


def test_unset_open_loop_steps_is_the_policys_default_in_the_run_identity():
    from robosim_cosmos.rollout import RolloutConfig

    reach = "robosim_cosmos/DroidReach-v0"
    assert RolloutConfig(reach, "openpi://127.0.0.1:9").identity()["open_loop_steps"] == "policy default"
    assert RolloutConfig(reach, "scripted").identity()["open_loop_steps"] == 8  # as folders from before recorded
    assert RolloutConfig(reach, "openpi://127.0.0.1:9", open_loop_steps=4).identity()["open_loop_steps"] == 4


def test_a_rollout_at_360x640_sends_the_robolab_clients_image_sizes(tmp_path):
    from robosim_cosmos.observations import CAMERAS
    from robosim_cosmos.rollout import RolloutConfig
    from robosim_cosmos.rollout.setup import make_env
    from robosim_cosmos.service.client import observation_to_request

    cfg = RolloutConfig("robosim_cosmos/DroidReach-v0", "cosmos3://127.0.0.1:9", image_size=(360, 640),
                        out=str(tmp_path))
    assert cfg.identity()["image_size"] == [360, 640]
    env = make_env(cfg, "joint_pos", "rgb")
    try:
        obs, _ = env.reset(seed=0)
    finally:
        env.close()
    assert all(obs[cam].shape == (360, 640, 3) for cam in CAMERAS)
    request = observation_to_request(obs, "reach", (180, 320))
    shapes = {k: np.asarray(v).shape for k, v in request.items() if k.endswith(("_left", "_image"))}
    assert shapes["observation/wrist_image_left"] == (360, 640, 3)
    assert shapes["observation/exterior_image_1_left"] == shapes["observation/exterior_image_2_left"] == (180, 320, 3)
    with pytest.raises(ValueError, match="image_size"):
        RolloutConfig("robosim_cosmos/DroidReach-v0", "scripted", image_size=(8, 8))
