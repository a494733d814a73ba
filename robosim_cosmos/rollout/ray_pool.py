"""Episodes on Ray (``executor="ray"``): actors each hold one env and one policy, episodes are
handed out as actors free up, and results stream back to the driver, which alone writes the run
folder.

An actor runs an episode into a private temporary folder and returns the result line with the
bytes of the files it wrote (videos, saved chunks); the driver writes them under the run folder,
so actors on other machines need no shared filesystem. An actor that dies mid-episode (killed,
out of memory, a crash in native code) is replaced and its episode handed out once more; a
second death records the episode with an error. Nothing is lost or run twice.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from .._optional import require
from ..errors import ConfigError, WorkerError
from ..records.results import EpisodeResult
from .config import RolloutConfig
from .ray_log import RayLog

NAMESPACE = "robosim_cosmos"
"""Ray namespace of the actors (named ``robosim-worker-<driver pid>-<n>``)."""
RETRIES = 1
"""How often an episode whose actor died is handed out again."""
_ENV_VARS = ("MUJOCO_GL", "PYOPENGL_PLATFORM", "MENAGERIE_ROOT", "ROBOSIM_COSMOS_API_KEY")
_CONNECT_TIMEOUT_S = 3.0
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])  # + empty SETTINGS
_SETTINGS = 4


class EpisodeActor:
    """Inside a Ray worker: one env and one policy for a config; runs episodes on request."""

    def __init__(self, cfg: RolloutConfig) -> None:
        from ..envs import register_envs
        from .setup import build

        register_envs()
        self.cfg = cfg
        self.error: BaseException | None = None
        try:
            self.env, self.policy = build(cfg)
        except Exception as exc:  # noqa: BLE001 - reported by describe() and as each episode's error
            self.error = exc

    def describe(self) -> dict[str, Any]:
        """The policy's class and repr; raises what building the env or the policy raised."""
        if self.error is not None:
            raise self.error
        cls = type(self.policy)
        return {"class": f"{cls.__module__}.{cls.__qualname__}", "repr": repr(self.policy)}

    def run(self, episode: int) -> dict[str, Any]:
        """{"line": the result line, "files": {path relative to the run folder: bytes}}."""
        from .episode import run_episode

        cfg = self.cfg
        if self.error is not None:
            error = f"{type(self.error).__name__}: {self.error}"
            return {"line": EpisodeResult.start(cfg, episode, error=error).to_json(), "files": {}}
        with tempfile.TemporaryDirectory(prefix="robosim-ray-") as tmp:
            line = run_episode(self.env, self.policy, cfg, episode, Path(tmp)).to_json()
            files = {str(p.relative_to(tmp)): p.read_bytes() for p in sorted(Path(tmp).rglob("*")) if p.is_file()}
        return {"line": line, "files": files}

    def pid(self) -> int:
        return os.getpid()



def _target(address: str | None) -> tuple[str, str] | None:
    """(host, port) that ``ray.init(address)`` would connect to, where it says; None for a local
    start or ``auto`` without ``RAY_ADDRESS`` (Ray then looks for a cluster on this machine)."""
    if address is None or address == "auto":
        address = os.environ.get("RAY_ADDRESS") or None
        if address is None or address in ("auto", "local"):
            return None
    if address == "local":
        return None
    target = address[len("ray://"):] if address.startswith("ray://") else address
    host, _, port = target.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"--ray-address must be HOST:PORT, ray://HOST:PORT, auto or local; got {address!r}")
    return host.strip("[]"), port


def _problem(host: str, port: int) -> str | None:
    """Why HOST:PORT is no Ray cluster, or None. Ray's GCS and its client server speak gRPC: an
    HTTP/2 server answers the connection preface with a SETTINGS frame at once."""
    wait = f"{_CONNECT_TIMEOUT_S:.0f} s"
    try:
        with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S) as sock:
            if os.environ.get("RAY_USE_TLS", "0").lower() in ("1", "true"):
                return None  # the handshake would be TLS's: the connection is all we check
            head = b""
            try:
                sock.sendall(_HTTP2_PREFACE)
                while len(head) < 9 and (chunk := sock.recv(9 - len(head))):
                    head += chunk
            except TimeoutError:
                return f"it accepts connections but sent no reply within {wait} (no Ray cluster there?)"
            except OSError:  # reset by a server that wants none of it
                pass
    except TimeoutError:
        return f"no connection within {wait}"
    except OSError as exc:
        return exc.strerror or str(exc)
    if len(head) == 9 and head[3] == _SETTINGS:
        return None
    return "it answers, but not as a Ray cluster does (gRPC); is that the GCS port (6379) or ray:// port (10001)?"


def check_reachable(address: str | None) -> None:
    """ConfigError at once when the cluster ``address`` names (or ``RAY_ADDRESS``, for None and
    ``auto``) does not answer as Ray does: ``ray.init`` would wait for minutes, printing warnings."""
    target = _target(address)
    if target is None:
        return
    host, port = target
    problem = _problem(host, int(port))
    if problem is not None:
        shown = address if address not in (None, "auto") else f"{os.environ['RAY_ADDRESS']} (RAY_ADDRESS)"
        raise ConfigError(f"cannot reach the Ray cluster at {shown}: {problem}")


class RayPool:
    """``workers`` Ray actors running episodes of ``cfg``; the same interface as the process pool
    (:meth:`probe`, :meth:`run`, :meth:`terminate`, :meth:`close`).

    address: an existing cluster (``HOST:PORT``, ``ray://HOST:PORT`` or ``auto``); None starts a
    local instance for this run (unless Ray is already initialized in this process), shut down
    again on close. note: told when an actor died and an episode is handed out again. Ray's own
    output goes to ``ray.log`` in the run folder (:mod:`.ray_log`).
    """

    def __init__(self, cfg: RolloutConfig, workers: int, address: str | None = None,
                 note: Callable[[str], None] | None = None) -> None:
        self.ray = require("ray")
        self.cfg = cfg
        self.note = note or (lambda text: None)
        self._owns_ray = False
        if address is not None or not self.ray.is_initialized():  # also when this process joined a cluster
            check_reachable(address)
        self.log = RayLog()
        try:
            if not self.ray.is_initialized():
                self._init(address, workers)
            self._actor_class = self.ray.remote(num_cpus=1, max_restarts=0)(EpisodeActor)
            self._spawned = 0
            self.actors = [self._spawn() for _ in range(workers)]
        except BaseException:
            self._shutdown()
            raise

    def _init(self, address: str | None, workers: int) -> None:
        env_vars = {k: os.environ[k] for k in _ENV_VARS if k in os.environ}
        joins = address is not None or bool(os.environ.get("RAY_ADDRESS"))
        try:
            with self.log.native_output():
                self.ray.init(address=address, namespace=NAMESPACE, include_dashboard=False, log_to_driver=False,
                              configure_logging=False, runtime_env={"env_vars": env_vars} if env_vars else None,
                              **({} if joins else {"num_cpus": max(workers, os.cpu_count() or 1)}))
        except Exception as exc:  # noqa: BLE001 - any failure to start or join is the same to the user
            kept = self.log.close(keep=True)
            where = f" at {address}" if address else ""
            output = f" (Ray's own output: {kept})" if kept else ""
            raise ConfigError(f"cannot start Ray{where}: {exc}{output}") from None
        self._owns_ray = True

    def _spawn(self) -> Any:
        name = f"robosim-worker-{os.getpid()}-{self._spawned}"
        self._spawned += 1
        return self._actor_class.options(name=name, namespace=NAMESPACE).remote(self.cfg)

    def probe(self) -> dict[str, Any]:
        """Wait until an actor has built the env and the policy; raises what building raised."""
        try:
            info: dict[str, Any] = self.ray.get(self.actors[0].describe.remote())
        except self.ray.exceptions.RayTaskError as exc:
            raise exc.as_instanceof_cause() from None
        except self.ray.exceptions.RayActorError as exc:
            raise WorkerError(f"a Ray worker died while building the env and the policy ({exc})") from None
        return info

    def _died(self, episode: int, reason: str) -> dict[str, Any]:
        error = f"WorkerError: the Ray worker died twice running this episode ({reason})"
        return EpisodeResult.start(self.cfg, episode, error=error).to_json()

    def run(self, episodes: Iterable[int]) -> Iterator[dict[str, Any]]:
        """Run the episodes, one per free actor; yield each result line as it finishes (its files
        already written under the run folder). The next episode is taken from ``episodes`` only
        once an actor is free and the finished lines were yielded (an adaptive feed may stop)."""
        ray = self.ray
        self.log.move_into(Path(self.cfg.out))  # the run holds its folder by now
        pending = iter(episodes)
        again: deque[int] = deque()  # episodes whose actor died, handed out first
        deaths: dict[int, int] = {}
        idle = list(self.actors)
        running: dict[Any, tuple[Any, int]] = {}

        def hand_out() -> None:
            while idle:
                episode = again.popleft() if again else next(pending, None)
                if episode is None:
                    return
                actor = idle.pop()
                running[actor.run.remote(episode)] = (actor, episode)

        hand_out()
        while running:
            ready, _ = ray.wait(list(running), num_returns=1)
            actor, episode = running.pop(ready[0])
            try:
                payload = ray.get(ready[0])
            except ray.exceptions.RayActorError as exc:
                self.actors.remove(actor)
                replacement = self._spawn()
                self.actors.append(replacement)
                idle.append(replacement)
                deaths[episode] = deaths.get(episode, 0) + 1
                if deaths[episode] <= RETRIES:
                    self.note(f"a Ray worker died running episode {episode} ({type(exc).__name__}); running it "
                              "again on a new worker")
                    again.append(episode)
                else:
                    self.note(f"a Ray worker died again running episode {episode}: recorded as an error")
                    yield self._died(episode, type(exc).__name__)
                hand_out()
                continue
            idle.append(actor)
            self._write_files(payload["files"])
            yield payload["line"]
            hand_out()

    def _write_files(self, files: dict[str, bytes]) -> None:
        root = Path(self.cfg.out)
        for rel, data in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".partial")
            tmp.write_bytes(data)
            os.replace(tmp, path)

    def terminate(self) -> None:
        """Kill the actors now (an interrupted run)."""
        for actor in self.actors:
            with contextlib.suppress(Exception):  # already gone
                self.ray.kill(actor)
        self._shutdown()

    def close(self) -> None:
        """Release the actors (their env and policy go with their process)."""
        self.terminate()

    def _shutdown(self) -> None:
        try:
            if self._owns_ray and self.ray.is_initialized():
                with self.log.native_output():
                    self.ray.shutdown()
        finally:
            self._owns_ray = False
            self.log.close()
