"""Where MuJoCo Menagerie's Panda and Robotiq 2F-85 MJCF files are on this machine.

Menagerie is never vendored: it is found through ``MENAGERIE_ROOT``, an explicit path, the
``robot_descriptions`` package or the ``mujoco-menagerie`` package (either may download the
models on first use).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

from ..errors import ResourceNotFoundError

MENAGERIE_ENV_VAR = "MENAGERIE_ROOT"
MENAGERIE_PANDA_DIR = "franka_emika_panda"
MENAGERIE_PANDA_XML = "panda.xml"
MENAGERIE_PANDA_ENTRY = "panda"
MENAGERIE_2F85_DIR = "robotiq_2f85"
MENAGERIE_2F85_XML = "2f85.xml"
ROBOT_DESCRIPTIONS_PANDA = "robot_descriptions.panda_mj_description"
ROBOT_DESCRIPTIONS_2F85 = "robot_descriptions.robotiq_2f85_mj_description"


def _menagerie_hint() -> str:
    return (
        f"set {MENAGERIE_ENV_VAR}=/path/to/mujoco_menagerie (the folder containing "
        f"{MENAGERIE_PANDA_DIR}/), install `robot_descriptions` or `mujoco-menagerie`, or pass the "
        f"path of {MENAGERIE_PANDA_DIR}/{MENAGERIE_PANDA_XML}"
    )


def panda_xml_in(path: Path) -> Path:
    """A panda.xml file given a file, a franka_emika_panda folder or a menagerie root."""
    if path.is_file():
        return path
    for candidate in (path / MENAGERIE_PANDA_XML, path / MENAGERIE_PANDA_DIR / MENAGERIE_PANDA_XML):
        if candidate.is_file():
            return candidate
    raise ResourceNotFoundError(
        f"no Panda MJCF at {path}: looked for {path / MENAGERIE_PANDA_XML} and "
        f"{path / MENAGERIE_PANDA_DIR / MENAGERIE_PANDA_XML}; {_menagerie_hint()}"
    )


def _robot_descriptions_path(module: str) -> Path | None:
    """``MJCF_PATH`` of a ``robot_descriptions`` module, or None when the package is absent.

    Importing a description may clone Menagerie on first use; any failure counts as absent."""
    try:
        description = importlib.import_module(module)
        return Path(description.MJCF_PATH)
    except Exception:  # noqa: BLE001  (ImportError, clone/network errors, no MJCF_PATH)
        return None


def resolve_menagerie_panda(root: str | os.PathLike[str] | None = None) -> Path:
    """Absolute path of Menagerie's ``franka_emika_panda/panda.xml``.

    Looks at ``root`` (menagerie root, the ``franka_emika_panda`` folder or the XML itself),
    else ``$MENAGERIE_ROOT`` (same forms), else the ``robot_descriptions`` package
    (``panda_mj_description.MJCF_PATH``), else the ``mujoco-menagerie`` package (either may
    download the model on first use). Raises ResourceNotFoundError when none of these has it.
    """
    if root is not None:
        return panda_xml_in(Path(root).expanduser()).resolve()
    env_root = os.environ.get(MENAGERIE_ENV_VAR)
    if env_root:
        try:
            return panda_xml_in(Path(env_root).expanduser()).resolve()
        except FileNotFoundError as err:
            raise ResourceNotFoundError(f"{MENAGERIE_ENV_VAR}={env_root}: {err}") from None
    described = _robot_descriptions_path(ROBOT_DESCRIPTIONS_PANDA)
    if described is not None:
        if not described.is_file():
            raise ResourceNotFoundError(
                f"{ROBOT_DESCRIPTIONS_PANDA}.MJCF_PATH = {described} does not exist; {_menagerie_hint()}"
            )
        return described.resolve()
    return _panda_from_menagerie_package()


def _panda_from_menagerie_package() -> Path:
    """The Panda XML from the optional ``mujoco-menagerie`` package (never a dependency)."""
    try:
        import mujoco_menagerie
    except ImportError:
        raise ResourceNotFoundError(
            f"MuJoCo Menagerie Panda not found: {MENAGERIE_ENV_VAR} is unset and neither "
            f"`robot_descriptions` nor `mujoco-menagerie` is installed; {_menagerie_hint()}"
        ) from None
    try:
        xml = Path(mujoco_menagerie.get(MENAGERIE_PANDA_DIR).xml(MENAGERIE_PANDA_ENTRY))
    except Exception as err:  # MenagerieError, download/network errors
        raise ResourceNotFoundError(
            f"the `mujoco-menagerie` package could not provide {MENAGERIE_PANDA_DIR} ({err}); "
            f"{_menagerie_hint()}"
        ) from err
    if not xml.is_file():
        raise ResourceNotFoundError(f"{xml} does not exist; {_menagerie_hint()}")
    return xml.resolve()


def resolve_menagerie_2f85(panda_source: str | os.PathLike[str] | None = None) -> Path:
    """Absolute path of Menagerie's ``robotiq_2f85/2f85.xml``.

    Looks next to the Menagerie Panda ``panda_source`` (``<root>/robotiq_2f85/``), then under
    ``$MENAGERIE_ROOT``, then at the ``robot_descriptions`` package's
    ``robotiq_2f85_mj_description.MJCF_PATH``. Raises ResourceNotFoundError naming every path
    it looked at.
    """
    candidates: list[Path] = []
    if panda_source is not None:
        panda = Path(panda_source).expanduser()
        candidates.append(panda.parent.parent / MENAGERIE_2F85_DIR / MENAGERIE_2F85_XML)
    env_root = os.environ.get(MENAGERIE_ENV_VAR)
    if env_root:
        root = Path(env_root).expanduser()
        if root.name == MENAGERIE_PANDA_DIR or root.name == MENAGERIE_PANDA_XML:
            root = root.parent if root.name == MENAGERIE_PANDA_DIR else root.parent.parent
        candidates.append(root / MENAGERIE_2F85_DIR / MENAGERIE_2F85_XML)
    described = _robot_descriptions_path(ROBOT_DESCRIPTIONS_2F85)
    if described is not None:
        candidates.append(described)
    looked: list[str] = []
    for candidate in candidates:
        if candidate.is_file():
            return candidate.resolve()
        if str(candidate) not in looked:
            looked.append(str(candidate))
    where = ", ".join(looked) if looked else "nowhere"
    raise ResourceNotFoundError(
        f"MuJoCo Menagerie's Robotiq 2F-85 ({MENAGERIE_2F85_DIR}/{MENAGERIE_2F85_XML}) not found: "
        f"looked at {where}; set {MENAGERIE_ENV_VAR} to a Menagerie root that holds "
        f"{MENAGERIE_2F85_DIR}/ or install `robot_descriptions`; the project's own model is "
        "gripper='robotiq_2f85'"
    )
