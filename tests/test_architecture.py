"""The shape of the house, checked from the code's own imports (every import, lazy ones too).

- no import circle among the modules of the four packages;
- inside ``binder_core`` every import points down: contract, data, model, inference, then
  training and serving (which do not import each other);
- ``dictionaries`` and ``pipelines`` use ``binder_core.contract`` only (corpus-scale prediction,
  ``pipelines.predict``, also runs a model through ``binder_core.inference.torch_backend``);
- nothing imports ``cli``; no folder holds more than 15 modules; no module is over 400 lines.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("dictionaries", "pipelines", "binder_core", "cli")
LAYERS = {"contract": 0, "data": 1, "model": 2, "inference": 3, "training": 4, "serving": 4}
MAX_MODULES_PER_FOLDER = 15
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> Iterator[str]:
    """The project modules ``name`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name and not name.startswith(target + "."):
                yield target


GRAPH = {name: set(_imports(name, path)) for name, path in MODULES.items()}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(GRAPH):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_architecture_has_no_import_circle() -> None:
    assert _cycle() is None


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if parts[0] == "binder_core" and len(parts) > 2 else None


def test_architecture_binder_core_imports_point_down() -> None:
    wrong = []
    for name, targets in GRAPH.items():
        mine = _layer(name)
        if mine is None:
            continue
        for target in targets:
            theirs = _layer(target)
            if theirs is None:
                continue
            same = target.split(".")[1] == name.split(".")[1]
            if not same and theirs >= mine:
                wrong.append(f"{name} -> {target}")
    assert wrong == []


@pytest.mark.parametrize("package", ["dictionaries", "pipelines"])
def test_architecture_other_packages_use_only_the_contract(package: str) -> None:
    wrong = sorted(
        f"{name} -> {target}"
        for name, targets in GRAPH.items()
        if name.split(".")[0] == package and not name.startswith("pipelines.predict.")
        for target in targets
        if target.startswith("binder_core.") and not target.startswith("binder_core.contract.")
    )
    assert wrong == []


def test_architecture_nothing_imports_cli() -> None:
    assert (
        sorted(
            f"{name} -> {target}"
            for name, targets in GRAPH.items()
            if not name.startswith("cli")
            for target in targets
            if target.startswith("cli")
        )
        == []
    )


def test_architecture_folders_and_modules_stay_small() -> None:
    folders: dict[Path, int] = {}
    for path in MODULES.values():
        if path.name != "__init__.py":
            folders[path.parent] = folders.get(path.parent, 0) + 1
    crowded = {
        str(f.relative_to(REPO)): n for f, n in folders.items() if n > MAX_MODULES_PER_FOLDER
    }
    assert crowded == {}
    long = {
        str(p.relative_to(REPO)): n
        for p in MODULES.values()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_architecture_graph_sees_lazy_imports() -> None:
    """The check reads imports inside functions too (a lazy import is still an edge)."""
    assert "binder_core.inference.backends" in GRAPH["pipelines.predict.pipeline"]
