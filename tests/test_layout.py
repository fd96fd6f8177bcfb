"""The house rules of the layout (README, Layout): dependencies flow one way,
cli -> api -> tasks -> {io, core}, checked on every module's imports (module level and inside
functions alike)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "chipsr"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return {n for n in names if n == "chipsr" or n.startswith("chipsr.")}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE.parent).with_suffix("").as_posix().replace("/", "."), path


#: what each layer may import from chipsr (besides itself); errors, specs and the version are for all
ALLOWED = {
    "cli": {"api"},
    "api": {"tasks", "io", "core"},
    "tasks": {"io", "core", "plots"},
    "plots": {"core", "io"},  # figures are written atomically (io.atomic)
    "io": set(),
    "core": set(),
}
SHARED = {"errors", "specs", "_version", "__version__", ""}


@pytest.mark.parametrize("module, path", list(_modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_flow_one_way(module, path):
    layer = _layer(module)
    if layer not in ALLOWED:
        return
    for name in _imports(path):
        target = _layer(name)
        if target in SHARED or target == layer:
            continue
        assert target in ALLOWED[layer], f"{module} imports {name}: {layer} may not import {target}"


def test_task_packages_never_import_each_other():
    for module, path in _modules():
        parts = module.split(".")
        if len(parts) < 3 or parts[1] != "tasks":
            continue
        for name in _imports(path):
            other = name.split(".")
            if len(other) > 2 and other[1] == "tasks":
                assert other[2] == parts[2], f"{module} imports {name}"
