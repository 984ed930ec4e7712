"""The layers of docs/architecture.md hold: every import in src/tunesmith points down or stays in
its package, and no module reaches itself through its imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "tunesmith"


def declared_layers() -> dict[str, int]:
    """Unit (a package or a top-level module of tunesmith) -> its layer, from the docs' table."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    layers = {}
    for number, units in re.findall(r"^\|\s*(\d+)\s*\|([^|]+)\|", text, re.MULTILINE):
        for unit in re.findall(r"`([\w.]+)`", units):
            layers[unit] = int(number)
    return layers


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str) -> set[str]:
    """Every tunesmith module `path` imports, at module level or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {t for t in found if t == "tunesmith" or t.startswith("tunesmith.")}


def import_graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in PACKAGE.rglob("*.py")}

    def resolve(target: str) -> str | None:  # `from a.b import c`: c is a module or a name in a.b
        while target not in files:
            if "." not in target:
                return None
            target = target.rpartition(".")[0]
        return target

    graph = {}
    for name, path in files.items():
        targets = {resolve(t) for t in imports_of(path, name)}
        graph[name] = {t for t in targets if t and t != name}
    return graph


def unit_of(module: str) -> str:
    """A stage's commands (`tunesmith.export.cli`) are in the `cli` layer, the rest in their package's."""
    parts = module.split(".")
    if parts[-1] == "cli":
        return "cli"
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_package_has_a_declared_layer() -> None:
    layers = declared_layers()
    units = {unit_of(m) for m in import_graph()}
    assert not units - set(layers), f"add these to docs/architecture.md's layers: {units - set(layers)}"
    assert not set(layers) - units, f"docs/architecture.md names what no longer exists: {set(layers) - units}"


def test_imports_only_point_down() -> None:
    layers = declared_layers()
    upward = []
    for module, targets in import_graph().items():
        source = unit_of(module)
        for target in targets:
            into = unit_of(target)
            if into == source:
                continue
            if layers[into] > layers[source] or (layers[into] == layers[source]):
                upward.append(f"{module} -> {target} (layer {layers[source]} -> {layers[into]})")
    assert not upward, "imports that point up or sideways:\n" + "\n".join(sorted(upward))


def test_no_import_circle() -> None:
    graph = import_graph()
    circles = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    """The walker finds imports inside functions and relative ones (else the checks above prove little)."""
    source = tmp_path / "tunesmith" / "data" / "probe.py"
    source.parent.mkdir(parents=True)
    source.write_text(
        "def f():\n    from tunesmith.serve.app import create_app\n    from ..tasks import base\n"
    )
    found = imports_of(source, "tunesmith.data.probe")
    assert {"tunesmith.serve.app", "tunesmith.tasks.base"} <= found
