"""Execute every numbered notebook in order: the last step of ``make reproduce``.

Each notebook in ``notebooks/`` whose name starts with two digits (``01_data.ipynb``, ...) is run
top to bottom with papermill, in name order, and the executed copy is written to the output
folder. A progress bar (on a terminal) and a log line per notebook go to stderr. Parameters given here are passed to every
notebook that declares them in its ``parameters`` cell (papermill ignores the rest with a warning,
so the check is done here and only declared ones are passed).

After the policy brief (a notebook whose name ends in ``policy_brief.ipynb``) has run, its
executed copy is exported without code to ``policy_brief.html`` in the brief's ``output_dir``
(``figures/`` by default), with :func:`toolkit.report.brief.export_html`.

Run it as ``python -m toolkit.reproduce --notebooks notebooks --out build/notebooks``.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import time
from pathlib import Path

from toolkit import progress

_log = logging.getLogger("toolkit.reproduce")  # also when run as __main__


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


def parameter_defaults(notebook: Path) -> dict[str, object]:
    r"""Literal values assigned in the cell tagged ``parameters`` of a notebook.

    Examples
    --------
    >>> import tempfile
    >>> cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...         "source": 'output_dir = "../figures"  # where\nseed = 3\n'}
    >>> path = Path(tempfile.mkdtemp()) / "07_policy_brief.ipynb"
    >>> _ = path.write_text(json.dumps({"cells": [cell]}))
    >>> parameter_defaults(path)
    {'output_dir': '../figures', 'seed': 3}
    """
    cells = json.loads(notebook.read_text(encoding="utf-8")).get("cells", [])
    values: dict[str, object] = {}
    for cell in cells:
        if "parameters" not in cell.get("metadata", {}).get("tags", []):
            continue
        for node in ast.parse("".join(cell.get("source", ""))).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name):
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return values


def brief_target(notebook: Path, parameters: dict[str, object]) -> Path | None:
    """Where the HTML of an executed policy brief goes (None for other notebooks).

    The brief's ``output_dir`` parameter (given, else its default) is relative to the
    notebook's folder, as papermill runs notebooks there.
    """
    from toolkit.report.brief import BRIEF_HTML

    if not notebook.name.endswith("policy_brief.ipynb"):
        return None
    output_dir = parameters.get("output_dir", parameter_defaults(notebook).get("output_dir"))
    return notebook.parent / str(output_dir or "../figures") / BRIEF_HTML


def parse_value(text: str) -> object:
    """A parameter value from the command line: a Python literal if it is one, else the text.

    Examples
    --------
    >>> [parse_value(v) for v in ["7", "0.3", "True", "../data/processed", ""]]
    [7, 0.3, True, '../data/processed', '']
    """
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text
    return value if isinstance(value, (int, float, bool)) else text


def run_notebooks(folder: Path, out: Path, parameters: dict[str, object]) -> None:
    """Execute the numbered notebooks of ``folder`` into ``out``; stop at the first failure."""
    import papermill

    notebooks = numbered_notebooks(folder)
    if not notebooks:
        raise SystemExit(f"sekat: error: no numbered notebooks in {folder}")
    out.mkdir(parents=True, exist_ok=True)
    with progress.bar(len(notebooks), "notebooks", unit="notebook") as shown:
        for number, notebook in enumerate(notebooks, start=1):
            declared = declared_parameters(notebook)
            chosen = {k: v for k, v in parameters.items() if k in declared}
            began = time.perf_counter()
            shown.set_description_str(notebook.name)
            _log.info("[%d/%d] %s ...", number, len(notebooks), notebook.name)
            papermill.execute_notebook(
                str(notebook),
                str(out / notebook.name),
                parameters=chosen,
                cwd=str(notebook.parent),
                progress_bar=False,
                kernel_name="python3",
            )
            seconds = time.perf_counter() - began
            _log.info("[%d/%d] %s done in %.0f s", number, len(notebooks), notebook.name, seconds)
            shown.update()
            target = brief_target(notebook, chosen)
            if target is not None:
                from toolkit.report.brief import export_html

                written = export_html(out / notebook.name, target)
                _log.info("[%d/%d] brief written to %s", number, len(notebooks), written.resolve())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.reproduce", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--notebooks", type=Path, default=Path("notebooks"))
    parser.add_argument("--out", type=Path, default=Path("build/notebooks"))
    parser.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a notebook parameter; numbers and True/False are read as such, the rest as text",
    )
    args = parser.parse_args(argv)
    handler = progress.show_messages(prefix="sekat: ")
    try:
        run_notebooks(
            args.notebooks, args.out, {name: parse_value(value) for name, value in args.parameter}
        )
    finally:
        progress.LOGGER.removeHandler(handler)


if __name__ == "__main__":
    main()
