"""Execute every numbered notebook in order: the last step of ``make reproduce``.

Each notebook in ``notebooks/`` whose name starts with two digits (``01_data.ipynb``, ...) is run
top to bottom with papermill, in name order, and the executed copy is written to the output
folder. A progress bar (on a terminal) and a log line per notebook go to stderr. Parameters
given here are checked before any notebook runs: a name no notebook declares (``min_cells`` for
``min_cell``) or a value a notebook would refuse (``lang fr``, ``seed -1``) ends the run at once
with one line and exit status 2; the rest are passed to every notebook that declares them. A
notebook that fails ends the run with one line naming it and the error, and the path of the
executed copy that holds the full traceback.

The policy brief (``notebooks/07_policy_brief.ipynb``) writes ``policy_brief_en.html`` and
``policy_brief_id.html`` into its ``output_dir`` itself, so running it alone writes them too.

Run it as ``python -m toolkit.reproduce --notebooks notebooks --out build/notebooks``.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import sys
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


def check_given(notebooks: list[Path], parameters: dict[str, object]) -> dict[str, object]:
    r"""Refuse, before any work, a parameter no notebook declares or a value none would take.

    Returns
    -------
    dict
        The parameters, ``lang`` in lower case.

    Examples
    --------
    >>> import tempfile
    >>> cell = {"cell_type": "code", "metadata": {"tags": ["parameters"]},
    ...         "source": "lang = 'en'\nmin_cell = 10\n"}
    >>> path = Path(tempfile.mkdtemp()) / "01_data.ipynb"
    >>> _ = path.write_text(json.dumps({"cells": [cell]}))
    >>> check_given([path], {"lang": "ID"})
    {'lang': 'id'}
    >>> check_given([path], {"min_cells": 5})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: unknown parameter min_cells (did you mean min_cell?)
    """
    import difflib

    from toolkit.errors import SekatError
    from toolkit.report.display import PARAMETER_CHECKS, check_parameters

    declared = sorted(set().union(*(declared_parameters(nb) for nb in notebooks)))
    for name in parameters:
        if name not in declared:
            close = difflib.get_close_matches(name, declared, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise SekatError(
                f"unknown parameter {name}{hint}; the notebooks take: {', '.join(declared)}"
            )
    checked = check_parameters(**{k: v for k, v in parameters.items() if k in PARAMETER_CHECKS})
    out = dict(parameters)
    if "lang" in checked:
        out["lang"] = checked["lang"]
    return out


def _one_line(error: BaseException) -> str:
    """The error a notebook ended with, in one line (papermill's own message holds a traceback)."""
    name = getattr(error, "ename", type(error).__name__)
    value = str(getattr(error, "evalue", error)).strip().splitlines()
    return f"{name}: {value[0] if value else ''}".rstrip(": ")


def run_notebooks(folder: Path, out: Path, parameters: dict[str, object]) -> None:
    """Execute the numbered notebooks of ``folder`` into ``out``; stop at the first failure."""
    import papermill

    from toolkit.errors import SekatError

    notebooks = numbered_notebooks(folder)
    if not notebooks:
        raise SekatError(f"no numbered notebooks in {folder}")
    parameters = check_given(notebooks, parameters)
    out.mkdir(parents=True, exist_ok=True)
    with progress.bar(len(notebooks), "notebooks", unit="notebook") as shown:
        for number, notebook in enumerate(notebooks, start=1):
            declared = declared_parameters(notebook)
            chosen = {k: v for k, v in parameters.items() if k in declared}
            began = time.perf_counter()
            shown.set_description_str(notebook.name)
            _log.info("[%d/%d] %s ...", number, len(notebooks), notebook.name)
            executed = out / notebook.name
            try:
                papermill.execute_notebook(
                    str(notebook),
                    str(executed),
                    parameters=chosen,
                    cwd=str(notebook.parent),
                    progress_bar=False,
                    kernel_name="python3",
                )
            except papermill.PapermillExecutionError as error:
                raise SekatError(
                    f"{notebook.name} stopped: {_one_line(error)} (the full traceback is in "
                    f"{executed})"
                ) from None
            seconds = time.perf_counter() - began
            _log.info("[%d/%d] %s done in %.0f s", number, len(notebooks), notebook.name, seconds)
            shown.update()


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
    from toolkit.errors import SekatError

    handler = progress.show_messages(prefix="sekat: ")
    try:
        run_notebooks(
            args.notebooks, args.out, {name: parse_value(value) for name, value in args.parameter}
        )
    except SekatError as error:
        print(f"sekat: error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    finally:
        progress.LOGGER.removeHandler(handler)


if __name__ == "__main__":
    main()
