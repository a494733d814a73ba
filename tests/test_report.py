"""The HTML report: loading run and suite folders (old and new formats), the page's content, the
CLI's errors, and the page opened in real headless Chromium (no network, every image decoded,
plots visible in a screenshot). The browser is $ROBOSIM_COSMOS_CHROMIUM, else chromium,
chromium-browser or google-chrome on PATH, else the Chromium Playwright downloaded."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robosim_cosmos import rollout, rollout_suite
from robosim_cosmos.analysis.report import build_report
from robosim_cosmos.analysis.runs import (
    BETA,
    WILSON,
    Episode,
    interval,
    load_run,
    load_runs,
    unique_labels,
)
from robosim_cosmos.analysis.stills import pick_episodes, video_frame
from robosim_cosmos.cli import main
from robosim_cosmos.errors import (
    ConfigError,
    MissingDependencyError,
    ProtocolError,
    ResourceNotFoundError,
    RunFolderError,
)
from robosim_cosmos.policy_api import ActionChunk, Layout, Policy

REACH = "robosim_cosmos/DroidReach-v0"
BROWSER_VARIABLE = "ROBOSIM_COSMOS_CHROMIUM"
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PSNR_STEPS = [31.0, 28.5, 26.0, 24.0, 22.5, 21.0, 20.0, 19.0]


# -- run folders ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """Two real scripted runs (2 and 3 episodes, other seeds), a copy of the second whose summary
    carries a world-model section and Beta intervals as a Cosmos policy's would, and a suite."""
    root = tmp_path_factory.mktemp("runs")
    rollout(REACH, "scripted", episodes=2, seed=0, out=root / "a", video=True, progress=False)
    rollout(REACH, "scripted", episodes=3, seed=10, out=root / "b", video=True, progress=False)
    rollout_suite("scripted", tasks="DroidReach", tiers="vague,default", episodes=1, out=root / "suite",
                  video=True, quiet=True)
    wm = root / "cosmos"
    shutil.copytree(root / "b", wm)
    summary = json.loads((wm / "summary.json").read_text())
    summary["policy"]["spec"] = "diffusers:/ckpt/cosmos3"
    for stats in (summary["overall"], summary["per_env"][REACH]):
        stats.update(successes=2, success_rate=2 / 3, ci95_beta=[0.194, 0.932])
    steps = list(range(1, len(PSNR_STEPS) + 1))
    summary["world_model"] = {
        "episodes": 3, "frames": 60, "view": "ego_view:exterior_image_1_left", "psnr": 24.0, "ssim": 0.7,
        "robot_psnr": 20.0, "robot_ssim": 0.6,
        "per_step": {"step": steps, "frames": [8] * 8, "psnr": PSNR_STEPS,
                     "ssim": [0.92 - 0.04 * i for i in range(8)], "robot_psnr": [p - 4 for p in PSNR_STEPS],
                     "robot_ssim": [0.85 - 0.05 * i for i in range(8)]},
    }
    (wm / "summary.json").write_text(json.dumps(summary))
    return {"a": root / "a", "b": root / "b", "suite": root / "suite", "cosmos": wm}


def _old_run(folder: Path, episodes: int = 2) -> Path:
    """A run folder as the first releases wrote it: none of the keys added since."""
    folder.mkdir(parents=True)
    lines = [{"env_id": REACH, "task": "reach", "instruction": "reach the ball", "seed": i, "episode": i,
              "success": i == 0, "steps": 20, "video": None, "error": None} for i in range(episodes)]
    (folder / "results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    k = sum(1 for line in lines if line["success"])
    stats = {"episodes": episodes, "completed": episodes, "successes": k, "errors": 0,
             "success_rate": k / episodes if episodes else None, "ci95": [0.0945, 0.9055] if episodes else [0.0, 1.0]}
    summary = {"overall": stats, "per_env": {REACH: stats} if episodes else {},
               "config": {"env_id": REACH, "policy": "replay:/data/chunk.json"}}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


# -- loading --------------------------------------------------------------------------------------

def test_a_run_folder_loads_with_its_episodes_and_sections(folders):
    run = load_run(folders["a"])
    assert (run.kind, run.policy, run.env_ids, run.tiers) == ("run", "scripted", [REACH], ["default"])
    assert run.overall["episodes"] == 2 and run.overall["success_rate"] == 1.0
    assert run.cells[(REACH, "default")]["mean_progress"] == 1.0  # summary.json keeps it beside overall
    assert [ep.line["seed"] for ep in run.episodes] == [0, 1]
    assert all(ep.folder == folders["a"] and ep.outcome == "success" for ep in run.episodes)
    assert run.versions["robosim_cosmos"] and run.created


def test_an_old_run_folder_loads_without_the_new_keys(tmp_path):
    run = load_run(_old_run(tmp_path / "old"))
    assert run.policy == "replay:/data/chunk.json"  # from config: old summaries had no policy section
    assert run.tiers == ["default"] and run.world_model is None and run.trajectory is None
    assert run.versions == {} and run.created is None and "events" not in run.overall
    assert interval(run.overall) == ((0.0945, 0.9055), WILSON)
    assert [ep.outcome for ep in run.episodes] == ["success", "failure"]


def test_a_suite_folder_loads_its_cells_and_member_episodes(folders):
    run = load_run(folders["suite"])
    assert (run.kind, run.env_ids, run.tiers) == ("suite", [REACH], ["vague", "default"])
    assert set(run.cells) == {(REACH, "vague"), (REACH, "default")}
    assert run.per_tier["vague"]["episodes"] == 1 and run.overall["episodes"] == 2
    assert {(ep.tier, ep.folder.relative_to(folders["suite"]).as_posix()) for ep in run.episodes} == {
        ("vague", "DroidReach/vague"), ("default", "DroidReach/default")}
    # suite_summary.json has no world-model or trajectory section: they are pooled from the members' lines
    if any(ep.line.get("world_model") for ep in run.episodes):
        assert run.world_model is not None and run.world_model["episodes"] == 2
    if any(ep.line.get("trajectory") for ep in run.episodes):
        assert run.trajectory is not None and run.trajectory["episodes"] == 2


def test_the_interval_is_beta_when_recorded_else_wilson():
    assert interval({"ci95": [0.1, 0.9], "ci95_beta": [0.2, 0.8]}) == ((0.2, 0.8), BETA)
    assert interval({"ci95": [0.1, 0.9]}) == ((0.1, 0.9), WILSON)
    assert interval({"ci95": None}) == (None, WILSON)


def test_default_labels_are_the_policy_specs_made_unique(folders):
    runs = load_runs([folders["a"], folders["b"], folders["cosmos"]])
    assert [r.label for r in runs] == ["scripted (a)", "scripted (b)", "diffusers:/ckpt/cosmos3"]
    twice = [load_run(folders["a"]), load_run(folders["a"])]
    assert unique_labels(twice) == ["scripted (a) #1", "scripted (a) #2"]
    assert [r.label for r in load_runs([folders["a"], folders["b"]], ["x", "y"])] == ["x", "y"]


@pytest.mark.parametrize("labels", [["only one"], ["same", "same"], ["", "b"]])
def test_labels_that_do_not_fit_are_refused(folders, labels):
    with pytest.raises(ConfigError, match="label"):
        load_runs([folders["a"], folders["b"]], labels)


def test_bad_folders_are_refused(tmp_path):
    with pytest.raises(ResourceNotFoundError, match="no such folder"):
        load_run(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunFolderError, match=r"neither summary\.json"):
        load_run(tmp_path / "empty")
    with pytest.raises(RunFolderError, match="no episodes"):
        load_run(_old_run(tmp_path / "zero", episodes=0))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "summary.json").write_text("{not json")
    with pytest.raises(RunFolderError, match="cannot read it as JSON"):
        load_run(broken)


# -- stills ---------------------------------------------------------------------------------------

def test_the_still_is_the_frame_40_percent_into_the_video(folders):
    import imageio.v2 as imageio

    path = folders["a"] / load_run(folders["a"]).episodes[0].line["video"]
    frames = imageio.mimread(path, memtest=False)
    still = video_frame(path)
    assert still is not None and np.array_equal(still, np.asarray(frames[int(0.4 * len(frames))]))
    assert video_frame(folders["a"] / "videos" / "missing.mp4") is None


def test_stills_take_every_task_and_tier_before_a_second_episode(tmp_path):
    def ep(env: str, tier: str, i: int, video: bool = True) -> Episode:
        return Episode({"env_id": env, "episode": i, "video": f"videos/{i}.mp4" if video else None}, tmp_path, tier)

    episodes = [ep(e, t, i) for e in ("B", "A") for t in ("default", "vague") for i in range(3)]
    episodes.append(ep("A", "x", 0, video=False))
    picked, left_out = pick_episodes(episodes, 3)
    # both tasks before a second tier of either; shown in task order (as first seen), tier (vague first), episode
    assert [(e.env_id, e.tier, e.line["episode"]) for e in picked] == [
        ("B", "vague", 0), ("B", "default", 0), ("A", "vague", 0)]
    picked, left_out = pick_episodes(episodes, 5)  # every cell before a second episode of any
    assert [(e.env_id, e.tier, e.line["episode"]) for e in picked] == [
        ("B", "vague", 0), ("B", "vague", 1), ("B", "default", 0), ("A", "vague", 0), ("A", "default", 0)]
    assert left_out == 12 - 5  # episodes without a video are not counted as left out
    assert pick_episodes(episodes, 0) == ([], 12)


# -- the page -------------------------------------------------------------------------------------

class _Page(HTMLParser):
    """What the tests check in the markup: tags, headings, images and every attribute value."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.attrs: list[str] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [v or "" for _, v in attrs]
        if tag == "img":
            self.images.append(dict(attrs))
        if tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag):
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data):
        if self._heading is not None:
            self._heading.append(data)


def _parse(path: Path) -> tuple[str, _Page]:
    text = path.read_text()
    page = _Page()
    page.feed(text)
    return text, page


def test_the_page_is_self_contained_and_complete(folders, tmp_path):
    out = build_report([folders["a"], folders["cosmos"], folders["suite"]], tmp_path / "sub" / "r.html",
                       labels=["expert <b>&", "cosmos", "suite"])
    text, page = _parse(out)
    assert "script" not in page.tags and "link" not in page.tags
    assert all((img.get("src") or "").startswith("data:image/") for img in page.images)
    outside_images = re.sub(r"data:image/(png|jpeg);base64,[A-Za-z0-9+/=]+", "", text)
    assert not re.search(r"https?:|ftp:|file:|//[a-z0-9]|url\(|@import|\bhref=", outside_images, re.I)
    assert "<b>&" not in text and "expert &lt;b&gt;&amp;" in text  # labels are escaped
    for heading in ("Evaluation report", "What was compared", "Success rate", "By task", "By instruction tier",
                    "World model: prediction error against horizon step", "Events", "Trajectory",
                    "Episode stills"):
        assert heading in page.headings, heading
    for caption in ("Overall", "By task", "By instruction tier", "Provenance"):
        assert f"<caption>{caption}</caption>" in text
    # one bar chart per grouping, the horizon plot, and a still of each of the 2 + 3 + 2 episodes
    assert sum(1 for img in page.images if img.get("class") == "plot") == 3
    assert sum(1 for img in page.images if (img.get("src") or "").startswith("data:image/jpeg")) == 7
    assert "[19.4, 93.2] %" in text and "2/3" in text
    assert "DroidReach · vague · episode 0 · seed 0" in text


def test_an_old_run_gets_notes_instead_of_missing_sections(tmp_path):
    out = build_report([_old_run(tmp_path / "old")], tmp_path / "r.html")
    text, page = _parse(out)
    assert "No run has world-model scores" in text and "No run records trajectory metrics" in text
    assert "No run records events" in text and "2 episode(s) without a video" in text
    assert "Wilson score 95 % interval (these runs record no Beta interval)" in text
    assert sum(1 for img in page.images if img.get("class") == "plot") == 2


def test_the_page_says_which_interval_each_run_shows(folders, tmp_path):
    text, _ = _parse(build_report([_old_run(tmp_path / "old"), folders["cosmos"]], tmp_path / "r.html"))
    assert ("Intervals shown (error bars): Beta(k+1, n−k+1) equal-tailed 95 % credible interval where the run "
            "records it, else the Wilson score 95 % interval (runs: replay:/data/chunk.json)") in text
    text, _ = _parse(build_report([folders["cosmos"]], tmp_path / "r.html"))
    assert "Intervals shown (error bars): Beta(k+1, n−k+1) equal-tailed 95 % credible interval." in text


def test_stills_are_capped_per_run(folders, tmp_path):
    text, page = _parse(build_report([folders["b"]], tmp_path / "r.html", max_stills=1))
    assert sum(1 for img in page.images if (img.get("src") or "").startswith("data:image/jpeg")) == 1
    assert "2 more episode(s) with a video left out (at most 1 per run)" in text


def test_without_matplotlib_the_error_names_the_extra(folders, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # an import of it now fails, as when not installed
    with pytest.raises(MissingDependencyError, match=re.escape("pip install 'robosim_cosmos[report]'")):
        build_report([folders["a"]], tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()


# -- the command line -----------------------------------------------------------------------------

def test_cli_writes_the_report(folders, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(folders["a"]), str(folders["b"]), "--out", str(out), "--label", "A",
                 "--label", "B"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("case", ["missing", "neither", "zero", "labels", "out_is_folder"])
def test_cli_bad_input_is_one_line_and_exit_2(folders, tmp_path, capsys, case):
    (tmp_path / "neither").mkdir()
    _old_run(tmp_path / "zero", episodes=0)
    args = {
        "missing": [str(tmp_path / "nope")],
        "neither": [str(tmp_path / "neither")],
        "zero": [str(folders["a"]), str(tmp_path / "zero")],
        "labels": [str(folders["a"]), "--label", "x", "--label", "y"],
        "out_is_folder": [str(folders["a"]), "--out", str(tmp_path)],
    }[case]
    out = [] if case == "out_is_folder" else ["--out", str(tmp_path / "r.html")]
    assert main(["report", *args, *out]) == 2
    err = capsys.readouterr().err
    assert err.startswith("robosim-cosmos report: error: ") and err.count("\n") == 1, err
    assert not (tmp_path / "r.html").exists()


# -- unfinished runs and errored episodes ---------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _killed_suite(tmp_path: Path, replay_chunk: Path, sigkill_cli: Any) -> tuple[Path, list[str]]:
    """A suite (vague, default tiers; 6 episodes each) SIGKILLed once its second member recorded
    an episode: no suite_summary.json, the second member without its summary.json."""
    out = tmp_path / "killed"
    cmd = ["rollout", "--env", REACH, "--tiers", "vague,default", "--policy", f"replay:{replay_chunk}",
           "--episodes", "6", "--max-steps", "150", "--no-video", "--out", str(out), "--quiet"]
    sigkill_cli(cmd, out / "DroidReach" / "default" / "results.jsonl")
    return out, cmd


def test_a_killed_run_and_suite_are_reported_marked_unfinished(tmp_path, replay_chunk, capsys, sigkill_cli):
    suite, cmd = _killed_suite(tmp_path, replay_chunk, sigkill_cli)
    member = suite / "DroidReach" / "default"
    assert not (suite / "suite_summary.json").exists() and not (member / "summary.json").exists()
    recorded = len((member / "results.jsonl").read_text().splitlines())
    assert 1 <= recorded < 6
    run = load_run(member)
    assert run.kind == "run" and run.overall["episodes"] == recorded and run.policy == f"replay:{replay_chunk}"
    assert run.unfinished is not None
    assert f"unfinished run: {recorded} of 6 episodes recorded, no summary.json" in run.unfinished
    assert f"robosim-cosmos {' '.join(cmd)}" in run.unfinished  # how to resume it
    whole = load_run(suite)
    assert whole.kind == "suite" and whole.tiers == ["vague", "default"] and whole.overall["episodes"] == 6 + recorded
    assert whole.cells[(REACH, "vague")]["episodes"] == 6 and whole.cells[(REACH, "default")]["episodes"] == recorded
    assert whole.unfinished is not None and f"unfinished: DroidReach/default {recorded} of 6" in whole.unfinished
    out = tmp_path / "r.html"
    assert main(["report", str(suite), str(member), "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(e.startswith("robosim-cosmos report: warning: ") for e in err)
    assert "unfinished suite: no suite_summary.json" in err[0] and "unfinished run" in err[1]
    text, _ = _parse(out)
    assert "unfinished suite: no suite_summary.json" in text and f"{recorded} of 6 episodes recorded" in text
    # the command it names resumes it; the report is then the finished suite's
    assert main(cmd) == 0
    assert load_run(suite).unfinished is None and load_run(suite).overall["episodes"] == 12


def test_a_summary_older_than_its_results_is_an_unfinished_run(folders, tmp_path):
    folder = tmp_path / "resumed"
    shutil.copytree(folders["a"], folder)
    lines = (folder / "results.jsonl").read_text().splitlines()
    extra = {**json.loads(lines[-1]), "episode": 2, "seed": 2, "success": False}  # a resume killed after one more
    (folder / "results.jsonl").write_text("\n".join([*lines, json.dumps(extra)]) + "\n")
    run = load_run(folder)
    assert run.overall["episodes"] == 3 and run.overall["successes"] == 2 and run.unfinished is not None
    assert "unfinished run: 3 episodes recorded, summary.json sums up 2 of them" in run.unfinished
    doc = json.loads((folder / "run.json").read_text())
    (folder / "run.json").write_text(json.dumps({**doc, "episodes": 4}))  # as the resume with --episodes 4 records
    assert "unfinished run: 3 of 4 episodes recorded" in (load_run(folder).unfinished or "")


def test_a_partial_merge_is_reported_as_partial(tmp_path):
    from robosim_cosmos.records.merge import merge
    from robosim_cosmos.rollout.config import RolloutConfig

    rollout(REACH, "scripted", episodes=3, out=tmp_path / "s0", video=False, progress=False, shard="0/2")
    merge(tmp_path / "m", [tmp_path / "s0"], RolloutConfig.from_identity, allow_partial=True)
    run = load_run(tmp_path / "m")
    assert run.overall["episodes"] == 2 and run.unfinished == (
        "partial merge: shards not given: 1/2; 1 episode(s) missing (summary.json's \"partial\")")
    text, _ = _parse(build_report([tmp_path / "m"], tmp_path / "r.html"))
    assert "partial merge: shards not given: 1/2" in text


class _Raises(Policy):
    """Raises in episode 1 (counted by its own resets), holds still otherwise."""

    layout: Layout = "cosmos_ee_delta"
    chunk_size = 8
    needs_images = False

    def __init__(self) -> None:
        self.episode = -1

    def reset(self) -> None:
        self.episode += 1

    def get_actions(self, observation, instruction):
        if self.episode == 1:
            raise ProtocolError("server went away <mid-chunk> & did not come back")
        actions = np.zeros((8, 10), np.float32)
        actions[:, 3] = actions[:, 7] = 1.0
        return ActionChunk(actions, self.layout)


def test_errored_episodes_are_listed_with_their_error(tmp_path, folders):
    rollout(REACH, _Raises(), episodes=3, out=tmp_path / "errs", max_steps=16, video=False, progress=False)
    text, page = _parse(build_report([tmp_path / "errs"], tmp_path / "r.html", labels=["flaky"]))
    assert "Errored episodes" in page.headings
    row = re.search(r"<tr><td>.*?flaky.*?</tr>", text[text.index('id="errors"'):], re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    assert cells[1:5] == ["DroidReach", "default", "1", "1"]
    assert "ProtocolError: server went away &lt;mid-chunk&gt; &amp; did not come back" in cells[5]
    text, page = _parse(build_report([folders["a"]], tmp_path / "r.html"))
    assert "Errored episodes" not in page.headings  # no section without an errored episode


# -- in a real browser ----------------------------------------------------------------------------

def find_chromium() -> Path | None:
    """The browser to drive: $ROBOSIM_COSMOS_CHROMIUM (a mistake in it fails the test), else the
    first of SYSTEM_BROWSERS on PATH, else Playwright's own (``python -m playwright install
    chromium``) where it was downloaded; None when there is none."""
    named = os.environ.get(BROWSER_VARIABLE)
    if named:
        path = Path(named).expanduser()
        if not (path.is_file() and os.access(path, os.X_OK)):
            pytest.fail(f"${BROWSER_VARIABLE}={named} is not an executable file")
        return path
    for name in SYSTEM_BROWSERS:
        found = shutil.which(name)
        if found:
            return Path(found)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    with sync_playwright() as p:
        downloaded = Path(p.chromium.executable_path)
    return downloaded if downloaded.is_file() else None


def _playwright() -> tuple[Any, Path]:
    """sync_playwright and the browser, or a skip naming what is missing (a failure under CI=true)."""
    missing = []
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("playwright (pip install playwright)")
    browser = find_chromium()
    if browser is None:
        missing.append(f"a Chromium: ${BROWSER_VARIABLE}, {', '.join(SYSTEM_BROWSERS)} on PATH (Debian: apt-get "
                       "install chromium) or python -m playwright install chromium")
    if missing:
        message = f"the browser test needs {' and '.join(missing)}"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " in CI")
        pytest.skip(message)
    assert browser is not None
    return sync_playwright, browser


def _executable(folder: Path, name: str, target: Path | None = None) -> Path:
    path = folder / name
    if target is None:
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
    else:
        path.symlink_to(target)
    return path


def test_the_browser_is_found_by_variable_on_path_or_from_playwright(tmp_path, monkeypatch):
    bin_dir, other = tmp_path / "bin", tmp_path / "other"
    bin_dir.mkdir()
    other.mkdir()
    monkeypatch.delenv(BROWSER_VARIABLE, raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "no-downloads"))
    assert find_chromium() is None
    chrome = _executable(bin_dir, "google-chrome")
    assert find_chromium() == chrome
    linked = _executable(bin_dir, "chromium-browser")
    assert find_chromium() == linked  # earlier in SYSTEM_BROWSERS
    named = _executable(other, "my-chromium")
    monkeypatch.setenv(BROWSER_VARIABLE, str(named))
    assert find_chromium() == named  # the variable comes first
    monkeypatch.setenv(BROWSER_VARIABLE, str(other / "missing"))
    with pytest.raises(pytest.fail.Exception, match=rf"\${BROWSER_VARIABLE}=.*missing is not an executable"):
        find_chromium()


def test_a_browser_found_on_path_is_the_one_driven(tmp_path, monkeypatch):
    sync_playwright, system = _playwright()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    linked = _executable(bin_dir, "chromium-browser", system.resolve())
    monkeypatch.delenv(BROWSER_VARIABLE, raising=False)
    with monkeypatch.context() as only_bin:  # a machine whose browser is nowhere but on PATH
        only_bin.setenv("PATH", str(bin_dir))
        assert find_chromium() == linked
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(linked), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page()
            page.set_content("<p id=x>drawn</p>")
            assert page.inner_text("#x") == "drawn"
        finally:
            browser.close()


def _pixels(png: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _near(pixels: np.ndarray, hex_colour: str, tol: int = 12) -> int:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int(np.count_nonzero(np.all(np.abs(pixels.astype(int) - rgb) <= tol, axis=-1)))


def test_heatmap_colours_and_cells_carry_rate_interval_and_count(folders):
    from robosim_cosmos.analysis.report import _heatmaps, heat_colour

    assert heat_colour(0.0) == "#d6604d" and heat_colour(1.0) == "#66bd63" and heat_colour(0.5) == "#fee08b"
    assert heat_colour(0.25) not in (heat_colour(0.0), heat_colour(0.5))
    runs = load_runs([folders["suite"]])
    html = _heatmaps(runs, runs, ["robosim_cosmos/DroidReach-v0", "robosim_cosmos/DroidLiftCube-v0"],
                     ["vague", "default", "specific"])
    assert html.count('class="heat"') == 2  # the suite ran two tiers of one task: no empty rows or columns
    assert "specific" not in html and "DroidLiftCube" not in html
    assert 'data-rate="1.0000"' in html and "[" in html and "Beta" in html


def test_the_page_in_headless_chromium(folders, tmp_path):
    sync_playwright, chromium = _playwright()
    out = build_report([folders["a"], folders["cosmos"], folders["suite"]], tmp_path / "report.html")
    url = out.resolve().as_uri()
    problems: list[str] = []
    requests: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in (
                "error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
            page.on("request", lambda r: requests.append(r.url))

            def only_the_file(route):  # anything but the page itself would leave the machine
                if route.request.url == url:
                    route.continue_()
                else:
                    route.abort()

            page.route("**/*", only_the_file)
            page.goto(url, wait_until="load")
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight, e.className])")
            headings = page.locator("h2").all_inner_texts()
            tables = page.locator("table").count()
            compared = page.locator("section.card").first.inner_text()
            shot = page.screenshot(full_page=True, path=str(tmp_path / "report.png"))
            bars = page.locator("#success img.plot").first.screenshot()
            heat = page.eval_on_selector_all(
                "table.heatmap td.heat", "els => els.map(e => [e.title, getComputedStyle(e).backgroundColor, "
                "e.innerText, e.getBoundingClientRect().width])")
            horizon = page.locator("#world-model img.plot").screenshot()
        finally:
            browser.close()

    assert problems == []
    assert [u for u in requests if not u.startswith("data:")] == [url]
    assert len(images) == 3 + 7 and all(done and w > 0 and h > 0 for done, w, h, _ in images), images
    assert headings == ["What was compared", "Success rate", "World model: prediction error against horizon step",
                        "Events", "Trajectory", "Episode stills"]
    # the suite's task x tier heatmap: one coloured cell per tier, the interval beside the rate, the count on hover
    assert len(heat) == 2, heat
    for title, background, text, width in heat:
        assert title.startswith("DroidReach / ") and "1/1 = 100.0 %" in title and "Beta" in title
        assert background == "rgb(102, 189, 99)" and "100 %" in text and "[" in text and width > 40
    assert tables >= 8 and all(label in compared for label in ("scripted (a)", "diffusers:/ckpt/cosmos3", "suite"))
    page_px, bars_px, horizon_px = _pixels(shot), _pixels(bars), _pixels(horizon)
    assert page_px.shape[0] > 2000 and len(np.unique(page_px.reshape(-1, 3), axis=0)) > 2000  # stills, plots
    # the bars of each run show in its colour, and the horizon plot draws both runs' curves
    for colour in ("#1f77b4", "#ff7f0e", "#2ca02c"):
        assert _near(bars_px, colour) > 500, colour
    assert _near(horizon_px, "#ff7f0e") > 200 and _near(horizon_px, "#2ca02c") > 200  # (a) hides under the suite
    assert np.mean(np.all(horizon_px > 245, axis=-1)) < 0.97  # not a blank image
