"""The words of sekat in English (``en``) and Bahasa Indonesia (``id``), and how numbers are written.

Every word a reader sees (figure labels, captions and alt text, the sentences of the policy
brief, the names of estimands and methods, why a part of the analysis was skipped) lives in one
file, ``words.toml`` beside this module, so that a translation is fixed in one place and a
notebook passes a figure's name, not its sentences. This module reads it: :func:`label` for a
vocabulary code or value, :func:`figure_text` / :func:`figure_texts` for a figure's title,
axis labels, caption and alt text, :func:`estimand_label` and :func:`method_label` for result
rows, :func:`skip_text` for a skipped part, :func:`text` for any other entry. Values a table
brings with it (agency names, regions) are shown as they are; vocabulary codes without an entry
are made readable ("walk_in" -> "Walk in"). :func:`format_number` and :func:`format_compact`
write numbers as a reader of each language expects.
"""

from __future__ import annotations

import math
import numbers
import string
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources

import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.estimate.models import REST, Contrast


def _load_words() -> dict:
    with resources.files("toolkit.report").joinpath("words.toml").open("rb") as handle:
        return tomllib.load(handle)


#: Everything in ``words.toml``, by section.
_WORDS: dict = _load_words()

#: Languages every label, caption and alt text is given in.
LANGS: tuple[str, ...] = ("en", "id")

#: key -> {"en": ..., "id": ...}: words figures and tables draw (channels, topics, axes,
#: quarantine reasons, scenario rows, titles), from the ``[labels]`` of ``words.toml``.
LABELS: dict[str, dict[str, str]] = _WORDS["labels"]


#: How many suppressed groups :func:`suppression_note` names before it counts the rest.
MAX_NOTE_ITEMS: int = 5


def check_lang(lang: str) -> str:
    """``lang`` as one of :data:`LANGS` (any case, spaces ignored), else a SekatError.

    Examples
    --------
    >>> check_lang("id"), check_lang(" ID ")
    ('id', 'id')
    """
    code = lang.strip().lower() if isinstance(lang, str) else lang
    if code not in LANGS:
        raise SekatError(f"language must be one of {list(LANGS)}, got {lang!r}")
    return code


def humanise(code: object) -> str:
    """Make a vocabulary code readable: ``"walk_in"`` -> ``"Walk in"``.

    Examples
    --------
    >>> humanise("missing_timestamp")
    'Missing timestamp'
    """
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label(key: object, lang: str = "en", default: str | None = None) -> str:
    """The label of ``key`` in ``lang``.

    Parameters
    ----------
    key : object
        A key of :data:`LABELS` (a channel, a column, a method, ...), or any value.
    lang : {"en", "id"}
        Language.
    default : str, optional
        Text for a key without an entry. Default: the key made readable by :func:`humanise`
        if it looks like a code (lower case with underscores), else the key unchanged, so
        that agency and region names are shown as the data spell them.

    Returns
    -------
    str

    Examples
    --------
    >>> label("walk_in", "id")
    'Datang langsung'
    >>> label("Dinas PU", "id")
    'Dinas PU'
    >>> label("missing_agency")
    'Missing agency'
    """
    lang = check_lang(lang)
    entry = LABELS.get(key) if isinstance(key, str) else None
    if entry is not None:
        return entry[lang]
    if default is not None:
        return default
    text = str(key)
    if text == text.lower() and "_" in text:
        return humanise(text)
    return text


def suppression_note(
    record: pd.DataFrame,
    lang: str = "en",
    threshold: int | None = None,
    max_items: int | None = MAX_NOTE_ITEMS,
) -> str:
    """One sentence naming the groups that a figure or table does not show.

    Parameters
    ----------
    record : pandas.DataFrame
        The ``record`` of a :class:`toolkit.report.disclosure.Suppression`: the group columns of each
        masked cell (and ``suppression``). May be empty.
    lang : {"en", "id"}
        Language.
    threshold : int, optional
        The suppression threshold; default :data:`toolkit.schema.MIN_CELL_COUNT`.
    max_items : int or None, default :data:`MAX_NOTE_ITEMS`
        Name at most this many groups and count the rest ("... and 212 more"), so that a
        network of hundreds of rare agency pairs still gets a caption one can read;
        None names them all.

    Returns
    -------
    str
        E.g. "Not shown (fewer than 10 requests): Letter." or, when nothing was masked,
        "No group was suppressed.".

    Examples
    --------
    >>> import pandas as pd
    >>> record = pd.DataFrame({"channel": ["letter"], "suppression": ["primary"]})
    >>> suppression_note(record, "id")
    'Tidak ditampilkan (kurang dari 10 permohonan): Surat.'
    >>> record = pd.DataFrame({"channel": ["letter", "sms", "email"]})
    >>> suppression_note(record, "id", max_items=1)
    'Tidak ditampilkan (kurang dari 10 permohonan): Surat; ... dan 2 lainnya.'

    Notes
    -----
    Cells masked only to protect another (secondary suppression) are named too: they are
    not shown either, and a reader deserves to know why. The groups are named in the order
    of ``record``; the count of the others is exact.
    """
    lang = check_lang(lang)
    threshold = schema.MIN_CELL_COUNT if threshold is None else threshold
    if record is None or len(record) == 0:
        return LABELS["suppressed_none"][lang]
    keys = [c for c in record.columns if c != "suppression"]
    if max_items is not None and max_items < 1:
        raise SekatError(f"max_items must be at least 1 or None, got {max_items!r}")
    rows = list(record[keys].itertuples(index=False))
    named = rows if max_items is None or len(rows) <= max_items else rows[:max_items]
    # A pair of agencies is a flow, A → B; other groups are named by their values, A, B.
    joiner = " → " if keys == [schema.FROM_AGENCY, schema.TO_AGENCY] else ", "
    items = "; ".join(joiner.join(label(v, lang) for v in row) for row in named)
    if len(named) < len(rows):
        more = format_number(len(rows) - len(named), lang, decimals=0)
        items = LABELS["suppressed_more"][lang].format(items=items, more=more)
    return LABELS["suppressed_note"][lang].format(threshold=threshold, items=items)


_MARKDOWN_SPECIAL = "\\`*_[]#|!~"
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_markdown(value: object) -> str:
    r"""Text from the data made inert in Markdown: no markup, no HTML, no link.

    Characters Markdown reads as emphasis, links, headings or tables are escaped with a
    backslash and ``<``, ``>``, ``&`` become HTML entities, so a category named
    ``<img src=x onerror=...>`` or ``**bold**`` is shown as written.

    Examples
    --------
    >>> print(escape_markdown("<img src=x onerror=alert(1)> *Roads* [a](b)"))
    &lt;img src=x onerror=alert(1)&gt; \*Roads\* \[a\](b)
    """
    out = []
    for c in str(value):
        if c in _HTML_ENTITIES:
            out.append(_HTML_ENTITIES[c])
        elif c in _MARKDOWN_SPECIAL:
            out.append("\\" + c)
        else:
            out.append(c)
    return "".join(out)


def bilingual(text: str | Mapping[str, str], what: str = "text") -> dict[str, str]:
    """Check that a caption or alt text is given in every language of :data:`LANGS`.

    Parameters
    ----------
    text : mapping of language to str
        E.g. ``{"en": "Hand-offs by channel", "id": "Perpindahan menurut kanal"}``.
    what : str
        What the text is, for the error message.

    Returns
    -------
    dict of str to str

    Examples
    --------
    >>> bilingual({"en": "Hops", "id": "Perpindahan"})
    {'en': 'Hops', 'id': 'Perpindahan'}
    """
    if isinstance(text, str) or not isinstance(text, Mapping):
        raise SekatError(
            f"{what} must be given in every language, e.g. {{'en': '...', 'id': '...'}}; "
            f"got {text!r}"
        )
    missing = [lang for lang in LANGS if not str(text.get(lang, "")).strip()]
    if missing:
        raise SekatError(f"{what} is missing in language(s) {missing}")
    return {lang: str(text[lang]).strip() for lang in LANGS}


def format_number(x: float, lang: str = "en", decimals: int | None = None) -> str:
    """A number as a reader of ``lang`` writes it: 1,234.5 in English, 1.234,5 in Indonesian.

    Parameters
    ----------
    x : float
        The number; NaN gives an en dash.
    lang : {"en", "id"}
        Language.
    decimals : int, optional
        Digits after the decimal point; default 0 from 100 up, 1 from 10 up, else 2.

    Returns
    -------
    str
        With a true minus sign (U+2212).

    Examples
    --------
    >>> format_number(-1234.5, "id", decimals=1)
    '−1.234,5'
    >>> format_number(0.314)
    '0.31'
    >>> format_number(-0.004)
    '0.00'

    Notes
    -----
    A value that rounds to zero is written without a sign.
    """
    lang = check_lang(lang)
    if x is None or not math.isfinite(float(x)):
        return "–"
    x = float(x)
    if decimals is None:
        decimals = 0 if abs(x) >= 100 else 1 if abs(x) >= 10 else 2
    text = f"{x:,.{decimals}f}"
    if text.startswith("-") and not any(c in "123456789" for c in text):
        # -0.001 rounds to zero: "0.00", since a minus sign there claims a direction.
        text = text[1:]
    if lang == "id":
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return text.replace("-", "−")


_SCALES = (
    (1e12, {"en": "trillion", "id": "triliun"}),
    (1e9, {"en": "billion", "id": "miliar"}),
    (1e6, {"en": "million", "id": "juta"}),
)


def format_compact(x: float, lang: str = "en") -> str:
    """A large number in words a reader takes in at a glance: 88.2 million, 88,2 juta.

    Below a million the number is written in full (:func:`format_number`).

    Examples
    --------
    >>> format_compact(88_184_622, "id"), format_compact(3_730_290), format_compact(-12_400)
    ('88,2 juta', '3.73 million', '−12,400')
    """
    lang = check_lang(lang)
    if x is None or not math.isfinite(float(x)):
        return "–"
    for scale, word in _SCALES:
        if abs(float(x)) >= scale:
            value = float(x) / scale
            decimals = 1 if abs(value) >= 10 else 2
            text = format_number(value, lang, decimals=decimals)
            # Drop zeros after the decimal mark: "2 juta", not "2,00 juta".
            mark = "," if lang == "id" else "."
            if mark in text:
                text = text.rstrip("0").rstrip(mark)
            return f"{text} {word[lang]}"
    return format_number(x, lang)


#: How a currency code is written before an amount, by language (others: the code itself).
CURRENCY_SIGNS: dict[str, dict[str, str]] = {"IDR": {"en": "IDR", "id": "Rp"}}


def format_money(x: float, currency: str = "IDR", lang: str = "en", compact: bool = False) -> str:
    """An amount of money as a reader of ``lang`` writes it: IDR 40,000 / Rp 40.000.

    Parameters
    ----------
    x : float
        The amount.
    currency : str
        ISO code (``IDR`` is written ``Rp`` in Indonesian) or any label.
    lang : {"en", "id"}
        Language.
    compact : bool
        Large amounts in words (:func:`format_compact`): IDR 1.39 billion, Rp 1,39 miliar.

    Examples
    --------
    >>> format_money(40000, "IDR", "id"), format_money(40000, "IDR", "en")
    ('Rp 40.000', 'IDR 40,000')
    >>> format_money(-1_390_000_000, "IDR", "id", compact=True)
    '−Rp 1,39 miliar'
    """
    lang = check_lang(lang)
    sign = CURRENCY_SIGNS.get(str(currency).upper(), {}).get(lang, str(currency))
    if x is None or not math.isfinite(float(x)):
        return f"{sign} –"
    amount = format_compact(abs(x), lang) if compact else format_number(abs(x), lang, decimals=0)
    negative = round(float(x)) < 0 if not compact else amount != format_compact(0.0, lang) and x < 0
    return f"{'−' if negative else ''}{sign} {amount}"


class _LocalFormatter(string.Formatter):
    """``str.format`` that writes numbers as readers of ``lang`` do (1.234,5 in Indonesian)."""

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def format_field(self, value: object, format_spec: str) -> str:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return super().format_field(value, format_spec)
        if not format_spec:
            whole = isinstance(value, numbers.Integral)
            return format_number(value, self.lang, decimals=0 if whole else None)
        written = format(value, format_spec)
        if self.lang == "id":
            written = written.replace(",", "_").replace(".", ",").replace("_", ".")
        return written.replace("-", "\u2212")


def _entry(section: str, key: str) -> Mapping[str, str]:
    table: object = _WORDS
    for part in section.split("."):
        table = table.get(part, {}) if isinstance(table, Mapping) else {}
    entry = table.get(key) if isinstance(table, Mapping) else None
    if not isinstance(entry, Mapping) or not all(lang in entry for lang in LANGS):
        raise SekatError(f"words.toml has no entry [{section}.{key}] in every language")
    return entry


def text(section: str, key: str, lang: str = "en", **values: object) -> str:
    """An entry of ``words.toml`` in ``lang``, its fields filled in from ``values``.

    Parameters
    ----------
    section : str
        Dotted section of the file (``"brief.prose"``, ``"phrases"``).
    key : str
        The entry.
    lang : {"en", "id"}
        Language.
    **values
        Values of the entry's fields (``{tau_days:g}`` takes ``tau_days=30``).

    Examples
    --------
    >>> text("phrases", "per_year", "id")
    'per tahun'
    """
    lang = check_lang(lang)
    try:
        return _LocalFormatter(lang).format(_entry(section, key)[lang], **values)
    except (KeyError, IndexError, ValueError) as error:
        raise SekatError(f"words.toml [{section}.{key}] needs the value {error}") from None


def template(section: str, key: str, lang: str = "en") -> str:
    """An entry of ``words.toml`` in ``lang`` with its fields left unfilled.

    Examples
    --------
    >>> template("brief.units.hops", "pattern", "id")
    '{n} pelimpahan {dir} per permohonan'
    """
    lang = check_lang(lang)
    return _entry(section, key)[lang]


def has_text(section: str, key: str) -> bool:
    """Whether ``words.toml`` has the entry ``[section.key]``.

    Examples
    --------
    >>> has_text("methods", "aipw"), has_text("methods", "astrology")
    (True, False)
    """
    try:
        _entry(section, key)
    except SekatError:
        return False
    return True


def figure_text(name: str, part: str, lang: str = "en", **values: object) -> str:
    """A part of a figure's words (``title``, ``xlabel``, ``ylabel``, ``caption``, ``alt``).

    Captions may hold ``{truth_clause}``: filled in (from ``[phrases]``) when ``truth`` is
    True, left empty otherwise, so that a real log's caption never mentions a planted value.

    Examples
    --------
    >>> figure_text("04_days_saved", "xlabel", "en", tau_days=30)
    'Change in days unresolved within the first 30 (95% interval)'
    >>> figure_text("03_hop_effects", "caption", truth=False).endswith("95% confidence intervals.")
    True
    """
    truth = bool(values.pop("truth", False))
    clause = text("phrases", "truth_clause", lang) if truth else ""
    # The main contrast unless another is given (its words: contrast_words).
    contrast = contrast_words(Contrast(), lang)
    return text(f"figures.{name}", part, lang, truth_clause=clause, **{**contrast, **values})


#: The parts of a figure's words that are drawn on it (caption and alt text go beside it).
DRAWN_PARTS = ("title", "xlabel", "ylabel")


def figure_words(name: str, lang: str = "en", **values: object) -> dict[str, str]:
    """The words drawn on a figure (its title and axis labels, :data:`DRAWN_PARTS`) in ``lang``.

    Examples
    --------
    >>> figure_words("03_hop_effects", "id")["title"]
    'Media sosial dibandingkan Bukan media sosial: pelimpahan'
    """
    parts = _WORDS.get("figures", {}).get(name)
    if not isinstance(parts, Mapping):
        raise SekatError(f"words.toml has no figure {name!r}")
    return {part: figure_text(name, part, lang, **values) for part in parts if part in DRAWN_PARTS}


def figure_texts(name: str, part: str, **values: object) -> dict[str, str]:
    """:func:`figure_text` in every language, as ``export_figure`` takes captions.

    Examples
    --------
    >>> sorted(figure_texts("03_overlap", "caption"))
    ['en', 'id']
    """
    return {lang: figure_text(name, part, lang, **values) for lang in LANGS}


def estimand_key(row: Mapping[str, object]) -> str:
    """The ``[estimands]`` key of a result row, from its descriptors.

    ``<estimand>_<outcome>`` for effects of social intake, ``rollout_<estimand>_<outcome>`` for
    the rollout of desks.

    Examples
    --------
    >>> estimand_key({"estimand": "att", "outcome": "hops", "contrast": "social vs not_social"})
    'att_hops'
    """
    key = f"{row.get(schema.ESTIMAND)}_{row.get(schema.OUTCOME)}"
    if row.get(schema.CONTRAST) == schema.DESK_CONTRAST:
        key = f"rollout_{key}"
    return key


def _join_words(items: Sequence[str], lang: str, word: str = "and") -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {template('brief.words', word, lang)} " + items[-1]


def arm_phrase(names: Sequence[str], lang: str = "en") -> str:
    """The requests of one arm of a contrast, in words: "requests through social media".

    Examples
    --------
    >>> arm_phrase(("social",)), arm_phrase(("walk_in",), "id")
    ('requests through social media', 'permohonan yang datang langsung')
    >>> arm_phrase(("twitter", "whatsapp"))
    'requests through Twitter/X or WhatsApp'
    """
    lang = check_lang(lang)
    names = tuple(names)
    if len(names) == 1 and has_text("arms", names[0]):
        return text("arms", names[0], lang)
    return text(
        "arms", "several", lang, names=_join_words([label(n, lang) for n in names], lang, "or")
    )


def contrast_words(contrast: Contrast, lang: str = "en") -> dict[str, str]:
    """The fields every contrast sentence takes: the two arms, as phrases and as labels.

    Examples
    --------
    >>> contrast_words(Contrast("social", "traditional"))["control"]
    'requests by phone, walk-in or letter'
    """
    lang = check_lang(lang)
    control = contrast.control
    return {
        "treatment": arm_phrase(contrast.treatment, lang),
        "control": arm_phrase(control, lang),
        "treatment_label": " + ".join(label(n, lang) for n in contrast.treatment),
        "control_label": " + ".join(label(n, lang) for n in control)
        if control != (REST,)
        else text("arms", "rest_label", lang),
    }


def _contrast_fields(row: Mapping[str, object], lang: str) -> dict[str, str]:
    """The words of a row's channel contrast (default: social media against the rest)."""
    contrast = row.get(schema.CONTRAST)
    if isinstance(contrast, str) and contrast != schema.DESK_CONTRAST:
        try:
            return contrast_words(Contrast.from_descriptor(contrast), lang)
        except SekatError:
            pass
    return contrast_words(Contrast(), lang)


def estimand_label(row: Mapping[str, object], lang: str = "en", **values: object) -> str:
    """What a result row estimates, in words: its subgroup if it has one, else its estimand.

    Parameters
    ----------
    row : mapping
        A row of a result table (its descriptors and ``term``).
    lang : {"en", "id"}
        Language.
    **values
        Fields of the words (``tau_days`` for the restricted mean).

    Examples
    --------
    >>> estimand_label({"estimand": "att", "outcome": "hops", "contrast": "social vs not_social",
    ...                 "group": "category", "group_value": "roads"}, "id")
    'Jalan'
    >>> estimand_label({"estimand": "att", "outcome": "rmst_days", "group": None,
    ...                 "contrast": "social vs not_social"}, tau_days=30)
    'Days unresolved in the first 30, requests through social media'
    """
    group_value = row.get(schema.GROUP_VALUE)
    if isinstance(group_value, str) and group_value:
        word = label(group_value, lang)
        return humanise(word) if word == word.lower() else word
    key = estimand_key(row)
    if has_text("estimands", key):
        fields = {"tau_days": 30.0, **_contrast_fields(row, lang), **values}
        return text("estimands", key, lang, **fields)
    return label(row.get("term", key), lang)


def method_label(method_key: object, lang: str = "en") -> str:
    """The name of an estimator (a :data:`toolkit.schema.METHOD_KEYS` entry) in words.

    Examples
    --------
    >>> method_label("ipw_km", "en")
    'Propensity-weighted'
    """
    if isinstance(method_key, str) and has_text("methods", method_key):
        return text("methods", method_key, lang)
    return label(method_key, lang)


def skip_text(reason: str, lang: str = "en", **values: object) -> str:
    """Why a part of the analysis did not run, in one plain sentence.

    Examples
    --------
    >>> skip_text("no_rollout")
    'No desk opening dates were given, so the rollout of social-media desks is not studied.'
    """
    return text("skipped", reason, lang, **{"min_requests": schema.MIN_CELL_COUNT, **values})
