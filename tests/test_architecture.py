"""The shape of the package: layers along the data flow, imports only down it, no cycles.

ARCHITECTURE.md describes the layers; these tests keep the tree honest. Every import inside
``toolkit/`` (at the top of a module or inside a function) is read with :mod:`ast`, so a
lazy import cannot hide a wrong-way dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "toolkit"

#: Layer of each top-level part of the package, in data-flow order.
LAYERS = {
    "schema": 0,
    "errors": 0,
    "results": 0,
    "progress": 0,
    "io": 1,
    "synthetic": 1,
    "clean": 2,
    "paths": 3,
    "estimate": 4,
    "report": 5,
    "pipeline": 6,
    "analysis": 6,
    "cli": 6,
    "reproduce": 6,
    "__main__": 6,
    "__init__": 6,
}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:]) if "." in name else Path()
    return (PACKAGE / relative).with_suffix(".py").is_file() or (
        PACKAGE / relative / "__init__.py"
    ).is_file()


def _imports() -> list[tuple[str, str, list[str]]]:
    """(importing module, imported module, names) for every toolkit-internal import."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "toolkit":
                        found.append((source, alias.name, []))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] != "toolkit":
                    continue
                names = [alias.name for alias in node.names]
                submodules = [n for n in names if _is_module(f"{node.module}.{n}")]
                for name in submodules:
                    found.append((source, f"{node.module}.{name}", []))
                rest = [n for n in names if n not in submodules]
                if rest:
                    found.append((source, node.module, rest))
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_part_of_the_package_has_a_layer():
    for path in PACKAGE.iterdir():
        if path.suffix == ".py" or (path / "__init__.py").is_file():
            assert path.stem in LAYERS, f"{path.name}: which layer is it? (ARCHITECTURE.md)"


def test_imports_only_go_down_the_flow():
    wrong = [
        f"{source} imports {target}"
        for source, target, _ in _imports()
        if source != "toolkit" and _layer(target) > _layer(source)
    ]
    assert wrong == []


def test_no_private_name_is_imported_from_another_part():
    private = [
        f"{source} imports {name} from {target}"
        for source, target, names in _imports()
        for name in names
        if name.startswith("_") and _part(source) != _part(target)
    ]
    assert private == []


def test_no_import_cycle():
    graph = nx.DiGraph((source, target) for source, target, _ in _imports())
    # the package's own front door imports lazily from everything, by design
    graph.remove_nodes_from(["toolkit"])
    assert list(nx.simple_cycles(graph)) == []


def test_every_module_says_what_it_is_for():
    missing = [
        str(path.relative_to(PACKAGE))
        for path in sorted(PACKAGE.rglob("*.py"))
        if not ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert missing == []


@pytest.mark.parametrize(
    "code",
    [
        "import toolkit",
        "from toolkit.cli import main\ntry:\n    main(['--version'])\nexcept SystemExit:\n    pass",
        "from toolkit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass",
    ],
)
def test_the_front_door_does_not_load_the_heavy_libraries(code):
    check = (
        f"{code}\nimport sys\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'scipy', 'networkx', 'dask') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", check], check=True, capture_output=True)


def test_python_m_toolkit_is_the_sekat_command():
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("sekat ")


def test_public_names_still_load():
    import toolkit

    for name in toolkit.__all__:
        assert getattr(toolkit, name) is not None, name
    with pytest.raises(AttributeError):
        toolkit.no_such_name  # noqa: B018
