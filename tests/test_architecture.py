"""Architecture checks on the package's own import graph, read with :mod:`ast` only.

Nothing is imported: every ``robosim_cosmos/**/*.py`` is parsed, and each import of a
``robosim_cosmos`` module becomes an edge ``importer -> imported`` (module-level and
function-level imports alike; relative imports resolved against the importer's package;
``from PKG import name`` points at ``PKG.name`` when that is a module, else at ``PKG``;
``import_module("<literal>", __name__)`` counts too). Two rules are checked:

* no import cycle between modules (a package's ``__init__`` is a module of its own);
* layering: a module imports only its own top-level subpackage or lower layers, and never a
  lower layer it must skip (:data:`SKIPPED`).

The checker is a handful of plain functions so the last tests can feed it synthetic
packages and prove it reports what it should.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "robosim_cosmos"

# -- layers -----------------------------------------------------------------------------------

CORE = frozenset({"errors", "embodiments", "observations", "policy_api", "action_files", "image_resize",
                  "_gl", "_optional", "_resources", "_version"})
LAYER_RANK: dict[str, float] = {
    "core": 0, "kinematics": 1, "envs": 2, "service": 3, "policies": 4,
    "testing": 4.5,  # test helpers shipped in the package: anything up to policies, nothing above
    "metrics": 5, "records": 6,
    "datasets": 6.5,  # the LeRobot dataset format: core, kinematics, envs and records below it, nothing that runs
    "training": 6.75,  # datasets -> samples -> a trained policy (policies/baseline_model); runs no episode
    "rollout": 7, "analysis": 8, "cli": 9,
}
SKIPPED: frozenset[tuple[str, str]] = frozenset({("analysis", "rollout"), ("datasets", "service"),
                                                 ("datasets", "policies"), ("datasets", "testing"),
                                                 ("training", "service"), ("training", "testing")})
"""Lower layers a layer must not import all the same: analysis reads finished runs through the
run-folder format (records) and the metrics, never the code that runs episodes; the dataset format
needs neither the wire nor a policy."""
FACADE = "facade"  # the package root: exempt as an importer, never importable from inside


# -- reading the graph ------------------------------------------------------------------------

@dataclass(frozen=True)
class Edge:
    importer: str
    imported: str
    file: str
    line: int


def discover(package_dir: Path) -> dict[str, tuple[Path, bool]]:
    """``{dotted module name: (file, is_package)}`` for every .py file under ``package_dir``."""
    base = package_dir.name
    modules: dict[str, tuple[Path, bool]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [base, *path.relative_to(package_dir).with_suffix("").parts]
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        modules[".".join(parts)] = (path, is_package)
    return modules


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """``from <level dots><target> import ...`` written in ``module`` -> absolute module name."""
    package = module if is_package else module.rpartition(".")[0]
    parts = package.split(".")
    if level - 1 >= len(parts):
        raise ValueError(f"{module}: relative import of level {level} goes above the top-level package")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name: str, modules: dict[str, tuple[Path, bool]], package: str) -> str | None:
    """The module ``name`` refers to: itself, or its longest existing prefix; None if not ours."""
    if name != package and not name.startswith(package + "."):
        return None
    while name not in modules and "." in name:
        name = name.rpartition(".")[0]
    return name if name in modules else None


def _import_module_target(node: ast.Call, module: str, is_package: bool) -> str | None:
    """The literal module a call ``import_module("x"[, __name__])`` loads, if it is one."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name != "import_module" or not node.args:
        return None
    first = node.args[0]
    if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
        return None  # computed at run time (e.g. a lookup table): invisible to a static reader
    spec = first.value
    if not spec.startswith("."):
        return spec
    level = len(spec) - len(spec.lstrip("."))
    # import_module(".x", __name__) anchors at the module itself, __package__ at its package.
    anchored_at_module = len(node.args) > 1 and isinstance(node.args[1], ast.Name) and node.args[1].id == "__name__"
    return _resolve_relative(module, is_package or anchored_at_module, level, spec.lstrip(".") or None)


def module_imports(module: str, path: Path, is_package: bool,
                   modules: dict[str, tuple[Path, bool]], package: str) -> list[Edge]:
    """Every import of one of ``modules`` in ``module``'s source, at any nesting depth."""
    tree = ast.parse(path.read_text(), filename=str(path))
    edges: list[Edge] = []

    def add(name: str, line: int) -> None:
        target = _known(name, modules, package)
        if target is not None:
            edges.append(Edge(module, target, str(path), line))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                source = _resolve_relative(module, is_package, node.level, node.module)
            else:
                source = node.module or ""
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                # `from . import x` / `from pkg import x`: the submodule when x is one, else pkg.
                add(submodule if alias.name != "*" and submodule in modules else source, node.lineno)
        elif isinstance(node, ast.Call):
            target = _import_module_target(node, module, is_package)
            if target is not None:
                add(target, node.lineno)
    return edges


def import_graph(package_dir: Path) -> tuple[dict[str, tuple[Path, bool]], list[Edge]]:
    """All modules under ``package_dir`` and every edge between them (self-imports included)."""
    modules = discover(package_dir)
    edges: list[Edge] = []
    for name, (path, is_package) in modules.items():
        edges.extend(module_imports(name, path, is_package, modules, package_dir.name))
    return modules, edges


# -- rule 1: no cycles ------------------------------------------------------------------------
#
# Edges from a package's __init__ to its own children are KEPT. Python loads a parent package
# before any child, but that implicit "child needs parent" dependency is not drawn as an edge
# (the parent is always in sys.modules, at least partially, when the child body runs), so a
# re-exporting __init__ (`from .runner import rollout`) never closes a cycle on its own. And
# `from . import scene` / `from pkg import scene` inside a child is drawn to the submodule
# `pkg.scene`, not to `pkg`, so naming a sibling through the package does not either. What is
# left is a child that explicitly imports a *name* from an ancestor package whose __init__
# (directly or through other modules) imports that child again: that is the genuine
# partially-initialised-module hazard (it works only while the __init__'s import order
# happens to bind the name first), so it must be reported, and dropping the parent -> child
# edges would hide exactly that case.


def find_cycles(nodes: set[str] | list[str], edges: list[tuple[str, str]]) -> list[list[str]]:
    """One concrete cycle ``[a, b, ..., a]`` per strongly connected component that has one.

    Self-imports are cycles of length 1 (``[a, a]``). Deterministic: sorted node order.
    """
    graph: dict[str, set[str]] = {n: set() for n in nodes}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    order = sorted(graph)

    # Tarjan's algorithm, iterative (no recursion limit surprises on big graphs).
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in order:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))

    cycles: list[list[str]] = []
    for component in sorted(components):
        start = component[0]
        members = set(component)
        if len(component) == 1:
            if start in graph[start]:
                cycles.append([start, start])
            continue
        # Shortest path start -> ... -> start inside the component (BFS).
        previous: dict[str, str] = {}
        frontier = [start]
        found = None
        while frontier and found is None:
            nxt = []
            for node in frontier:
                for succ in sorted(graph[node] & members):
                    if succ == start:
                        found = node
                        break
                    if succ not in previous:
                        previous[succ] = node
                        nxt.append(succ)
                if found is not None:
                    break
            frontier = nxt
        assert found is not None, component  # a non-trivial SCC always has a cycle through start
        if found == start:  # a self-import inside a larger component: the shortest cycle
            cycles.append([start, start])
            continue
        path = [found]  # found -> ... -> start, walking the BFS tree backwards
        while path[-1] != start:
            path.append(previous[path[-1]])
        cycles.append([*reversed(path), start])
    return cycles


def format_cycle(cycle: list[str]) -> str:
    return " -> ".join(cycle)


# -- rule 2: layering -------------------------------------------------------------------------

def layer_of(module: str, package: str = PACKAGE) -> str | None:
    """The layer name of a module (``facade`` for the root package), None when unassigned."""
    if module == package:
        return FACADE
    top = module[len(package) + 1:].split(".")[0]
    if top in CORE:
        return "core"
    return top if top in LAYER_RANK else None


def layer_violation(importer: str, imported: str, package: str = PACKAGE) -> str | None:
    """``importer -> imported (layer a -> layer b)`` when the layering forbids this import, else None.

    Allowed: the same top-level subpackage (or the same core module), any lower layer, and one
    core module from another. The root package is exempt as an importer (the public facade
    re-exports lazily) and forbidden as an import target (it would load the whole toolkit).
    Modules in no layer are reported by :func:`unassigned_modules`, not here.
    """
    if importer in (package, imported):
        return None
    a, b = layer_of(importer, package), layer_of(imported, package)
    if a is None or b is None:
        return None
    same_top = importer.split(".")[:2] == imported.split(".")[:2]
    if b != FACADE and (same_top or a == b == "core" or (LAYER_RANK[b] < LAYER_RANK[a] and (a, b) not in SKIPPED)):
        return None
    return f"{importer} -> {imported} (layer {a} -> layer {b})"


def layer_violations(edges: list[tuple[str, str]], package: str = PACKAGE) -> list[str]:
    """Every distinct forbidden import (see :func:`layer_violation`), sorted."""
    return sorted({v for a, b in edges if (v := layer_violation(a, b, package)) is not None})


def unassigned_modules(modules: list[str] | set[str], package: str = PACKAGE) -> list[str]:
    return sorted(m for m in modules if layer_of(m, package) is None)


# -- the real package -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graph() -> tuple[dict[str, tuple[Path, bool]], list[Edge]]:
    return import_graph(ROOT / PACKAGE)


def _pairs(edges: list[Edge]) -> list[tuple[str, str]]:
    return [(e.importer, e.imported) for e in edges]


def test_graph_reads_known_imports(graph):
    modules, edges = graph
    pairs = set(_pairs(edges))
    # Ground truth taken from the sources (the temp-package tests below pin every import form;
    # these only show the real tree is read at all): a relative import, `from . import <module>`,
    # and `from ..<pkg> import <submodule>` resolved to the submodule.
    assert f"{PACKAGE}.cli" in modules and modules[f"{PACKAGE}.envs"][1] is True
    assert (f"{PACKAGE}.rollout.runner", f"{PACKAGE}.rollout.config") in pairs
    assert (f"{PACKAGE}", f"{PACKAGE}._gl") in pairs  # `from . import _gl`
    assert (f"{PACKAGE}.envs.droid_env", f"{PACKAGE}.kinematics.frames") in pairs  # from ..kinematics import frames
    assert (f"{PACKAGE}.envs.droid_env", f"{PACKAGE}.kinematics") not in pairs
    assert all(e.imported in modules and e.importer in modules for e in edges)


def test_every_module_has_a_layer(graph):
    modules, _ = graph
    assert unassigned_modules(set(modules) - {PACKAGE}) == [], (
        "modules outside every layer: add them to CORE or LAYER_RANK in tests/test_architecture.py"
    )


def test_no_import_cycles(graph):
    modules, edges = graph
    cycles = find_cycles(set(modules), _pairs(edges))
    assert not cycles, "import cycle(s):\n" + "\n".join(format_cycle(c) for c in cycles)


def test_layering(graph):
    _, edges = graph
    violations = layer_violations(_pairs(edges))
    # Where each one is written, for the failure message (first occurrence of each pair).
    where: dict[str, str] = {}
    for e in edges:
        v = layer_violation(e.importer, e.imported)
        if v is not None:
            where.setdefault(v, f"{Path(e.file).relative_to(ROOT)}:{e.line}")
    assert not violations, "layering violation(s):\n" + "\n".join(f"{v}  at {where[v]}" for v in violations)



def test_the_package_never_imports_the_repository_tools():
    """tools/ (the asset generator) sits above the package and is not in the wheel."""
    found = []
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
            found += [f"{path.relative_to(ROOT)}:{node.lineno}" for n in names if n.split(".")[0] == "tools"]
    assert found == []


# -- the checker itself -----------------------------------------------------------------------

def test_find_cycles_on_a_synthetic_graph():
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e"), ("e", "e"), ("f", "a")]
    assert find_cycles({"a", "b", "c", "d", "e", "f", "g"}, edges) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a", "b"}, [("a", "b")]) == []
    # The shortest cycle through the first member is reported, not some longer walk.
    assert find_cycles(set("xyz"), [("x", "y"), ("y", "z"), ("z", "x"), ("y", "x")]) == [["x", "y", "x"]]
    assert find_cycles(set("xyz"), [("x", "y"), ("y", "z"), ("z", "x"), ("x", "x")]) == [["x", "x"]]
    assert find_cycles(set("pq"), [("q", "q"), ("p", "q")]) == [["q", "q"]]


def test_layer_violations_on_a_synthetic_graph():
    p = PACKAGE
    edges = [
        (f"{p}.kinematics.ik", f"{p}.envs.scene"),          # upward
        (f"{p}.errors", f"{p}.kinematics"),                 # core -> above core
        (f"{p}.errors", f"{p}.embodiments"),                # core <-> core: allowed
        (f"{p}.testing.chunks", f"{p}.policies.replay"),    # 4.5 -> 4: allowed
        (f"{p}.testing.chunks", f"{p}.rollout"),            # 4.5 -> 5: forbidden
        (f"{p}.policies.registry", f"{p}.testing"),         # 4 -> 4.5: forbidden
        (f"{p}.rollout.runner", f"{p}.rollout"),            # same subpackage: allowed
        (f"{p}.cli", f"{p}.rollout.config"),                # downward: allowed
        (f"{p}.analysis.runs", f"{p}.records.files"),       # downward: allowed
        (f"{p}.analysis.runs", f"{p}.rollout.suite"),       # downward but skipped: forbidden
        (f"{p}.records.merge", f"{p}.rollout.config"),      # upward: forbidden
        (f"{p}.metrics.success", f"{p}.records.results"),   # upward: forbidden
        (f"{p}.envs.tasks", p),                             # the facade from inside: forbidden
        (p, f"{p}.cli"),                                    # the facade itself: exempt
    ]
    assert layer_violations(edges) == sorted([
        f"{p}.analysis.runs -> {p}.rollout.suite (layer analysis -> layer rollout)",
        f"{p}.metrics.success -> {p}.records.results (layer metrics -> layer records)",
        f"{p}.records.merge -> {p}.rollout.config (layer records -> layer rollout)",
        f"{p}.envs.tasks -> {p} (layer envs -> layer facade)",
        f"{p}.errors -> {p}.kinematics (layer core -> layer kinematics)",
        f"{p}.kinematics.ik -> {p}.envs.scene (layer kinematics -> layer envs)",
        f"{p}.policies.registry -> {p}.testing (layer policies -> layer testing)",
        f"{p}.testing.chunks -> {p}.rollout (layer testing -> layer rollout)",
    ])
    assert unassigned_modules({f"{p}.errors", f"{p}.extras.x", f"{p}.newthing"}) == [f"{p}.extras.x", f"{p}.newthing"]


def _write_package(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / PACKAGE / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root / PACKAGE


def test_checker_reports_cycle_and_upward_import_in_a_temp_package(tmp_path):
    pkg = _write_package(tmp_path, {
        "__init__.py": "from . import _version\nfrom .envs import make\n",
        "_version.py": "V = 1\n",
        "errors.py": "from __future__ import annotations\nimport os\nfrom .embodiments import E\n",
        # A function-level absolute import closes the cycle errors -> embodiments -> errors.
        "embodiments.py": "E = 1\ndef f():\n    import robosim_cosmos.errors as e\n    return e\n",
        # The parent re-exports its children; the children name each other through the package.
        "envs/__init__.py": "from .scene import make\nfrom . import tasks\n",
        "envs/scene.py": "from . import tasks\nfrom ..errors import E\nmake = 1\n",
        "envs/tasks.py": "from robosim_cosmos.envs import scene as _unused\n",
        "kinematics/__init__.py": "",
        # Upward: kinematics may not import envs, even lazily.
        "kinematics/ik.py": "def g():\n    from ..envs.scene import make\n    return make\n",
    })
    modules, edges = import_graph(pkg)
    p = PACKAGE
    assert set(modules) == {p, f"{p}._version", f"{p}.errors", f"{p}.embodiments", f"{p}.envs",
                            f"{p}.envs.scene", f"{p}.envs.tasks", f"{p}.kinematics", f"{p}.kinematics.ik"}
    assert sorted(set(_pairs(edges))) == sorted({
        (p, f"{p}._version"), (p, f"{p}.envs"),
        (f"{p}.errors", f"{p}.embodiments"), (f"{p}.embodiments", f"{p}.errors"),
        (f"{p}.envs", f"{p}.envs.scene"), (f"{p}.envs", f"{p}.envs.tasks"),
        (f"{p}.envs.scene", f"{p}.envs.tasks"), (f"{p}.envs.scene", f"{p}.errors"),
        (f"{p}.envs.tasks", f"{p}.envs.scene"),
        (f"{p}.kinematics.ik", f"{p}.envs.scene"),
    })
    ik_edge = next(e for e in edges if e.importer == f"{p}.kinematics.ik")
    assert (Path(ik_edge.file).name, ik_edge.line) == ("ik.py", 2)

    cycles = find_cycles(set(modules), _pairs(edges))
    # Both real cycles, and nothing from the re-exporting envs/__init__.
    assert cycles == [[f"{p}.embodiments", f"{p}.errors", f"{p}.embodiments"],
                      [f"{p}.envs.scene", f"{p}.envs.tasks", f"{p}.envs.scene"]]
    assert layer_violations(_pairs(edges)) == [
        f"{p}.kinematics.ik -> {p}.envs.scene (layer kinematics -> layer envs)"
    ]


def test_child_importing_a_name_from_its_reexporting_parent_is_a_cycle(tmp_path):
    pkg = _write_package(tmp_path, {
        "__init__.py": "",
        "rollout/__init__.py": "from .config import Config\nfrom .runner import run\n",
        "rollout/config.py": "Config = 1\n",
        # `from . import Config` names an attribute of the package, not a submodule.
        "rollout/runner.py": "from . import Config\nrun = 1\n",
    })
    modules, edges = import_graph(pkg)
    p = PACKAGE
    assert (f"{p}.rollout.runner", f"{p}.rollout") in _pairs(edges)
    assert find_cycles(set(modules), _pairs(edges)) == [[f"{p}.rollout", f"{p}.rollout.runner", f"{p}.rollout"]]


def test_import_module_literals_and_the_facade(tmp_path):
    pkg = _write_package(tmp_path, {
        "__init__.py": textwrap.dedent("""
            from importlib import import_module
            def __getattr__(name):
                if name == "cli":
                    return import_module(".cli", __name__)
                return import_module(name)  # computed: not visible statically
        """),
        "cli.py": "import importlib\nX = importlib.import_module('robosim_cosmos.errors')\n",
        "errors.py": "",
        # The facade from inside the package is forbidden, whatever the layer.
        "envs/__init__.py": "import robosim_cosmos\nfrom robosim_cosmos import errors\n",
    })
    modules, edges = import_graph(pkg)
    p = PACKAGE
    assert sorted(set(_pairs(edges))) == sorted({
        (p, f"{p}.cli"), (f"{p}.cli", f"{p}.errors"), (f"{p}.envs", p), (f"{p}.envs", f"{p}.errors"),
    })
    assert layer_violations(_pairs(edges)) == [f"{p}.envs -> {p} (layer envs -> layer facade)"]
    assert find_cycles(set(modules), _pairs(edges)) == []


def test_relative_import_resolution():
    assert _resolve_relative("a.b.c", False, 1, "d") == "a.b.d"
    assert _resolve_relative("a.b.c", False, 2, None) == "a"
    assert _resolve_relative("a.b", True, 1, "c") == "a.b.c"
    assert _resolve_relative("a.b", True, 2, "x.y") == "a.x.y"
    with pytest.raises(ValueError, match="above the top-level package"):
        _resolve_relative("a.b", False, 3, None)
