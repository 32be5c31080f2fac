"""Execute every numbered notebook in order: the last step of ``make reproduce``.

Each notebook in ``notebooks/`` whose name starts with two digits (``01_data.ipynb``, ...) is run
top to bottom with papermill, in name order, and the executed copy is written to the output
folder. A progress line per notebook goes to stderr. Parameters given here are passed to every
notebook that declares them in its ``parameters`` cell (papermill ignores the rest with a warning,
so the check is done here and only declared ones are passed).

Run it as ``python -m toolkit.reproduce --notebooks notebooks --out build/notebooks``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def numbered_notebooks(folder: Path) -> list[Path]:
    """The notebooks of ``folder`` whose names start with two digits, in name order.

    Examples
    --------
    >>> import tempfile
    >>> d = Path(tempfile.mkdtemp())
    >>> for name in ["02_b.ipynb", "01_a.ipynb", "scratch.ipynb"]:
    ...     _ = (d / name).write_text("{}")
    >>> [p.name for p in numbered_notebooks(d)]
    ['01_a.ipynb', '02_b.ipynb']
    """
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def declared_parameters(notebook: Path) -> set[str]:
    """Names assigned in the cell tagged ``parameters`` of a notebook."""
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    names: set[str] = set()
    for cell in cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            for line in "".join(cell.get("source", "")).splitlines():
                head = line.split("#", 1)[0]
                if "=" in head and not head.startswith((" ", "\t")):
                    names.add(head.split("=", 1)[0].strip().split(":")[0].strip())
    return names


def run_notebooks(folder: Path, out: Path, parameters: dict[str, object]) -> None:
    """Execute the numbered notebooks of ``folder`` into ``out``; stop at the first failure."""
    import papermill

    notebooks = numbered_notebooks(folder)
    if not notebooks:
        raise SystemExit(f"sekat: error: no numbered notebooks in {folder}")
    out.mkdir(parents=True, exist_ok=True)
    for number, notebook in enumerate(notebooks, start=1):
        declared = declared_parameters(notebook)
        chosen = {k: v for k, v in parameters.items() if k in declared}
        began = time.perf_counter()
        print(f"[{number}/{len(notebooks)}] {notebook.name} ...", file=sys.stderr, flush=True)
        papermill.execute_notebook(
            str(notebook),
            str(out / notebook.name),
            parameters=chosen,
            cwd=str(notebook.parent),
            progress_bar=False,
            kernel_name="python3",
        )
        seconds = time.perf_counter() - began
        print(f"[{number}/{len(notebooks)}] {notebook.name} done in {seconds:.0f} s",
              file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m toolkit.reproduce", description=__doc__.split("\n")[0])
    parser.add_argument("--notebooks", type=Path, default=Path("notebooks"))
    parser.add_argument("--out", type=Path, default=Path("build/notebooks"))
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="a notebook parameter (string value)")
    args = parser.parse_args(argv)
    run_notebooks(args.notebooks, args.out, dict(args.parameter))


if __name__ == "__main__":
    main()
