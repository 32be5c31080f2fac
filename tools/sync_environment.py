"""Write environment.yml (conda-forge) from requirements.in and requirements.lock.

conda users and pip users must get the same versions: every direct requirement of
requirements.in is pinned in environment.yml to the exact version in requirements.lock.
`make lock` runs this after re-resolving the lock; tests/test_environment.py checks the result.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# pip name -> conda-forge name, where they differ.
CONDA_NAMES = {"dask": "dask-core"}


def requirement_name(line: str) -> str | None:
    """The normalised project name of one requirements line, or None for blanks/comments."""
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    match = re.match(r"[A-Za-z0-9._-]+", line)
    return re.sub(r"[-_.]+", "-", match.group(0)).lower() if match else None


def read_lock(path: Path) -> dict[str, str]:
    """Map normalised name -> pinned version of a pip freeze file."""
    pins = {}
    for line in path.read_text().splitlines():
        name = requirement_name(line)
        if name:
            pins[name] = line.split("==", 1)[1].strip()
    return pins


def render(direct: list[str], pins: dict[str, str]) -> str:
    major_minor = ".".join(map(str, sys.version_info[:2]))
    lines = [
        "# conda environment mirroring requirements.lock (written by `make lock`; do not edit).",
        "name: sekat",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        f"  - python={major_minor}",
    ]
    lines += [f"  - {CONDA_NAMES.get(name, name)}={pins[name]}" for name in direct]
    lines += ["  - pip", "  - pip:", "      - -e ."]
    return "\n".join(lines) + "\n"


def main() -> None:
    direct = [
        name
        for line in (ROOT / "requirements.in").read_text().splitlines()
        if (name := requirement_name(line))
    ]
    pins = read_lock(ROOT / "requirements.lock")
    (ROOT / "environment.yml").write_text(render(direct, pins))


if __name__ == "__main__":
    main()
