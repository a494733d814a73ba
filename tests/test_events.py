"""Per-episode events: each is provoked once in physics and is absent where it should be."""

from __future__ import annotations

import gymnasium as gym
import mujoco
import numpy as np

import robosim_cosmos  # noqa: F401  (registers the env ids)
from robosim_cosmos.envs import EVENTS
from robosim_cosmos.envs.droid_env import DroidEnv
from robosim_cosmos.envs.task_spec import SpecTask
from robosim_cosmos.kinematics import frames
from robosim_cosmos.policies.scripted import ScriptedPolicy


def _env(env_id: str, **kw) -> DroidEnv:
    env = gym.make(env_id, obs_mode="state", **kw).unwrapped
    assert isinstance(env, DroidEnv)
    return env


def _hold(env: DroidEnv, gripper: float, steps: int) -> list[dict]:
    row = np.append(env._cmd.sent, gripper)  # keep the arm where it was last sent
    return [env.step(row)[4] for _ in range(steps)]


def _scripted_until(env: DroidEnv, policy: ScriptedPolicy, done, limit: int = 400) -> list[dict]:
    """Step the scripted expert's chunks, decoded to joint targets as the rollout's
    joint_position execution does, until ``done(info)``; the infos of every step."""
    infos: list[dict] = []
    obs, info = None, {"instruction": env.instruction}
    while len(infos) < limit:
        env.reanchor()
        chunk = policy.get_actions(obs or {}, info["instruction"])
        dec = env.decoder.decode(chunk.actions, env.joint_positions())
        for q, g in zip(dec.joint_positions[:8], dec.gripper[:8], strict=True):
            row = np.append(q, g).astype(np.float32)
            obs, _, terminated, _, info = env.step(row)
            infos.append(info)
            if done(info) or terminated:
                return infos
    raise AssertionError("the scripted expert did not get there")


def _counts(infos: list[dict]) -> dict[str, int]:
    return infos[-1]["event_counts"]


def test_info_reports_events_at_reset_and_each_step() -> None:
    env = _env("robosim_cosmos/DroidReach-v0")
    _, info = env.reset(seed=0)
    assert info["events"] == [] and info["event_counts"] == dict.fromkeys(EVENTS, 0)
    info = _hold(env, 0.0, 1)[0]
    assert set(info["event_counts"]) == set(EVENTS)


def test_table_hit_when_the_gripper_is_driven_into_the_table() -> None:
    env = _env("robosim_cosmos/DroidReach-v0", action_mode="joint_position")
    env.reset(seed=0)
    # a cosmos_ee target that puts the tcp below the table top: the fingertips must touch it
    target = frames.make_pose(env.ee_pose()[:3, :3], [0.55, 0.0, 0.13])[None]
    infos = []
    for _ in range(60):
        q = env.decoder.ik.solve(target, env._cmd.sent).q[0]
        infos.append(env.step(np.append(q, 0.0).astype(np.float32))[4])
    assert _counts(infos)["table_hit"] >= 1
    assert any("table_hit" in i["events"] for i in infos)


def test_no_table_hit_or_drop_in_a_clean_lift() -> None:
    env = _env("robosim_cosmos/DroidLiftCube-v0", action_mode="joint_position")
    env.reset(seed=2)
    policy = ScriptedPolicy(env)
    infos = _scripted_until(env, policy, lambda i: i["is_success"])
    assert _counts(infos) == dict.fromkeys(EVENTS, 0)


def test_object_dropped_when_it_slips_out_of_a_closed_hand() -> None:
    env = _env("robosim_cosmos/DroidLiftCube-v0", action_mode="joint_position")
    env.reset(seed=2)
    policy = ScriptedPolicy(env)
    _scripted_until(env, policy, lambda i: i["is_success"])
    assert env.events.counts["object_dropped"] == 0
    # the cube is pulled out from between the closed fingers, in the air
    q = env.task.items["cube"].qadr
    env.data.qpos[q: q + 2] += [0.08, 0.0]
    mujoco.mj_forward(env.model, env.data)
    env.reanchor()
    infos = _hold(env, 1.0, 3)
    assert _counts(infos)["object_dropped"] == 1


def test_opening_the_hand_is_not_a_drop() -> None:
    env = _env("robosim_cosmos/DroidLiftCube-v0", action_mode="joint_position")
    env.reset(seed=2)
    policy = ScriptedPolicy(env)
    _scripted_until(env, policy, lambda i: i["is_success"])
    infos = _hold(env, 0.0, 20)  # released on purpose: it falls, but it was let go
    assert env.data.xpos[env.model.body("cube").id][2] < 0.04  # the cube's centre
    assert _counts(infos)["object_dropped"] == 0


def test_wrong_object_grasped() -> None:
    env = _env("robosim_cosmos/DroidBlockInBowl-v0", action_mode="joint_position")
    env.reset(seed=0)
    task = env.task
    assert isinstance(task, SpecTask)
    tcp = task._tcp_pos(env.data)
    # a distractor (the marker) put between the open fingers, then the hand closes on it
    marker = task.items["d3"]
    yaw = np.arctan2(*(env.robot.finger_axis_in_ee @ env.ee_pose()[:3, :3].T)[[1, 0]]) + np.pi / 2
    marker.set_pose(env.data, np.array([tcp[0], tcp[1], tcp[2] - 0.009]), float(yaw))
    mujoco.mj_forward(env.model, env.data)
    infos = _hold(env, 1.0, 15)
    assert _counts(infos)["wrong_object_grasped"] == 1
    assert _counts(infos)["object_dropped"] == 0


def test_grasping_the_target_is_not_wrong() -> None:
    env = _env("robosim_cosmos/DroidLiftCube-v0", action_mode="joint_position")
    env.reset(seed=5)
    infos = _scripted_until(env, ScriptedPolicy(env), lambda i: i["is_success"])
    assert _counts(infos)["wrong_object_grasped"] == 0


def test_object_knocked_off_the_table_once() -> None:
    env = _env("robosim_cosmos/DroidBlockInBowl-v0", action_mode="joint_position")
    env.reset(seed=1)
    task = env.task
    assert isinstance(task, SpecTask)
    task.items["d2"].set_pose(env.data, np.array([0.45, 0.64, 0.05]), 0.0)  # past the table's edge
    mujoco.mj_forward(env.model, env.data)
    infos = _hold(env, 0.0, 30)
    assert _counts(infos)["object_knocked_off"] == 1
    infos = _hold(env, 0.0, 10)  # still down there: not counted again
    assert _counts(infos)["object_knocked_off"] == 1


def test_objects_resting_on_the_table_are_not_knocked_off() -> None:
    env = _env("robosim_cosmos/DroidStackBlocks-v0", action_mode="joint_position")
    env.reset(seed=4)
    infos = _hold(env, 0.0, 45)
    assert _counts(infos) == dict.fromkeys(EVENTS, 0)


def test_open_fingers_touching_a_container_are_no_grasp() -> None:
    """Taking a block out of a bowl, the open fingers brush the bowl's walls on the way down."""
    env = _env("robosim_cosmos/DroidBlockOutOfBowl-v0", action_mode="joint_position")
    env.reset(seed=0)
    infos = _scripted_until(env, ScriptedPolicy(env), lambda i: i["is_success"], limit=600)
    assert infos[-1]["is_success"]
    assert _counts(infos) == dict.fromkeys(EVENTS, 0)
