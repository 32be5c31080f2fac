"""Shared fixtures: a hypothesis profile for CI and a helper that writes small CSV logs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", deadline=None, max_examples=40, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci")

HEADER = "case_id,timestamp,agency,activity,channel"


@pytest.fixture
def write_log(tmp_path: Path) -> Callable[..., Path]:
    """Write lines of CSV (header added unless given) to a file in tmp_path; return its path."""

    def write(rows: list[str], name: str = "log.csv", header: str | None = HEADER) -> Path:
        path = tmp_path / name
        lines = ([header] if header is not None else []) + list(rows)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write
