"""The environment is pinned once and said the same way to pip and conda users."""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load_sync():
    spec = importlib.util.spec_from_file_location(
        "sync_environment", ROOT / "tools/sync_environment.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync = _load_sync()


def _conda_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = re.fullmatch(r"\s+- ([A-Za-z0-9._-]+)=([^=\s]+)", line)
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


def test_every_lock_line_is_an_exact_pin_without_an_address():
    lines = [ln for ln in (ROOT / "requirements.lock").read_text().splitlines() if ln.strip()]
    assert lines, "requirements.lock is empty"
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9._-]+==[A-Za-z0-9.+!_-]+", line), line
        assert "://" not in line and "@" not in line


def test_environment_yml_pins_every_direct_requirement_to_the_locked_version():
    lock = sync.read_lock(ROOT / "requirements.lock")
    conda = _conda_pins()
    direct = [
        name
        for line in (ROOT / "requirements.in").read_text().splitlines()
        if (name := sync.requirement_name(line))
    ]
    assert direct
    for name in direct:
        conda_name = sync.CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} missing from environment.yml"
        assert conda[conda_name] == lock[name], (
            f"{name}: conda {conda[conda_name]} vs lock {lock[name]}"
        )


def test_environment_yml_is_what_the_sync_script_writes():
    direct = [
        name
        for line in (ROOT / "requirements.in").read_text().splitlines()
        if (name := sync.requirement_name(line))
    ]
    written = sync.render(direct, sync.read_lock(ROOT / "requirements.lock"))
    body = lambda text: [ln for ln in text.splitlines() if "python=" not in ln]  # noqa: E731
    assert body(written) == body((ROOT / "environment.yml").read_text())


@pytest.mark.parametrize("name", ["pandas", "numpy", "networkx", "statsmodels", "pyarrow"])
def test_installed_versions_match_the_lock(name):
    lock = sync.read_lock(ROOT / "requirements.lock")
    assert metadata.version(name) == lock[name]


def test_pyproject_runtime_dependencies_are_locked():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = sync.read_lock(ROOT / "requirements.lock")
    for requirement in project["dependencies"]:
        assert sync.requirement_name(requirement) in lock, requirement
