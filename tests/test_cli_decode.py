"""The ``robosim-cosmos decode`` command on files in every accepted form."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robosim_cosmos.cli import main

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "droid_chunk.json"


def test_decode_example_to_stdout(capsys):
    assert main(["decode", str(EXAMPLE)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert np.array(out["joint_positions"]).shape == (16, 7)
    assert np.array(out["ee_poses"]).shape == (16, 4, 4)
    assert len(out["gripper"]) == 16
    # the example opens for 12 steps then closes (Cosmos grasp 1 → DROID 0)
    assert out["gripper"][:12] == pytest.approx([0.0] * 12) and out["gripper"][12:] == pytest.approx([1.0] * 4)
    assert out["ik"]["position_mm"]["max"] < 0.1 and out["ik"]["rotation_deg"]["max"] < 0.05
    assert all(out["ik"]["converged"])


@pytest.mark.parametrize("form", ["bare", "chunks", "shape"])
def test_decode_accepts_every_form(tmp_path, form):
    rows = json.loads(EXAMPLE.read_text())["data"][:4]
    doc = {"bare": rows, "chunks": {"action_chunks": [rows, rows]},
           "shape": {"shape": [4, 10], "dtype": "float32", "data": rows}}[form]
    src = tmp_path / "a.json"
    src.write_text(json.dumps(doc))
    dst = tmp_path / "out.json"
    assert main(["decode", str(src), "--out", str(dst), "--q-init", "[0,-0.6,0,-2.5,0,1.9,0]"]) == 0
    assert np.array(json.loads(dst.read_text())["joint_positions"]).shape == (4, 7)


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "not valid JSON"),
        ('{"foo": 1}', "no 'data' or 'action_chunks'"),
        ("[[1, 2, 3]]", "10 columns"),
        ("[[NaN, 0, 0, 1, 0, 0, 0, 1, 0, 1]]", "NaN"),
        ("[]", "empty"),
        ('"text"', "unsupported JSON top level"),
        ('{"shape": [2, 10], "data": [[0,0,0,1,0,0,0,1,0,1]]}', "'shape' says"),
        ('{"action_chunks": []}', "non-empty list"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, capsys, content, message):
    src = tmp_path / "bad.json"
    src.write_text(content)
    assert main(["decode", str(src)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_bad_options(capsys, tmp_path):
    assert main(["decode", str(tmp_path / "missing.json")]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["decode", str(EXAMPLE), "--q-init", "[1, 2]"]) == 2
    assert "7 finite" in capsys.readouterr().err
    assert main(["decode", str(EXAMPLE), "--embodiment", "pr2"]) == 2
    assert "valid names" in capsys.readouterr().err
    assert main(["decode", str(EXAMPLE), "--robot", "kuka"]) == 2
    assert "embedded" in capsys.readouterr().err


def test_console_entry_point_runs_as_module():
    proc = subprocess.run([sys.executable, "-m", "robosim_cosmos.cli", "decode", str(EXAMPLE)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)["gripper"]) == 16
