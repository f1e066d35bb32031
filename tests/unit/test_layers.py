"""The folders are the layers of design.md, and imports point down only.

Each module's imports are read from its source (AST), so this needs no
process and no network. A module may import its own layer and the layers
below it; ``lab`` may load ``frames``/``plots`` inside functions (never at
import); nothing below the presentation layer imports pandas, matplotlib or
ipywidgets.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "registrykit"

# Lower rank = lower layer. Presentation modules sit above the core and lab.
RANKS = {
    "_version": 0,
    "_model": 0,
    "_credentials": 1,
    "_transport": 2,
    "_registry": 3,
    "_client": 4,
    "_stores": 5,
    "_ops": 6,
    "lab": 7,
    "frames": 8,
    "plots": 9,
    "widgets": 10,
    "cli": 11,
    "__init__": 12,
    "__main__": 12,
}
PRESENTATION_LIBRARIES = ("pandas", "matplotlib", "ipywidgets", "IPython")
# lab builds reports and demos: it may load presentation inside a function.
LATE_ALLOWED = {("lab", "frames"), ("lab", "plots")}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(absolute module imported, at module level?) for every import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, bool]] = []
    top_level = {id(node) for node in _top_level_nodes(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            at_top = id(node) in top_level
            if node.module or not target.startswith("registrykit"):
                found.append((target, at_top))
            # `from . import x` imports the submodule x
            if target.startswith("registrykit"):
                found += [
                    (f"{target}.{alias.name}", at_top)
                    for alias in node.names
                    if (PACKAGE.parent / f"{target}.{alias.name}".replace(".", "/")).exists()
                    or (
                        PACKAGE.parent / (f"{target}.{alias.name}".replace(".", "/") + ".py")
                    ).exists()
                ]
    return found


def _top_level_nodes(tree: ast.Module) -> list[ast.AST]:
    """Statements that run at import: the module body, including if/try blocks."""
    nodes: list[ast.AST] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.If | ast.Try):
            stack += [
                *node.body,
                *node.orelse,
                *getattr(node, "handlers", []),
                *getattr(node, "finalbody", []),
            ]
        elif isinstance(node, ast.ExceptHandler):
            stack += node.body
    return nodes


def test_every_module_belongs_to_a_known_layer():
    unknown = sorted({_layer(_name(p)) for p in _modules()} - set(RANKS))
    assert not unknown, f"add these to the layer table in design.md and here: {unknown}"


def test_at_most_a_handful_of_loose_private_modules_at_the_root():
    loose = sorted(
        p.name for p in PACKAGE.glob("_*.py") if p.name not in {"__init__.py", "__main__.py"}
    )
    assert loose == ["_client.py", "_version.py"]


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _name(p))
def test_imports_point_down(path: Path):
    module = _name(path)
    layer = _layer(module)
    wrong = []
    for target, at_top in _imports(path):
        if not target.startswith("registrykit"):
            continue
        other = _layer(target)
        if other == layer or RANKS[other] <= RANKS[layer]:
            continue
        if not at_top and (layer, other) in LATE_ALLOWED:
            continue
        wrong.append(f"{module} imports {target} ({layer} may not import {other})")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: _name(p))
def test_core_never_imports_presentation_libraries(path: Path):
    layer = _layer(_name(path))
    if RANKS[layer] > RANKS["lab"]:
        return
    bad = [
        target
        for target, at_top in _imports(path)
        if target.split(".")[0] in PRESENTATION_LIBRARIES and (at_top or layer != "lab")
    ]
    assert not bad, f"{_name(path)} imports {bad}: only frames/, plots.py, widgets/ and cli.py may"
