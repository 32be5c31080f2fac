"""Small helpers the numbered notebooks share: load a prepared folder, check parameters, show.

A notebook in ``notebooks/`` is a narrative with thin code cells; whatever a second notebook
would copy lives here. :func:`load_prepared` reads what ``sekat prepare`` wrote (cases,
events, hand-offs, the validation report) and, when they fit the log, the desk opening dates
of a staggered rollout and the planted truth of a synthetic log. :func:`check_parameters`
turns a mistyped papermill parameter into one clear line. :func:`comparison_cases` applies
the treatment definition. :func:`rounded` and :func:`check_lines` show tidy tables with the
decimals a reader needs, the second in a form stable enough for nbval's checked cells.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit import schema
from toolkit.errors import MissingColumnError, SekatError
from toolkit.labels import LANGS

#: Files ``sekat prepare`` writes that the notebooks read.
CASES_FILE = "cases.parquet"
EVENTS_FILE = "events.parquet"
HANDOVERS_FILE = "handovers.parquet"
REPORT_FILE = "report.json"
#: Columns of a rollout file: one row per region, the date its social-media desk opened
#: (empty: never).
DESK_OPENED = "desk_opened"
ROLLOUT_COLUMNS = (schema.REGION, DESK_OPENED)
#: Treatments the estimators know (they compare social-media intake with the rest).
TREATMENTS = (schema.SOCIAL,)
#: Comparison groups: every request not from social media, or one channel group.
CONTROLS = ("not_social", schema.DIGITAL, schema.TRADITIONAL)


@dataclass(frozen=True)
class PreparedData:
    """What a notebook works on: the tables of one prepared folder, and companions.

    Attributes
    ----------
    data_dir : pathlib.Path
        The prepared folder.
    cases : pandas.DataFrame
        One row per request (:func:`toolkit.paths.case_table`).
    events : pandas.DataFrame or None
        The validated, pseudonymised events (None unless asked for).
    handovers : pandas.DataFrame
        Agency-to-agency hand-off counts.
    report : dict
        The validation report (rows in, kept, quarantined, reasons, privacy).
    rollout : pandas.DataFrame or None
        ``region``, ``desk_opened`` (UTC; NaT = never), when a rollout file was given.
    truth : pandas.DataFrame or None
        The generator's planted effects, when a truth file was given and belongs to this log.
    notes : tuple of str
        What was left out and why (e.g. a truth file of another log).
    """

    data_dir: Path
    cases: pd.DataFrame
    events: pd.DataFrame | None
    handovers: pd.DataFrame
    report: dict
    rollout: pd.DataFrame | None
    truth: pd.DataFrame | None
    notes: tuple[str, ...] = ()


def _optional(path: str | os.PathLike[str] | None) -> Path | None:
    if path is None or str(path).strip() in ("", "None"):
        return None
    return Path(path)


def read_rollout(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a rollout file: one row per region and the date its social-media desk opened.

    Parameters
    ----------
    path : path-like
        CSV with columns ``region`` and ``desk_opened`` (a date or timestamp; empty for a
        region that never opened a desk). Dates without a zone are read as UTC.

    Returns
    -------
    pandas.DataFrame
        ``region`` (str) and ``desk_opened`` (datetime64[ns, UTC]), one row per region.

    Raises
    ------
    SekatError
        When the file or a column is missing, a date cannot be read (naming its row) or a
        region is listed twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "desks.csv"
    >>> _ = f.write_text("region,desk_opened\\nCoblong,2023-05-01\\nRegol,\\n")
    >>> read_rollout(f)["desk_opened"].dt.strftime("%Y-%m-%d").tolist()
    ['2023-05-01', nan]

    Notes
    -----
    The row number in an error counts data rows from 0, as the rest of sekat does.
    """
    path = Path(path)
    if not path.is_file():
        raise SekatError("rollout file not found", file=str(path))
    try:
        raw = pd.read_csv(path, dtype="str", keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise SekatError(f"cannot read the rollout file ({error})", file=str(path)) from error
    missing = [c for c in ROLLOUT_COLUMNS if c not in raw.columns]
    if missing:
        raise MissingColumnError(
            f"needs columns {list(ROLLOUT_COLUMNS)}; found {list(raw.columns)}",
            file=str(path),
            column=missing[0],
        )
    text = raw[DESK_OPENED].str.strip()
    opened = pd.to_datetime(text.where(text != ""), utc=True, errors="coerce", format="mixed")
    bad = np.flatnonzero(opened.isna().to_numpy() & (text != "").to_numpy())
    if len(bad):
        raise SekatError(
            f"cannot read the date {text.iloc[bad[0]]!r}",
            file=str(path),
            column=DESK_OPENED,
            row=int(bad[0]),
        )
    region = raw[schema.REGION].str.strip()
    twice = np.flatnonzero(region.duplicated().to_numpy())
    if len(twice):
        raise SekatError(
            f"region {region.iloc[twice[0]]!r} is listed twice",
            file=str(path),
            column=schema.REGION,
            row=int(twice[0]),
        )
    return pd.DataFrame(
        {schema.REGION: region.astype("str"), DESK_OPENED: opened.astype(schema.TIMESTAMP_DTYPE)}
    )


def _log_stems(report: dict) -> set[str]:
    names = report.get("inputs", {})
    stems = set()
    for name in names:
        stem = str(name)
        for suffix in (".gz", ".csv", ".parquet", ".xes", ".tsv"):
            stem = stem.removesuffix(suffix)
        stems.add(stem)
    return stems


def truth_belongs(truth_path: str | os.PathLike[str], report: dict) -> bool:
    """Whether a truth file was written beside the log this folder was prepared from.

    ``sekat simulate --out NAME.csv.gz`` writes ``NAME.truth.csv`` beside the log; the
    report names the log it read. A truth file of another log must never be compared with
    these estimates.

    Examples
    --------
    >>> truth_belongs("data/raw/sample_events.truth.csv", {"inputs": {"sample_events.csv.gz": 1}})
    True
    >>> truth_belongs("data/raw/sample_events.truth.csv", {"inputs": {"my_city.csv": 1}})
    False
    """
    stem = Path(truth_path).name.removesuffix(".csv").removesuffix(".truth")
    return stem in _log_stems(report)


def load_prepared(
    data_dir: str | os.PathLike[str],
    *,
    rollout_file: str | os.PathLike[str] | None = None,
    truth_file: str | os.PathLike[str] | None = None,
    events: bool = False,
) -> PreparedData:
    """Read a folder written by ``sekat prepare``, with the rollout and truth files if any.

    Parameters
    ----------
    data_dir : path-like
        The prepared folder (cases.parquet, handovers.parquet, report.json, ...).
    rollout_file : path-like, optional
        Desk opening dates (:func:`read_rollout`); "" or None for none. Its regions must
        include at least one region of the log. A file named ``NAME.rollout.csv`` (as
        ``sekat simulate`` writes beside ``NAME.csv.gz``) is used only with the log it was
        written for, like the truth file; otherwise it is left out with a note.
    truth_file : path-like, optional
        The planted truth of a synthetic log. It is used only if it sits beside the log the
        folder was prepared from (see :func:`truth_belongs`) and exists; otherwise it is left
        out and :attr:`PreparedData.notes` says so, since a user's own log has no truth.
    events : bool, default False
        Also read events.parquet (larger; only notebooks that need events ask for it).

    Returns
    -------
    PreparedData

    Raises
    ------
    SekatError
        A missing folder or file names the file and the command that makes it.

    Examples
    --------
    >>> load_prepared("/no/such/folder")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: /no/such/folder/cases.parquet: not found; run sekat prepare
    """
    folder = Path(data_dir)
    needed = [CASES_FILE, HANDOVERS_FILE, REPORT_FILE] + ([EVENTS_FILE] if events else [])
    for name in needed:
        if not (folder / name).is_file():
            raise SekatError(
                "not found; run `sekat prepare LOG --out FOLDER` first (see README)",
                file=str(folder / name),
            )
    report = json.loads((folder / REPORT_FILE).read_text(encoding="utf-8"))
    cases = pd.read_parquet(folder / CASES_FILE)
    notes: list[str] = []
    rollout = None
    rollout_path = _optional(rollout_file)
    if rollout_path is not None and rollout_path.name.endswith(".rollout.csv"):
        # Written by `sekat simulate` beside its log: it belongs to that log only.
        if not truth_belongs(rollout_path.name.replace(".rollout.csv", ".truth.csv"), report):
            notes.append(f"no rollout: {rollout_path.name} belongs to another log")
            rollout_path = None
    if rollout_path is not None:
        rollout = read_rollout(rollout_path)
        if schema.REGION not in cases.columns or not set(rollout[schema.REGION]) & set(
            cases[schema.REGION].dropna().astype("str")
        ):
            raise SekatError(
                "none of its regions occurs in the log; is it the rollout of another log?",
                file=str(rollout_path),
                column=schema.REGION,
            )
    truth = None
    truth_path = _optional(truth_file)
    if truth_path is not None:
        if not truth_path.is_file():
            notes.append(f"no planted truth: {truth_path.name} not found")
        elif not truth_belongs(truth_path, report):
            notes.append(f"no planted truth: {truth_path.name} belongs to another log")
        else:
            truth = pd.read_csv(truth_path)
    return PreparedData(
        data_dir=folder,
        cases=cases,
        events=pd.read_parquet(folder / EVENTS_FILE) if events else None,
        handovers=pd.read_parquet(folder / HANDOVERS_FILE),
        report=report,
        rollout=rollout,
        truth=truth,
        notes=tuple(notes),
    )


def check_parameters(
    *,
    lang: str = "en",
    seed: int = 0,
    min_cell: int = schema.MIN_CELL_COUNT,
    treatment: str = schema.SOCIAL,
    control: str = "not_social",
    share: float | None = None,
) -> None:
    """Check a notebook's papermill parameters; a wrong one raises one clear line.

    Parameters
    ----------
    lang : {"en", "id"}
        Language of figure labels.
    seed : int
        Seed of every random draw (bootstrap, simulation of uncertainty).
    min_cell : int
        Smallest group of requests a figure or table may show; never below the project's
        default of 10 (a notebook may be stricter, not looser).
    treatment : {"social"}
        The intake whose effect is estimated.
    control : {"not_social", "digital", "traditional"}
        What it is compared with: every other request, or one channel group.
    share : float, optional
        A scenario share, in [0, 1].

    Examples
    --------
    >>> check_parameters(lang="id", seed=1)
    >>> check_parameters(lang="fr")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    toolkit.errors.SekatError: parameter lang must be one of ('en', 'id'), got 'fr'
    """
    if lang not in LANGS:
        raise SekatError(f"parameter lang must be one of {LANGS}, got {lang!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise SekatError(f"parameter seed must be a non-negative whole number, got {seed!r}")
    if isinstance(min_cell, bool) or not isinstance(min_cell, (int, np.integer)):
        raise SekatError(f"parameter min_cell must be a whole number, got {min_cell!r}")
    if min_cell < schema.MIN_CELL_COUNT:
        raise SekatError(
            f"parameter min_cell must be at least {schema.MIN_CELL_COUNT} (disclosure rule), "
            f"got {min_cell}"
        )
    if treatment not in TREATMENTS:
        raise SekatError(
            f"parameter treatment must be one of {TREATMENTS} (the estimators compare "
            f"social-media intake with the rest), got {treatment!r}"
        )
    if control not in CONTROLS:
        raise SekatError(f"parameter control must be one of {CONTROLS}, got {control!r}")
    if share is not None and not 0 <= share <= 1:
        raise SekatError(f"parameter share must lie in [0, 1], got {share!r}")


def comparison_cases(cases: pd.DataFrame, control: str = "not_social") -> pd.DataFrame:
    """The requests of the comparison: social intake and the chosen comparison group.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    control : {"not_social", "digital", "traditional"}
        ``not_social`` keeps every request; a channel group keeps social requests and that
        group's, so that "not social" in every estimator means that group.

    Returns
    -------
    pandas.DataFrame
        The kept rows, index reset.

    Examples
    --------
    >>> cases = pd.DataFrame({"channel": ["twitter", "web", "letter"]})
    >>> comparison_cases(cases, "traditional")["channel"].tolist()
    ['twitter', 'letter']
    """
    check_parameters(control=control)
    if control == "not_social":
        return cases.reset_index(drop=True)
    groups = schema.channel_group(cases[schema.CHANNEL]).astype("object")
    keep = groups.isin([schema.SOCIAL, control]).to_numpy()
    return cases.loc[keep].reset_index(drop=True)


def hop_effects(
    cases: pd.DataFrame,
    *,
    covariates: Sequence[str] | None = None,
    rollout: pd.DataFrame | None = None,
    level: float = 0.95,
) -> tuple[pd.DataFrame, dict]:
    """The naive and adjusted effects of social intake on hops, named by estimand.

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table (after :func:`comparison_cases`).
    covariates : sequence of str, optional
        Adjustment set; default :data:`toolkit.effects.DEFAULT_COVARIATES` (category,
        region, month of intake).
    rollout : pandas.DataFrame, optional
        Desk opening dates (``region``, ``desk_opened``): AIPW's propensity model also
        adjusts for the desk status at intake (:func:`toolkit.rollout.with_desk_status`);
        its outcome models and the Poisson fixed-effects ratio keep ``covariates``.
    level : float
        Confidence level.

    Returns
    -------
    (pandas.DataFrame, dict)
        Tidy result with terms ``ate_hops`` (naive difference of means, then AIPW),
        ``att_hops`` (AIPW) and ``att_irr_hops`` (Poisson fixed-effects rate ratio), as
        :func:`toolkit.estimate.headline_estimates` names them; and the AIPW diagnostics
        (``overlap``, ``propensity_histogram``).

    Examples
    --------
    >>> from toolkit.synthetic import simulate
    >>> from toolkit.paths import case_table
    >>> table, diagnostics = hop_effects(case_table(simulate(1500, seed=3).events))
    >>> table["term"].tolist()
    ['ate_hops', 'ate_hops', 'att_hops', 'att_irr_hops']

    Notes
    -----
    The naive difference targets the average effect over all requests (ATE) but is biased
    by whatever drives both channel choice and hops; AIPW is consistent if either its
    propensity or its outcome model is right and overlap holds.
    """
    from toolkit.effects import DEFAULT_COVARIATES, aipw_hops, hops_regression, naive_hops
    from toolkit.results import result_frame
    from toolkit.rollout import with_desk_status

    covariates = list(DEFAULT_COVARIATES if covariates is None else covariates)
    weighted_cases, propensity_covariates = with_desk_status(cases, rollout, covariates)
    naive = naive_hops(cases, level=level)
    aipw = aipw_hops(
        weighted_cases,
        covariates=propensity_covariates,
        outcome_covariates=covariates,
        level=level,
    )
    poisson = hops_regression(cases, fixed_effects=covariates, level=level).table
    table = pd.concat(
        [
            naive.loc[naive["term"] == "social - not social"].assign(term="ate_hops"),
            aipw.table.assign(term=aipw.table["term"] + "_hops"),
            poisson.assign(term="att_irr_hops"),
        ],
        ignore_index=True,
    )
    return result_frame(table), dict(aipw.diagnostics)


def days_effects(
    cases: pd.DataFrame,
    *,
    seed: int,
    n_boot: int = 100,
    tau_days: float = 30.0,
    covariates: Sequence[str] | None = None,
    rollout: pd.DataFrame | None = None,
    level: float = 0.95,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Days saved within the first ``tau_days``: naive and propensity-weighted (ATT).

    Parameters
    ----------
    cases : pandas.DataFrame
        Case table.
    seed : int
        Seed of the bootstrap.
    n_boot : int
        Bootstrap replicates (each refits the propensity model: the slow part).
    tau_days : float
        Horizon of the restricted mean survival time.
    covariates : sequence of str, optional
        Propensity covariates; default category, region and month.
    rollout : pandas.DataFrame, optional
        Desk opening dates (``region``, ``desk_opened``): adds the age of the region's
        desk at intake (:func:`toolkit.rollout.with_desk_status`) to the propensity model. The
        weighted curves rest on that model alone, so where desks open at different dates
        leaving it out biases the weighted difference.
    level : float
        Confidence level.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        Tidy result with terms ``rmst_diff_days`` (naive Kaplan-Meier) and
        ``att_rmst_diff_days`` (ATT-weighted Kaplan-Meier); and the bootstrap replicates of
        the ATT difference, for carrying its uncertainty into a scenario.

    Examples
    --------
    >>> from toolkit.synthetic import simulate
    >>> from toolkit.paths import case_table
    >>> table, draws = days_effects(case_table(simulate(1500, seed=3).events), seed=1,
    ...                             n_boot=5)
    >>> table["term"].tolist(), len(draws)
    (['rmst_diff_days', 'att_rmst_diff_days'], 5)

    Notes
    -----
    ``RMST(tau) = E[min(T, tau)]``; the difference, social minus not social, is negative
    when social requests spend fewer of their first tau days unresolved.
    """
    from toolkit.effects import DEFAULT_COVARIATES
    from toolkit.results import result_frame
    from toolkit.rollout import with_desk_status
    from toolkit.survival import rmst_difference

    covariates = list(DEFAULT_COVARIATES if covariates is None else covariates)
    cases, covariates = with_desk_status(cases, rollout, covariates)
    parts, draws = [], np.array([])
    for weighting, estimand, term in (
        ("naive", "ate", "rmst_diff_days"),
        ("ipw", "att", "att_rmst_diff_days"),
    ):
        result = rmst_difference(
            cases,
            tau_days=tau_days,
            weighting=weighting,
            covariates=covariates,
            estimand=estimand,
            n_boot=n_boot,
            seed=seed,
            level=level,
        )
        table = result.table
        parts.append(table.loc[table["term"] == "rmst_diff_days"].assign(term=term))
        draws = result.diagnostics["bootstrap"]["rmst_diff"].to_numpy(float)
    return result_frame(pd.concat(parts, ignore_index=True)), draws


def rollout_summary(study: pd.DataFrame) -> pd.DataFrame:
    """The overall rollout effects of an event study, robust and naive, named by estimand.

    Parameters
    ----------
    study : pandas.DataFrame
        ``table`` of :func:`toolkit.rollout.rollout_event_study`.

    Returns
    -------
    pandas.DataFrame
        Rows ``att_rollout_<outcome>`` for each outcome: the Callaway-Sant'Anna simple
        aggregate, then the naive two-way fixed-effects estimate.

    Examples
    --------
    >>> study = pd.DataFrame({"term": ["hops:simple", "hops:twfe", "hops:event[e=0]"],
    ...     "estimate": [-0.1, 0.0, -0.2], "std_error": [0.05] * 3, "ci_low": [-0.2] * 3,
    ...     "ci_high": [0.0] * 3, "n": [12, 288, 12], "method": ["CS", "TWFE", "CS"]})
    >>> rollout_summary(study)[["term", "method"]].values.tolist()
    [['att_rollout_hops', 'CS'], ['att_rollout_hops', 'TWFE']]
    """
    terms = study["term"].astype("str")
    outcomes = list(dict.fromkeys(t.split(":", 1)[0] for t in terms if ":" in t))
    parts = []
    for outcome in outcomes:
        for suffix in ("simple", "twfe"):
            row = study.loc[terms == f"{outcome}:{suffix}"]
            parts.append(row.assign(term=f"att_rollout_{outcome}"))
    return pd.concat(parts, ignore_index=True)


#: Words for the estimands the notebooks report, in every language of the labels.
ESTIMAND_WORDS: dict[str, dict[str, str]] = {
    "ate_hops": {
        "en": "Hand-offs per request, all requests (ATE)",
        "id": "Perpindahan per permohonan, semua permohonan (ATE)",
    },
    "att_hops": {
        "en": "Hand-offs per request, social-media requests (ATT)",
        "id": "Perpindahan per permohonan, permohonan lewat media sosial (ATT)",
    },
    "att_irr_hops": {
        "en": "Ratio of hand-offs, social vs. not social",
        "id": "Rasio perpindahan, media sosial vs. bukan",
    },
    "rmst_diff_days": {
        "en": "Days unresolved in the first 30, all requests",
        "id": "Hari belum selesai dalam 30 hari pertama, semua permohonan",
    },
    "att_rmst_diff_days": {
        "en": "Days unresolved in the first 30, social-media requests",
        "id": "Hari belum selesai dalam 30 hari pertama, permohonan lewat media sosial",
    },
    "att_rollout_hops": {
        "en": "Opening a desk: hand-offs per request",
        "id": "Pembukaan layanan: perpindahan per permohonan",
    },
    "att_rollout_rmst_days": {
        "en": "Opening a desk: days unresolved in the first 30",
        "id": "Pembukaan layanan: hari belum selesai dalam 30 hari pertama",
    },
}
#: Words for the estimators, keyed by :func:`method_key`.
METHOD_WORDS: dict[str, dict[str, str]] = {
    "naive": {"en": "Naive comparison", "id": "Perbandingan naif"},
    "aipw": {"en": "Doubly robust (AIPW)", "id": "Robust ganda (AIPW)"},
    "poisson": {"en": "Poisson regression", "id": "Regresi Poisson"},
    "ipw": {"en": "Propensity-weighted", "id": "Terbobot propensitas"},
    "event_study": {"en": "Robust event study", "id": "Studi peristiwa (robust)"},
    "twfe": {"en": "Naive two-way fixed effects", "id": "Efek tetap dua arah (naif)"},
    "truth": {"en": "Planted truth", "id": "Nilai sebenarnya (ditanam)"},
}


def method_key(method: object) -> str:
    """The kind of estimator a result's ``method`` text describes (a key of METHOD_WORDS).

    Examples
    --------
    >>> method_key("RMST at tau=30 days, IPW (att) weighted Kaplan-Meier")
    'ipw'
    >>> method_key("naive two-way fixed effects, SE clustered by unit")
    'twfe'
    """
    text = str(method).lower()
    for needle, key in (
        ("two-way", "twfe"),
        ("callaway", "event_study"),
        ("aipw", "aipw"),
        ("ipw", "ipw"),
        ("poisson", "poisson"),
        ("naive", "naive"),
    ):
        if needle in text:
            return key
    return short_method(method)


def plot_table(
    estimates: pd.DataFrame, lang: str = "en", truth: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Estimates with readable terms and methods, and the planted truth as a method of its own.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Tidy result with estimand-named terms (``att_hops``, ``att_hops[category=roads]``).
    lang : {"en", "id"}
        Language of the words.
    truth : pandas.DataFrame, optional
        The generator's truth table: each estimand with a planted value gets a row with
        method "Planted truth" and a zero-width interval, drawn beside the estimates.

    Returns
    -------
    pandas.DataFrame
        term, estimate, ci_low, ci_high, n, method: the input of
        :func:`toolkit.figures.forest_plot`.

    Examples
    --------
    >>> est = pd.DataFrame({"term": ["att_hops[category=roads]"], "estimate": [-0.2],
    ...     "std_error": [0.1], "ci_low": [-0.4], "ci_high": [0.0], "n": [500],
    ...     "method": ["AIPW (poisson outcome)"]})
    >>> plot_table(est, "id")[["term", "method"]].values.tolist()
    [['Jalan', 'Robust ganda (AIPW)']]
    """
    from toolkit.labels import humanise, label

    check_parameters(lang=lang)
    out = estimates[["term", "estimate", "ci_low", "ci_high", "n", "method"]].copy()
    words = {k: v[lang] for k, v in METHOD_WORDS.items()}
    out["method"] = [words.get(method_key(m), short_method(m)) for m in out["method"]]
    if truth is not None:
        compared = with_truth(estimates, truth)
        planted = compared.loc[compared["truth"].notna()].drop_duplicates("term")
        out = pd.concat(
            [
                out,
                pd.DataFrame(
                    {
                        "term": planted["term"],
                        "estimate": planted["truth"],
                        "ci_low": planted["truth"],
                        "ci_high": planted["truth"],
                        "n": np.nan,
                        "method": words["truth"],
                    }
                ),
            ],
            ignore_index=True,
        )
    parsed = (
        out["term"]
        .astype("str")
        .str.extract(r"^(?P<name>[^\[]+)(?:\[[^=\]]*=(?P<level>[^\]]*)\])?$")
    )
    readable = []
    for name, level, term in zip(parsed["name"], parsed["level"], out["term"], strict=True):
        if isinstance(level, str):
            word = label(level, lang)
            readable.append(humanise(word) if word == word.lower() else word)
        elif name in ESTIMAND_WORDS:
            readable.append(ESTIMAND_WORDS[name][lang])
        else:
            readable.append(label(term, lang))
    out["term"] = readable
    return out.reset_index(drop=True)


_TO = {"en": "to", "id": "sampai"}


def describe_rows(
    table: pd.DataFrame,
    lang: str = "en",
    *,
    label_col: str = "term",
    value_col: str = "estimate",
    low_col: str | None = "ci_low",
    high_col: str | None = "ci_high",
    decimals: int = 2,
    group_col: str | None = "method",
) -> str:
    """The rows of a plotted table in words: what alt text should say the figure shows.

    Parameters
    ----------
    table : pandas.DataFrame
        The table a figure draws (after :func:`plot_table`, or a tidy result).
    lang : {"en", "id"}
        Language (Indonesian uses a decimal comma).
    label_col, value_col, low_col, high_col : str
        Columns of the row label, the value and its interval (None: no interval).
    decimals : int
        Decimals of the numbers.
    group_col : str, optional
        A column (e.g. method) whose value is put before each row's label when present.
        Labels and groups that are vocabulary codes are put in words
        (:func:`toolkit.labels.label`).

    Returns
    -------
    str
        ``"label: value (low to high); ..."``.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["Roads"], "estimate": [-0.214], "ci_low": [-0.4],
    ...                   "ci_high": [-0.02]})
    >>> describe_rows(t, "id")
    'Roads: −0,21 (−0,40 sampai −0,02)'
    """
    from toolkit.labels import format_number, label

    check_parameters(lang=lang)
    items = []
    for row in table.to_dict("records"):
        name = label(str(row[label_col]), lang)
        if group_col and group_col in row and isinstance(row[group_col], str):
            name = f"{label(row[group_col], lang)}, {name}"
        text = f"{name}: {format_number(row[value_col], lang, decimals=decimals)}"
        if low_col and high_col and np.isfinite(row[low_col]) and row[low_col] != row[high_col]:
            low = format_number(row[low_col], lang, decimals=decimals)
            high = format_number(row[high_col], lang, decimals=decimals)
            text += f" ({low} {_TO[lang]} {high})"
        items.append(text)
    return "; ".join(items)


def alt_text(
    chart: Mapping[str, str], rows: Mapping[str, pd.DataFrame] | pd.DataFrame, **describe: object
) -> dict[str, str]:
    """Bilingual alt text: what kind of chart it is, then the values it draws, in words.

    Parameters
    ----------
    chart : mapping of language to str
        The kind of chart and how to read it (no numbers: those come from the data).
    rows : pandas.DataFrame or mapping of language to DataFrame
        The plotted rows (one table per language when its labels are localised).
    **describe
        Passed to :func:`describe_rows`.

    Returns
    -------
    dict of str to str
        ``{"en": ..., "id": ...}`` for :func:`toolkit.export.export_figure`.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["Roads"], "estimate": [-0.2], "ci_low": [-0.4],
    ...                   "ci_high": [0.0]})
    >>> alt_text({"en": "Dot chart.", "id": "Diagram titik."}, t)["en"]
    'Dot chart. Roads: −0.20 (−0.40 to 0.00).'
    """
    out = {}
    for lang in LANGS:
        table = rows[lang] if isinstance(rows, Mapping) else rows
        out[lang] = f"{chart[lang]} {describe_rows(table, lang, **describe)}."
    return out


def rounded(table: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """A copy of a table with its floating-point columns rounded, for display.

    Examples
    --------
    >>> rounded(pd.DataFrame({"term": ["a"], "estimate": [0.123456], "n": [12]}))
      term  estimate   n
    0    a      0.12  12
    """
    out = table.copy()
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(decimals)
    return out


def check_lines(table: pd.DataFrame, columns: list[str] | None = None, decimals: int = 2) -> str:
    """A table as plain text with fixed decimals: the stable output of a checked cell.

    nbval compares a checked cell's output character by character, so the text must not
    depend on the display width, pandas' float formatting or ``-0.00``.

    Parameters
    ----------
    table : pandas.DataFrame
        Rows to print.
    columns : list of str, optional
        Columns to print, in order (default all).
    decimals : int
        Decimals of floating-point values.

    Returns
    -------
    str
        One line per row, values separated by `` | ``, a header line first.

    Examples
    --------
    >>> t = pd.DataFrame({"term": ["att"], "estimate": [-0.0001], "n": [10]})
    >>> print(check_lines(t))
    term | estimate | n
    att | 0.00 | 10
    """
    columns = list(table.columns) if columns is None else list(columns)

    def cell(value: object) -> str:
        if isinstance(value, (float, np.floating)):
            if np.isnan(value):
                return "NA"
            text = f"{value:.{decimals}f}"
            return text[1:] if text.startswith("-") and float(text) == 0 else text
        if value is None or value is pd.NA:
            return "NA"
        return str(value)

    lines = [" | ".join(columns)]
    for row in table[columns].itertuples(index=False):
        lines.append(" | ".join(cell(v) for v in row))
    return "\n".join(lines)


def with_truth(estimates: pd.DataFrame, truth: pd.DataFrame | None) -> pd.DataFrame:
    """Estimates beside the planted truth (when there is one), for the teaching tables.

    Parameters
    ----------
    estimates : pandas.DataFrame
        Tidy result whose terms name estimands of the truth table (``att_hops``, ...).
    truth : pandas.DataFrame or None
        The truth table, or None for a real log (then ``truth`` and ``covered`` are NA).

    Returns
    -------
    pandas.DataFrame
        term, method, estimate, ci_low, ci_high, truth, covered.

    Examples
    --------
    >>> est = pd.DataFrame({"term": ["att_hops"], "estimate": [-0.2], "std_error": [0.05],
    ...                     "ci_low": [-0.3], "ci_high": [-0.1], "n": [100], "method": ["AIPW"]})
    >>> with_truth(est, None)[["term", "truth"]].values.tolist()
    [['att_hops', nan]]
    """
    from toolkit.estimate import compare_to_truth

    keep = ["term", "method", "estimate", "ci_low", "ci_high"]
    if truth is None:
        out = estimates[keep].copy()
        out["truth"] = np.nan
        out["covered"] = pd.array([pd.NA] * len(out), dtype="boolean")
        return out.reset_index(drop=True)
    compared = compare_to_truth(estimates, truth)
    return compared[[*keep, "truth", "covered"]].reset_index(drop=True)


def short_method(method: object) -> str:
    """The estimator's name without the details after its first parenthesis or comma.

    Examples
    --------
    >>> short_method("AIPW (poisson outcome, logistic propensity)")
    'AIPW'
    >>> short_method("naive two-way fixed effects, SE clustered by unit")
    'naive two-way fixed effects'
    """
    text = str(method)
    for stop in (" (", ";", ","):
        text = text.split(stop, 1)[0]
    return text.strip()


def show_figure(fig, dpi: int = 110) -> None:
    """Show a figure in the notebook as an embedded PNG (it stays in an HTML export).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    dpi : int
        Resolution of the shown copy.

    Examples
    --------
    >>> from matplotlib.figure import Figure
    >>> show_figure(Figure(figsize=(1, 1)))  # doctest: +ELLIPSIS
    <IPython.core.display.Image object>

    Notes
    -----
    Figures of :mod:`toolkit.figures` are built without pyplot, so nothing shows them
    unless asked; a PNG output is embedded in the notebook and in its HTML export alike.
    """
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    display(Image(data=buffer.getvalue(), format="png"))


def publish(
    fig,
    name: str,
    *,
    caption: Mapping[str, str],
    alt_text: Mapping[str, str],
    output_dir: str | os.PathLike[str],
    suppressed: object = None,
    show: bool = True,
    dpi: int = 110,
):
    """Export a figure with its bilingual caption and alt text, then show it in the notebook.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure of :mod:`toolkit.figures`.
    name : str
        File stem in ``output_dir`` (``NAME.png``, ``.svg``, ``.pdf``).
    caption, alt_text : mapping of language to str
        English and Bahasa Indonesia, as :func:`toolkit.export.export_figure` requires.
    output_dir : path-like
        Folder of the figures and their index.
    suppressed : optional
        Passed to :func:`toolkit.export.export_figure`.
    show : bool
        Display the figure (as a PNG at ``dpi``) after exporting it.
    dpi : int
        Resolution of the displayed copy (the exported PNG is 300 dpi).

    Returns
    -------
    toolkit.export.FigureExport
        What was written.

    Examples
    --------
    >>> import tempfile
    >>> from toolkit.figures import hops_by_channel_plot
    >>> fig = hops_by_channel_plot(pd.DataFrame({"channel_group": ["social"], "hops": [1.0],
    ...                                          "n": [50]}))
    >>> done = publish(fig, "hops", caption={"en": "Hops.", "id": "Perpindahan."},
    ...                alt_text={"en": "One bar.", "id": "Satu batang."},
    ...                output_dir=tempfile.mkdtemp(), show=False)
    >>> sorted(done.files)
    ['pdf', 'png', 'svg']

    Notes
    -----
    The figure is shown after it is exported, so the exported files do not depend on
    whether it was shown.
    """
    from toolkit.export import export_figure

    done = export_figure(
        fig, name, caption=caption, alt_text=alt_text, out_dir=output_dir, suppressed=suppressed
    )
    if show:
        show_figure(fig, dpi=dpi)
    return done


__all__ = [
    "CONTROLS",
    "DESK_OPENED",
    "TREATMENTS",
    "PreparedData",
    "alt_text",
    "check_lines",
    "describe_rows",
    "check_parameters",
    "comparison_cases",
    "days_effects",
    "hop_effects",
    "ESTIMAND_WORDS",
    "METHOD_WORDS",
    "load_prepared",
    "method_key",
    "plot_table",
    "publish",
    "read_rollout",
    "rollout_summary",
    "rounded",
    "show_figure",
    "short_method",
    "truth_belongs",
    "with_truth",
]
