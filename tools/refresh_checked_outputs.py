"""Refresh the checked outputs of the notebooks after a change that moves a number on purpose.

The notebooks in ``notebooks/`` are stored without outputs except in the cells marked
``# NBVAL_CHECK_OUTPUT``: those outputs are what ``make test`` (nbval) compares a fresh run with.
This script executes each given notebook with its default parameters (papermill, in the
notebooks' folder), copies the new outputs of the checked cells back into the stored notebook
and prints which checked cells changed, so that the commit can say why. Run it as
``make checked-outputs`` (every notebook) or ``.venv/bin/python tools/refresh_checked_outputs.py
notebooks/04_resolution_time.ipynb``.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

CHECK_MARK = "# NBVAL_CHECK_OUTPUT"


def _checked(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "".join(cell.get("source", "")).startswith(
        CHECK_MARK
    )


def _text(outputs: list[dict]) -> str:
    return "".join("".join(o.get("text", "")) for o in outputs if o.get("output_type") == "stream")


def refresh(notebook: Path) -> list[str]:
    """Execute ``notebook`` and store the outputs of its checked cells; return what changed."""
    import papermill

    stored = json.loads(notebook.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        executed_path = Path(folder) / notebook.name
        papermill.execute_notebook(
            str(notebook),
            str(executed_path),
            cwd=str(notebook.parent),
            progress_bar=False,
            kernel_name="python3",
        )
        executed = json.loads(executed_path.read_text(encoding="utf-8"))
    # papermill inserts no cell when no parameters are given, so cells line up one to one
    if len(executed["cells"]) != len(stored["cells"]):
        raise SystemExit(f"{notebook}: the executed copy has a different number of cells")
    changes = []
    count = 0
    for index, (old, new) in enumerate(zip(stored["cells"], executed["cells"], strict=True)):
        if old.get("cell_type") != "code":
            continue
        count += 1
        if not _checked(old):
            old["outputs"], old["execution_count"] = [], None
            continue
        outputs = [
            {k: v for k, v in o.items() if k in ("output_type", "name", "text")}
            for o in new.get("outputs", [])
            if o.get("output_type") == "stream"
        ]
        if _text(outputs) != _text(old.get("outputs", [])):
            changes.append(
                f"{notebook.name} cell {index}:\n- {_text(old.get('outputs', []))}"
                f"+ {_text(outputs)}"
            )
        old["outputs"], old["execution_count"] = outputs, count
    notebook.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for notebook in args.notebooks:
        for change in refresh(notebook):
            print(change, file=sys.stderr)


if __name__ == "__main__":
    main()
