"""The package's import graph, read from the source with ``ast`` (lazy imports included).

Checks, for every ``import`` statement anywhere in ``face3d/`` (module level or inside a
function):

* the layers: each part of the package may import only the parts listed in ``ALLOWED``
  (``audio``, ``analysis`` and ``track`` are pure and below ``mesh``; ``render`` never
  imports ``audio`` or ``analysis``; ``commands`` sit on top);
* no cycle between modules, and none between the parts of the package;
* heavy libraries (GL, windows, sound devices, codecs, plotting) never at module level in
  the modules that ``import face3d`` or building the CLI parser loads, and GL/window
  libraries never anywhere in the pure layers;
* no module imports a private (``_name``) function or class from another module (a private
  *module* such as ``commands/_common.py`` is fine: it is private to its package);
* inside ``mesh`` the same for its packages (``MESH_ALLOWED``: ``geometry`` at the bottom,
  then ``orient``, ``rig``, ``io``, ``autorig``, ``default_head``, and the front door
  ``heads``/``load`` on top), and the rest of face3d reaches into ``mesh`` only through
  ``MESH_PUBLIC``;
* no module over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG_DIR = Path(__file__).resolve().parents[1] / "face3d"

#: part of the package -> the parts it may import (itself always allowed).
#: A part is a top-level module (``track``) or subpackage (``audio``); ``root`` is
#: ``face3d/__init__.py`` and ``main`` is ``face3d/__main__.py``.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "fileio": {"errors"},
    "assets": {"errors"},
    "track": {"errors", "fileio"},
    "audio": {"errors", "fileio"},
    "analysis": {"errors", "track", "assets"},
    "pipeline": {"errors", "fileio", "audio", "analysis", "track"},
    "live": {"errors", "audio", "analysis", "track"},
    "mesh": {"errors", "fileio", "assets"},
    "plot": {"errors", "fileio", "track", "audio"},
    "render": {"errors", "fileio", "assets", "mesh"},
    "formats": {"errors", "fileio", "track", "mesh"},
    "viewer": {"errors", "fileio", "assets", "track", "audio", "live", "pipeline", "mesh", "render"},
    "batch": {"errors", "fileio"},
    "serve": {"errors", "analysis", "formats", "track"},
    "commands": {
        "errors", "fileio", "assets", "track", "audio", "analysis", "pipeline", "live", "mesh",
        "plot", "render", "formats", "viewer", "batch", "serve",
    },
    "cli": {"errors", "commands", "root"},
    "root": {"pipeline"},
    "main": {"cli"},
}

PURE = {"errors", "fileio", "assets", "track", "audio", "analysis", "pipeline", "live", "mesh", "plot", "formats", "batch", "serve"}
#: inside face3d.mesh: package -> the packages it may import (itself always allowed).
#: ``geometry`` is the module face3d/mesh/geometry.py; ``front`` is face3d/mesh/__init__.py,
#: heads.py (``load_head``) and load.py (the read -> orient -> map -> autorig pipeline).
MESH_ALLOWED: dict[str, set[str]] = {
    "geometry": set(),
    "orient": {"geometry"},
    "rig": {"geometry", "orient"},
    "io": {"geometry", "rig"},
    "autorig": {"geometry", "orient", "rig"},
    "default_head": {"geometry", "rig", "io"},
    "front": {"geometry", "orient", "rig", "io", "autorig", "default_head"},
}
#: the parts of mesh that the rest of face3d may import (autorig and default_head are
#: reached through the front door, ``face3d.mesh.heads.load_head``).
MESH_PUBLIC = {"front", "rig", "io", "orient"}
MESH_FRONT = {"face3d.mesh", "face3d.mesh.heads", "face3d.mesh.load"}
MAX_LINES = 400

GL_OR_WINDOW = {"moderngl", "moderngl_window", "pyglet", "imgui_bundle", "glcontext"}
HEAVY = GL_OR_WINDOW | {"sounddevice", "av", "matplotlib", "trimesh", "pygltflib", "dask", "distributed", "scipy"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PKG_DIR.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG_DIR.rglob("*.py"))}


def _part(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] == "__main__":
        return "main"
    return parts[1]


def _mesh_part(module: str) -> str:
    """The package of face3d.mesh a module belongs to (``module`` must be inside mesh)."""
    if module in MESH_FRONT:
        return "front"
    return module.split(".")[2]


class _Import:
    def __init__(self, target: str, names: tuple[str, ...], lineno: int, top_level: bool):
        self.target, self.names, self.lineno, self.top_level = target, names, lineno, top_level


def _imports(module: str, path: Path) -> list[_Import]:
    """Every import in the file, relative ones resolved, with whether it runs at import time."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if _is_package(path) else module.rpartition(".")[0]
    found: list[_Import] = []

    def visit(node: ast.AST, top_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = top_level and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(_Import(alias.name, (), child.lineno, top_level))
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                found.append(_Import(target, tuple(a.name for a in child.names), child.lineno, top_level))
            visit(child, inner)

    visit(tree, True)
    return found


def _graph():
    """module -> {imported face3d module: (lineno, top_level)}, and third-party imports."""
    mods = _modules()
    edges: dict[str, dict[str, tuple[int, bool]]] = {m: {} for m in mods}
    external: dict[str, list[tuple[str, int, bool]]] = {m: [] for m in mods}
    private: list[str] = []
    for mod, path in mods.items():
        for imp in _imports(mod, path):
            if imp.target != "face3d" and not imp.target.startswith("face3d."):
                external[mod].append((imp.target.split(".")[0], imp.lineno, imp.top_level))
                continue
            targets = []
            if imp.names:
                for name in imp.names:
                    sub = f"{imp.target}.{name}"
                    if sub in mods:
                        targets.append(sub)
                    else:
                        targets.append(imp.target)
                        if name.startswith("_") and not name.startswith("__"):
                            private.append(f"{mod}:{imp.lineno} imports {imp.target}.{name}")
            else:
                targets.append(imp.target)
            for t in targets:
                assert t in mods, f"{mod}:{imp.lineno} imports {t}, which does not exist"
                if t != mod:
                    edges[mod].setdefault(t, (imp.lineno, imp.top_level))
    return mods, edges, external, private


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return out


@pytest.fixture(scope="module")
def graph():
    return _graph()


def test_every_part_has_a_layer(graph):
    mods = graph[0]
    unknown = sorted({_part(m) for m in mods} - set(ALLOWED))
    assert not unknown, f"parts of face3d with no entry in ALLOWED: {unknown}"


def test_layers(graph):
    _, edges, _, _ = graph
    bad = []
    for mod, targets in edges.items():
        src = _part(mod)
        for t, (line, _) in targets.items():
            dst = _part(t)
            if dst != src and dst not in ALLOWED[src]:
                bad.append(f"{mod}:{line} imports {t} ({src} may not import {dst})")
    assert not bad, "\n".join(bad)


def _mesh_modules(mods) -> list[str]:
    return [m for m in mods if _part(m) == "mesh"]


def test_every_mesh_package_has_a_layer(graph):
    unknown = sorted({_mesh_part(m) for m in _mesh_modules(graph[0])} - set(MESH_ALLOWED))
    assert not unknown, f"packages of face3d.mesh with no entry in MESH_ALLOWED: {unknown}"


def test_mesh_layers(graph):
    """Inside mesh the arrows point down: io and orient never import autorig or the default head."""
    _, edges, _, _ = graph
    bad = []
    for mod in _mesh_modules(edges):
        src = _mesh_part(mod)
        for t, (line, _) in edges[mod].items():
            if _part(t) != "mesh":
                continue
            dst = _mesh_part(t)
            if dst != src and dst not in MESH_ALLOWED[src]:
                bad.append(f"{mod}:{line} imports {t} (mesh.{src} may not import mesh.{dst})")
    assert not bad, "\n".join(bad)


def test_mesh_entered_through_its_public_packages(graph):
    _, edges, _, _ = graph
    bad = [f"{mod}:{line} imports {t} (outside mesh use {sorted(MESH_PUBLIC)})"
           for mod, targets in edges.items() if _part(mod) != "mesh"
           for t, (line, _) in targets.items()
           if _part(t) == "mesh" and _mesh_part(t) not in MESH_PUBLIC]
    assert not bad, "\n".join(bad)


def test_no_mesh_package_cycles(graph):
    _, edges, _, _ = graph
    parts: dict[str, set[str]] = {}
    for mod in _mesh_modules(edges):
        src = _mesh_part(mod)
        parts.setdefault(src, set()).update(
            _mesh_part(t) for t in edges[mod] if _part(t) == "mesh" and _mesh_part(t) != src)
    cycles = _cycles(parts)
    assert not cycles, f"import cycles between packages of face3d.mesh: {cycles}"


def test_no_module_cycles(graph):
    _, edges, _, _ = graph
    cycles = _cycles({m: set(t) for m, t in edges.items()})
    assert not cycles, f"import cycles between modules: {cycles}"


def test_no_package_cycles(graph):
    _, edges, _, _ = graph
    parts: dict[str, set[str]] = {}
    for mod, targets in edges.items():
        src = _part(mod)
        parts.setdefault(src, set()).update(_part(t) for t in targets if _part(t) != src)
    cycles = _cycles(parts)
    assert not cycles, f"import cycles between parts of the package: {cycles}"


def test_no_private_imports_across_parts(graph):
    assert not graph[3], "\n".join(graph[3])


def test_pure_layers_never_import_gl_or_windows(graph):
    mods, _, external, _ = graph
    bad = [
        f"{m}:{line} imports {name}"
        for m in mods if _part(m) in PURE
        for name, line, _ in external[m] if name in GL_OR_WINDOW
    ]
    assert not bad, "\n".join(bad)


def test_sounddevice_only_in_audio(graph):
    mods, _, external, _ = graph
    bad = [f"{m}:{line}" for m in mods for name, line, _ in external[m]
           if name == "sounddevice" and _part(m) != "audio"]
    assert not bad, "sounddevice imported outside face3d.audio: " + ", ".join(bad)


def test_light_startup(graph):
    """What ``import face3d`` and building the CLI parser load at import time: no heavy library."""
    mods, edges, external, _ = graph
    seen: set[str] = set()
    todo = ["face3d", "face3d.cli", "face3d.__main__"]
    # Building the parser imports every command module (each registers its options).
    todo += [m for m in mods if m.startswith("face3d.commands.")]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        # importing a submodule first imports its packages
        parent = m.rpartition(".")[0]
        if parent:
            todo.append(parent)
        todo += [t for t, (_, top) in edges[m].items() if top]
    bad = [f"{m}:{line} imports {name} at module level"
           for m in sorted(seen) for name, line, top in external[m] if top and name in HEAVY]
    assert not bad, "\n".join(bad)


def test_checker_sees_lazy_imports_and_cycles(tmp_path):
    """The reader itself: an import inside a function is an edge, and a cycle is found."""
    src = tmp_path / "m.py"
    src.write_text("def f():\n    from face3d.render import renderer\n", encoding="utf-8")
    imps = _imports("face3d.audio.m", src)
    assert [(i.target, i.names, i.top_level) for i in imps] == [("face3d.render", ("renderer",), False)]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_module_sizes():
    """Small modules: none over 400 lines."""
    big = {m: n for m, p in _modules().items()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines (split them by concern): {big}"
