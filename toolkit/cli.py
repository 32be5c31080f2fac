"""The ``sekat`` command: simulate a log, prepare logs for analysis, estimate the effects.

Each subcommand is one entry of :data:`COMMANDS`: a help line, a function that adds its
arguments to a parser, and a function that runs it and returns the exit status. Adding a
subcommand (``sekat estimate``) means writing those two functions and one entry. Errors a user
can cause end in one line on stderr, ``sekat: error: ...``, and exit status 2; never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from toolkit.errors import SekatError

__all__ = ["COMMANDS", "build_parser", "main"]

PROG = "sekat"
USAGE_ERROR = 2


class _UsageError(Exception):
    """An argparse complaint, to be printed as one line."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


_log = logging.getLogger("toolkit.cli")


class _Scrubbed(logging.Filter):
    """Every message shown on the console is scrubbed first (a file or column name, a value
    quoted in an error, can carry an e-mail address or a phone number)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from toolkit.clean.privacy import scrub_name  # on a message only: --help stays light

        record.msg, record.args = scrub_name(record.getMessage()), None
        return True


def _say(message: str) -> None:
    """A message for the person at the terminal (a log record, shown by :func:`main`)."""
    _log.info(message)


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    """--quiet, --verbose and --json, for the commands that take a while."""
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument(
        "-q", "--quiet", action="store_true", help="print warnings and errors only, no progress"
    )
    loudness.add_argument(
        "-v", "--verbose", action="store_true", help="also print how long each step took"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a machine-readable summary (one JSON object) on standard output",
    )


def _emit_json(args: argparse.Namespace, summary: dict) -> None:
    if getattr(args, "json", False):
        from toolkit.clean.privacy import scrub_record

        print(json.dumps(scrub_record(summary), sort_keys=True, default=str), flush=True)


# --- sekat simulate -------------------------------------------------------------------------------


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {value}")
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return value


def _add_simulate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--cases",
        type=_positive_int,
        default=20_000,
        metavar="N",
        help="number of requests (default 20000)",
    )
    parser.add_argument("--seed", type=int, default=1, metavar="S", help="random seed")
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="FILE",
        help="event log to write: .csv, .csv.gz or .parquet; the truth table, "
        "rollout dates and parameters are written beside it",
    )
    _add_output_options(parser)


def _run_simulate(args: argparse.Namespace) -> int:
    from toolkit.io.writers import table_suffix, write_table, write_text
    from toolkit.synthetic import simulate

    stem = args.out.name[: -len(table_suffix(args.out))]
    began = time.perf_counter()
    sim = simulate(n_cases=args.cases, seed=args.seed)
    _log.debug("drawing the requests and their events: %.2f s", time.perf_counter() - began)
    folder = args.out.parent
    write_table(sim.events, args.out)
    write_table(sim.truth, folder / f"{stem}.truth.csv")
    write_table(sim.rollout, folder / f"{stem}.rollout.csv")
    write_text(
        folder / f"{stem}.params.json",
        json.dumps(sim.params, indent=2, sort_keys=True, default=str) + "\n",
    )
    _emit_json(
        args,
        {
            "command": "simulate",
            "status": "simulated",
            "out": str(args.out),
            "requests": args.cases,
            "events": len(sim.events),
            "seed": args.seed,
            "seconds": round(time.perf_counter() - began, 3),
        },
    )
    _say(
        f"simulated {args.cases} requests ({len(sim.events)} events, seed {args.seed}) -> "
        f"{args.out} (+ {stem}.truth.csv, {stem}.rollout.csv, {stem}.params.json)"
    )
    return 0


# --- sekat prepare --------------------------------------------------------------------------------


def _add_prepare(parser: argparse.ArgumentParser) -> None:
    from toolkit.io.presets import PRESETS

    parser.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="INPUT",
        help="event logs: CSV, gzipped CSV or Parquet",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="output directory (e.g. data/processed)",
    )
    parser.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="TOML file mapping your columns, channels, activities, agencies",
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a known log layout")
    parser.add_argument(
        "--key-file",
        type=Path,
        metavar="F",
        help="file holding the pseudonymisation key (default: $SEKAT_KEY)",
    )
    parser.add_argument(
        "--demo-key",
        action="store_true",
        help="use the published demo key: for the shipped synthetic data only",
    )
    parser.add_argument(
        "--strict-channels",
        action="store_true",
        help="quarantine channel values the mapping does not know",
    )
    parser.add_argument("--cutoff", metavar="TS", help="observation cut-off (default: last event)")
    parser.add_argument(
        "--as-of",
        metavar="TS",
        help="the run date: requests with a time after it are quarantined (default: now)",
    )
    parser.add_argument(
        "--source-tz",
        default=None,
        metavar="TZ",
        help="time zone of naive timestamps (default Asia/Jakarta)",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="dask.distributed scheduler for the case and hand-off tables",
    )
    _add_rollout_options(
        parser,
        "CSV of region, desk_opened to carry with the prepared data (copied to "
        "DIR/rollout.csv, recorded in the manifest); default: NAME.rollout.csv beside the log, "
        "as sekat simulate writes it",
        "carry no rollout, even if one sits beside the log",
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if inputs and parameters are unchanged"
    )
    parser.add_argument(
        "--rare-below",
        type=_non_negative_int,
        default=None,
        metavar="N",
        help="replace text values (agency, category, raw activity names, ...) held by fewer "
        "than N requests by keyed pseudonyms: names and free text hide there "
        "(default 10; 0 keeps every value)",
    )
    parser.add_argument(
        "--keep-raw",
        action="store_true",
        help="keep in activity_raw/channel_raw the raw labels the mapping read (scrubbed); "
        "by default only unmapped labels are kept",
    )
    _add_output_options(parser)


def _add_rollout_options(parser: argparse.ArgumentParser, given: str, none: str) -> None:
    """``--rollout FILE`` or ``--no-rollout`` (one or the other), with the command's words."""
    desks = parser.add_mutually_exclusive_group()
    desks.add_argument("--rollout", type=Path, metavar="FILE", help=given)
    desks.add_argument("--no-rollout", action="store_true", help=none)


def _show_vocabulary(vocabulary: dict) -> None:
    """The values a mapping did not know, as typed, by request: for the data owner only.

    They are printed here (the terminal of the person who holds the raw log) and never
    written: report.json holds them pseudonymised or scrubbed.
    """

    def listing(counts: dict) -> str:
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return "; ".join(f"{value!r} {n}" for value, n in ranked)

    if vocabulary.get("channels_mapped_to_other"):
        _say(
            "channels read as 'other' (requests; add them to [channels]): "
            + listing(vocabulary["channels_mapped_to_other"])
        )
    if vocabulary.get("unmapped_activities"):
        _say(
            "activities read as in_progress (requests; add them to [activities]): "
            + listing(vocabulary["unmapped_activities"])
        )
    for pair in vocabulary.get("agency_near_duplicates", [])[:20]:
        _say(
            f"agencies that look alike: {pair['agency']!r} ({pair.get('requests', pair['rows'])} "
            f"requests) and {pair['similar_agency']!r} "
            f"({pair.get('similar_requests', pair['similar_rows'])}); if they are one, add "
            "the pair to [agencies]"
        )


def _run_prepare(args: argparse.Namespace) -> int:
    from toolkit import schema
    from toolkit.pipeline import prepare

    began = time.perf_counter()
    result = prepare(
        args.inputs,
        args.out,
        mapping=args.mapping,
        preset=args.preset,
        key_file=args.key_file,
        demo=args.demo_key,
        strict_channels=args.strict_channels,
        cutoff=args.cutoff,
        source_tz=args.source_tz or schema.DEFAULT_SOURCE_TZ,
        scheduler=args.scheduler,
        force=args.force,
        rare_below=schema.MIN_CELL_COUNT if args.rare_below is None else args.rare_below,
        as_of=args.as_of,
        keep_raw=args.keep_raw,
        rollout=False if args.no_rollout else args.rollout,
    )
    report = result.report
    _emit_json(
        args,
        {
            "command": "prepare",
            "status": "up_to_date" if result.skipped else "prepared",
            "out": str(args.out),
            "seconds": round(time.perf_counter() - began, 3),
            **{
                key: report.get(key)
                for key in (
                    "rows_in",
                    "rows_kept",
                    "rows_quarantined",
                    "reasons",
                    "cases_in",
                    "cases_kept",
                    "events_in",
                    "events_kept",
                    "hops_observed",
                    "channel_observed",
                    "target_observed",
                )
            },
            "warnings": [w["code"] for w in report.get(schema.WARNINGS, [])],
            "outputs": sorted(str(p) for p in result.outputs),
        },
    )
    if result.skipped:
        _say(f"{args.out} is up to date (inputs and parameters unchanged); nothing to do")
        return 0
    reasons = ", ".join(f"{code} {n}" for code, n in report["reasons"].items() if n)
    events = report.get("events_in", report["rows_in"])
    _say(
        f"prepared {report['rows_kept']} of {report['rows_in']} source rows "
        f"({report['cases_kept']} of {report['cases_in']} requests, "
        f"{report.get('events_kept', report['rows_kept'])} of {events} events) into {args.out}; "
        f"quarantined {report['rows_quarantined']} rows" + (f" ({reasons})" if reasons else "")
    )
    if not report.get(schema.HOPS_OBSERVED, True):
        _say("hops are not observed in this log (one row per request): only times are analysed")
    _show_vocabulary(result.raw_vocabulary)
    privacy = report.get("privacy", {})
    removed = ", ".join(f"{kind} {n}" for kind, n in privacy.get("removed", {}).items() if n)
    not_read = sorted({c for cols in privacy.get("columns_not_read", {}).values() for c in cols})
    if removed or not_read:
        _say(
            "privacy: "
            + "; ".join(
                part
                for part in (
                    f"removed from text {removed}" if removed else "",
                    f"columns not read {not_read}" if not_read else "",
                )
                if part
            )
            + " (report.json, privacy)"
        )
    anonymity = report.get("k_anonymity")
    if anonymity:
        _say(
            f"before sharing row-level tables: {anonymity['unique_requests']} requests are "
            f"unique and {anonymity['requests_below_k']} sit in groups under "
            f"{anonymity['k']} on {' x '.join(anonymity['quasi_identifiers'])} "
            "(report.json, k_anonymity)"
        )
    desks = result.manifest.get("parameters", {}).get("rollout")
    if desks:
        how = "found beside the log" if desks["found"] == "beside_log" else "given"
        _say(
            f"rollout: {desks['name']} ({how}; {desks['regions']} districts) carried as "
            f"{args.out / 'rollout.csv'}; sekat estimate uses it"
            + (" (--no-rollout leaves it out)" if desks["found"] == "beside_log" else "")
        )
    if result.manifest.get("parameters", {}).get("key_source") == "demo":
        _say("pseudonymised with the published DEMO key: fine for synthetic data, never for real")
    return 0


# --- sekat describe -------------------------------------------------------------------------------


def _add_describe(parser: argparse.ArgumentParser) -> None:
    from toolkit.io.presets import PRESETS

    parser.add_argument("file", type=Path, metavar="FILE", help="a log file to describe")
    parser.add_argument("--mapping", type=Path, metavar="FILE", help="a mapping file to check")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="a known log layout")
    parser.add_argument(
        "--values",
        type=_positive_int,
        default=5,
        metavar="N",
        help="most frequent values shown per column (default 5)",
    )
    parser.add_argument(
        "--template",
        type=Path,
        metavar="FILE",
        help="write the filled-in mapping to FILE (default: print it after the description)",
    )


def _run_describe(args: argparse.Namespace) -> int:
    """Print the description (the data owner's view: raw values) and the mapping template."""
    from toolkit import schema
    from toolkit.clean.validation import near_duplicate_agencies
    from toolkit.io.describe import describe
    from toolkit.io.writers import write_text

    found = describe(args.file, args.mapping, args.preset, values=args.values)
    lines = [str(found)]
    agencies = found.vocabulary.get(schema.AGENCY)
    if agencies is not None and len(agencies):
        import pandas as pd

        names = pd.Series(agencies["value"].repeat(agencies["requests"].to_numpy()).to_numpy())
        pairs = near_duplicate_agencies(names)
        if len(pairs):
            lines += ["", "agency spellings that look alike (requests; merge them in [agencies]):"]
            lines += [
                f"  {a!r} ({n}) and {b!r} ({m}), similarity {s:.2f}"
                for a, b, s, n, m in pairs.itertuples(index=False)
            ]
    if args.template is not None:
        write_text(args.template, found.template)
        lines += ["", f"mapping template written to {args.template}: edit it, then run "
                  f"'sekat prepare {args.file} --mapping {args.template} --out DIR'"]  # fmt: skip
    else:
        lines += [
            "",
            "# --- mapping template (save, edit, pass with --mapping) ---",
            found.template,
        ]
    print("\n".join(lines), flush=True)
    return 0


# --- sekat estimate -------------------------------------------------------------------------------


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text}")
    return value


def _arm(text: str) -> str:
    """A treatment or control arm: channel and channel-group names, checked by Contrast."""
    names = [part.strip().lower() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError("name at least one channel or channel group")
    return "+".join(names)


def _add_estimate(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "prepared",
        type=Path,
        metavar="PREPARED_DIR",
        help="folder written by 'sekat prepare' (reads cases.parquet)",
    )
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="CSV file of estimates to write"
    )
    parser.add_argument(
        "--truth",
        type=Path,
        metavar="FILE",
        help="planted truth table ('sekat simulate' writes NAME.truth.csv beside the log): "
        "adds the planted value, the bias and whether each interval covers it",
    )
    _add_rollout_options(
        parser,
        "CSV of region, desk_opened: adds the staggered-rollout event study and the "
        "desk status of every propensity model; overrides the rollout carried by "
        "sekat prepare (PREPARED_DIR/rollout.csv)",
        "ignore the rollout carried by sekat prepare (the run then warns)",
    )
    from toolkit.estimate.headline import DEFAULT_N_BOOT, DEFAULT_SEED

    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"seed of the bootstrap (default {DEFAULT_SEED}, as in the notebooks)",
    )
    parser.add_argument(
        "--tau-days",
        type=_positive_float,
        default=30.0,
        metavar="DAYS",
        help="horizon of the restricted mean survival time (default 30)",
    )
    parser.add_argument(
        "--n-boot",
        type=_positive_int,
        default=DEFAULT_N_BOOT,
        metavar="B",
        help=f"bootstrap replicates of the RMST differences (default {DEFAULT_N_BOOT})",
    )
    parser.add_argument(
        "--treatment",
        type=_arm,
        default="social",
        metavar="NAMES",
        help="intake whose effect is estimated: channels or channel groups, comma-separated "
        "(default social)",
    )
    parser.add_argument(
        "--control",
        type=_arm,
        default="not_social",
        metavar="NAMES",
        help="what it is compared with: channels, channel groups, not_social (default) or rest",
    )
    parser.add_argument(
        "--holidays",
        default="ID",
        metavar="COUNTRY",
        help="national holidays of time in working days: ID (default), US, any country code "
        "of the holidays package, or '' for none",
    )
    parser.add_argument(
        "--workweek",
        default="mon-fri",
        metavar="DAYS",
        help="the working week: mon-fri (default), sun-thu, mon-sat or day names",
    )
    parser.add_argument(
        "--standard-days",
        type=int,
        default=5,
        metavar="N",
        help="service standard: resolved within N working days (default 5; a target column "
        "in the prepared data is used instead when present)",
    )
    parser.add_argument(
        "--reference-channel",
        default=None,
        metavar="CHANNEL",
        help="channel the per-channel Cox model compares the others with (default phone, "
        "else the largest channel)",
    )
    _add_output_options(parser)


def _check_truth_columns(path: Path) -> None:
    import pandas as pd

    needed = ("estimand", "group", "value")  # the generator's truth table
    try:
        if path.name.lower().endswith(".parquet"):
            import pyarrow.parquet as pq

            columns = pq.read_schema(path).names
        else:
            columns = list(pd.read_csv(path, nrows=0).columns)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise SekatError(f"cannot read the truth table ({err})", file=str(path)) from None
    missing = [c for c in needed if c not in columns]
    if missing:
        raise SekatError(
            f"not a truth table: it lacks {missing}; columns found: {columns}",
            file=str(path),
            column=missing[0],
        )


def _run_estimate(args: argparse.Namespace) -> int:
    from toolkit.analysis import estimate_prepared

    if not args.out.name.lower().endswith(".csv") or args.out.name.lower() == ".csv":
        raise SekatError(
            "the estimates are written as CSV; end the name in .csv", file=str(args.out)
        )
    if not args.prepared.is_dir():
        raise SekatError(
            "not a folder prepared by 'sekat prepare'"
            if args.prepared.exists()
            else "folder does not exist",
            file=str(args.prepared),
        )
    for option, path in (("--truth", args.truth), ("--rollout", args.rollout)):
        if path is not None and not path.is_file():
            raise SekatError(f"{option}: file does not exist", file=str(path))
    if args.truth is not None:
        # The estimates take a while; a truth table that cannot serve fails before them.
        _check_truth_columns(args.truth)
    from toolkit import progress

    began = time.perf_counter()
    with progress.bar(None, "sekat estimate", unit="s") as shown:
        shown.set_description_str("estimating (the bootstrap takes longest)")
        result, table = estimate_prepared(
            args.prepared,
            args.out,
            truth=args.truth,
            rollout=False if args.no_rollout else args.rollout,
            seed=args.seed,
            tau_days=args.tau_days,
            n_boot=args.n_boot,
            control=args.control,
            treatment=args.treatment,
            holidays=args.holidays,
            workweek=args.workweek,
            standard_days=args.standard_days,
            reference_channel=args.reference_channel,
        )
    summary = {
        "command": "estimate",
        "status": "estimated",
        "out": str(args.out),
        "seconds": round(time.perf_counter() - began, 3),
        "estimates": len(table),
        "methods": int(table["method"].nunique()),
        "skipped": dict(result.skipped),
    }
    message = f"wrote {len(table)} estimates ({table['method'].nunique()} methods) to {args.out}"
    if "covered" in table.columns:
        planted = table["covered"].dropna()
        message += (
            f"; the planted value lies inside {int(planted.sum())} of {len(planted)} intervals"
        )
        summary.update(covered=int(planted.sum()), compared=len(planted))
    warnings = dict(table.attrs.get("warnings", {}))
    summary["warnings"] = warnings
    summary["rollout"] = table.attrs.get("rollout")
    if table.attrs.get("rollout") is None:
        _log.warning(
            "no rollout: the event study is skipped and the propensity models cannot adjust "
            "for whether a district had a social-media desk yet; give --rollout FILE "
            "(or prepare with --rollout FILE) if desks opened at different dates"
        )
    _emit_json(args, summary)
    _say(message)
    from toolkit.report.words import skip_text, text

    for part, reason in result.skipped.items():
        _say(f"not estimated, {text('brief.parts', part, 'en')}: {skip_text(reason, 'en')}")
    for code in dict.fromkeys(warnings.values()):
        terms = ", ".join(term for term, c in warnings.items() if c == code)
        _log.warning("%s (%s)", _WARNING_LINES.get(code, code), terms)
    return 0


#: The one-line wording of an analysis warning on the terminal (code -> line).
_WARNING_LINES = {
    "poor_overlap": "poor overlap: the ATE is not reported, since its weights rest on too few "
    "comparable requests (effective sample size under 10% of an arm, one request over 5% "
    "of the weight, or over 5% of an arm with a propensity outside [0.02, 0.98]); read the ATT and the overlap-weighted effect (ato) instead",
    "ph_violated": "proportional hazards rejected for the channel (p < 0.01): the hazard ratio "
    "averages a ratio that changes over time; read the restricted-mean days saved instead",
}


#: name -> (help line, add arguments, run). Add a subcommand by adding an entry.
COMMANDS: dict[
    str,
    tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]],
] = {
    "simulate": (
        "write a synthetic request log with planted effects",
        _add_simulate,
        _run_simulate,
    ),
    "describe": (
        "show a log file's columns and values, and a mapping to edit",
        _add_describe,
        _run_describe,
    ),
    "prepare": ("validate, pseudonymise and tabulate event logs", _add_prepare, _run_prepare),
    "estimate": (
        "estimate the effect of social intake on hops and time to resolution",
        _add_estimate,
        _run_estimate,
    ),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of ``sekat`` with every subcommand of :data:`COMMANDS`.

    Parameters
    ----------
    command : str, optional
        Add the arguments of this subcommand only (the others keep their help line): each
        subcommand's arguments import what it needs, and ``sekat --version`` or ``sekat
        --help`` should not wait for pandas. Default: every subcommand's arguments.

    Examples
    --------
    >>> build_parser().parse_args(["simulate", "--out", "x.csv"]).cases
    20000
    """
    import toolkit

    parser = _Parser(
        prog=PROG,
        description="How citizens' requests travel between agencies, and what social-media "
        "intake changes.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {toolkit.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_line, add_arguments, run) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_line, description=help_line)
        if command is None or command == name:
            add_arguments(sub)
        sub.set_defaults(run=run)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (its first word that is one), if any."""
    return next((word for word in argv if word in COMMANDS), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sekat``; return the exit status (0 success, 2 user error).

    Examples
    --------
    >>> main(["prepare", "missing.csv", "--out", "out", "--demo-key"])
    2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    logger = logging.getLogger("toolkit")
    # Messages go to this call's stderr (a test may have replaced it), as "sekat: ...".
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"{PROG}: %(message)s"))
    handler.addFilter(_Scrubbed())
    handler.setLevel(logging.INFO)
    logger.addHandler(handler)
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    args = None
    failure = None
    try:
        args = build_parser(_command(argv) or "").parse_args(argv)
        quiet, verbose = getattr(args, "quiet", False), getattr(args, "verbose", False)
        handler.setLevel(logging.WARNING if quiet else logging.DEBUG if verbose else logging.INFO)
        logger.setLevel(logging.DEBUG if verbose else logging.INFO)
        if quiet:
            from toolkit import progress

            progress.set_enabled(False)
        return args.run(args)
    except _UsageError as err:
        failure = f"{err} (see '{PROG} --help')"
    except SekatError as err:
        failure = str(err)
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as err:
        where = f"{err.filename}: " if err.filename else ""
        failure = f"{where}{err.strerror or err}"
    except OSError as err:
        failure = str(err)
    except KeyboardInterrupt:
        _log.error("interrupted")
        return 130
    finally:
        if failure is not None:
            _log.error("error: %s", failure)  # one line, shown even with --quiet
            if args is not None:
                _emit_json(args, {"command": args.command, "status": "error", "error": failure})
        logger.removeHandler(handler)
        logger.setLevel(previous_level)
        if getattr(args, "quiet", False):
            from toolkit import progress

            progress.set_enabled(None)
    return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
