"""Bilingual labels and captions for figures and tables: English (``en``) and Bahasa Indonesia (``id``).

Every word a figure draws comes from :data:`LABELS` through :func:`label`, so that a figure
reads the same in both languages and a translation is fixed in one place. Values a table
brings with it (agency names, regions, scenario names) are shown as they are; vocabulary
codes (``walk_in``, ``channel_group``) without an entry are made readable ("Walk in").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import pandas as pd

from toolkit import schema
from toolkit.errors import SekatError

#: Languages every label, caption and alt text is given in.
LANGS: tuple[str, ...] = ("en", "id")

#: key -> {"en": ..., "id": ...}.
LABELS: dict[str, dict[str, str]] = {
    # channel groups and channels
    schema.SOCIAL: {"en": "Social media", "id": "Media sosial"},
    schema.DIGITAL: {"en": "Other digital", "id": "Digital lainnya"},
    schema.TRADITIONAL: {"en": "Traditional", "id": "Tradisional"},
    schema.OTHER: {"en": "Other", "id": "Lainnya"},
    "not_social": {"en": "Not social media", "id": "Bukan media sosial"},
    "twitter": {"en": "Twitter/X", "id": "Twitter/X"},
    "facebook": {"en": "Facebook", "id": "Facebook"},
    "instagram": {"en": "Instagram", "id": "Instagram"},
    "whatsapp": {"en": "WhatsApp", "id": "WhatsApp"},
    "web": {"en": "Web form", "id": "Formulir web"},
    "app": {"en": "Mobile app", "id": "Aplikasi seluler"},
    "email": {"en": "E-mail", "id": "Surel"},
    "sms": {"en": "SMS", "id": "SMS"},
    "phone": {"en": "Phone", "id": "Telepon"},
    "walk_in": {"en": "Walk-in", "id": "Datang langsung"},
    "letter": {"en": "Letter", "id": "Surat"},
    # topics of requests (the categories of toolkit.synthetic.CATEGORIES and common others)
    "roads": {"en": "Roads", "id": "Jalan"},
    "drainage": {"en": "Drainage", "id": "Drainase"},
    "water": {"en": "Clean water", "id": "Air bersih"},
    "waste": {"en": "Waste", "id": "Sampah"},
    "civil_registry": {"en": "Civil registry", "id": "Kependudukan (adminduk)"},
    "health": {"en": "Health", "id": "Kesehatan"},
    "transport": {"en": "Transport", "id": "Perhubungan"},
    "electricity": {"en": "Electricity", "id": "Listrik"},
    "education": {"en": "Education", "id": "Pendidikan"},
    "social_welfare": {"en": "Social welfare", "id": "Kesejahteraan sosial"},
    "permits": {"en": "Permits", "id": "Perizinan"},
    "public_order": {"en": "Public order", "id": "Ketertiban umum"},
    "environment": {"en": "Environment", "id": "Lingkungan hidup"},
    "housing": {"en": "Housing", "id": "Perumahan"},
    "flooding": {"en": "Flooding", "id": "Banjir"},
    # columns and axes
    schema.CHANNEL: {"en": "Intake channel", "id": "Kanal pengaduan"},
    schema.CHANNEL_GROUP: {"en": "Intake channel group", "id": "Kelompok kanal pengaduan"},
    schema.HOPS: {"en": "Hand-offs per request", "id": "Perpindahan antarinstansi per permohonan"},
    "mean_hops": {
        "en": "Mean hand-offs between agencies per request",
        "id": "Rata-rata perpindahan antarinstansi per permohonan",
    },
    "estimate": {"en": "Estimate", "id": "Estimasi"},
    "ci": {"en": "95% confidence interval", "id": "Selang kepercayaan 95%"},
    "interval": {"en": "Interval", "id": "Selang"},
    "term": {"en": "Term", "id": "Suku"},
    "method": {"en": "Method", "id": "Metode"},
    "n": {"en": "n", "id": "n"},
    "requests": {"en": "requests", "id": "permohonan"},
    "time_days": {
        "en": "Days since the request was submitted",
        "id": "Hari sejak permohonan diajukan",
    },
    "time_hours": {
        "en": "Hours since the request was submitted",
        "id": "Jam sejak permohonan diajukan",
    },
    "share_open": {"en": "Share of requests still open", "id": "Proporsi permohonan belum selesai"},
    "event_time": {
        "en": "Months relative to the social-media desk opening",
        "id": "Bulan relatif terhadap pembukaan layanan media sosial",
    },
    "effect": {"en": "Effect on the outcome", "id": "Efek terhadap hasil"},
    "before": {"en": "Before", "id": "Sebelum"},
    "after": {"en": "After", "id": "Sesudah"},
    "desk_opens": {"en": "desk opens", "id": "layanan dibuka"},
    "rows": {"en": "Rows of the event log", "id": "Baris log kejadian"},
    "reason": {"en": "Reason", "id": "Alasan"},
    "kept": {"en": "Kept", "id": "Dipertahankan"},
    "quarantined": {"en": "Quarantined", "id": "Dikarantina"},
    "handoffs": {"en": "hand-offs", "id": "perpindahan"},
    "edge_width": {
        "en": "Line width: number of hand-offs",
        "id": "Tebal garis: jumlah perpindahan",
    },
    "scenario": {"en": "Scenario", "id": "Skenario"},
    schema.CATEGORY: {"en": "Topic", "id": "Topik"},
    schema.REGION: {"en": "Region", "id": "Wilayah"},
    schema.AGENCY: {"en": "Agency", "id": "Instansi"},
    # quarantine reasons (codes of toolkit.validation.REASONS)
    "missing_case_id": {"en": "Missing request id", "id": "ID permohonan kosong"},
    "missing_timestamp": {"en": "Missing timestamp", "id": "Waktu kosong"},
    "unparseable_timestamp": {"en": "Unreadable timestamp", "id": "Waktu tidak terbaca"},
    "timestamp_out_of_range": {
        "en": "Timestamp out of range",
        "id": "Waktu di luar rentang",
    },
    "nonexistent_local_time": {
        "en": "Nonexistent local time",
        "id": "Waktu lokal tidak ada",
    },
    "missing_agency": {"en": "Missing agency", "id": "Instansi kosong"},
    "unknown_channel": {"en": "Unknown channel", "id": "Kanal tidak dikenal"},
    "missing_channel": {"en": "Missing channel", "id": "Kanal kosong"},
    "duplicate_event": {"en": "Duplicate event", "id": "Kejadian ganda"},
    "closed_before_opened": {"en": "Closed before it was opened", "id": "Ditutup sebelum dibuka"},
    "channel_changes_within_case": {
        "en": "Channel changes within a request",
        "id": "Kanal berubah dalam satu permohonan",
    },
    "none_quarantined": {
        "en": "No row was quarantined.",
        "id": "Tidak ada baris yang dikarantina.",
    },
    "all_reasons_small": {
        "en": "Every reason holds too few rows to show.",
        "id": "Setiap alasan memuat terlalu sedikit baris untuk ditampilkan.",
    },
    "quarantined_by_reason": {
        "en": "Quarantined rows by reason",
        "id": "Baris yang dikarantina menurut alasan",
    },
    # estimation methods
    "naive": {"en": "Naive comparison", "id": "Perbandingan naif"},
    "twfe": {"en": "Naive two-way fixed effects", "id": "Efek tetap dua arah (naif)"},
    "event_study": {"en": "Robust event study", "id": "Studi peristiwa (robust)"},
    "adjusted": {"en": "Adjusted regression", "id": "Regresi terkoreksi"},
    "aipw": {"en": "Doubly robust (AIPW)", "id": "Robust ganda (AIPW)"},
    # measures of impact
    "hops_saved": {"en": "Hand-offs saved", "id": "Perpindahan yang dihemat"},
    "hours_saved": {"en": "Citizen hours saved", "id": "Jam warga yang dihemat"},
    "days_saved": {"en": "Days saved", "id": "Hari yang dihemat"},
    "cost_saved": {"en": "Cost saved", "id": "Biaya yang dihemat"},
    # rows of toolkit.impact.scenario_impact
    "requests_moved": {
        "en": "Requests moved to social media",
        "id": "Permohonan yang pindah ke media sosial",
    },
    "handoffs_saved": {"en": "Hand-offs saved", "id": "Perpindahan yang dihemat"},
    "staff_hours_saved": {"en": "Staff hours saved", "id": "Jam kerja pegawai yang dihemat"},
    "staff_cost_saved": {"en": "Staff cost saved", "id": "Biaya pegawai yang dihemat"},
    "citizen_days_saved": {"en": "Citizen days saved", "id": "Hari warga yang dihemat"},
    "citizen_time_value": {"en": "Value of citizens' time", "id": "Nilai waktu warga"},
    "total_value": {"en": "Total value", "id": "Nilai total"},
    # figure titles
    "title_forest": {"en": "Estimated effects", "id": "Efek yang diestimasi"},
    "title_km": {
        "en": "How fast requests are resolved",
        "id": "Seberapa cepat permohonan diselesaikan",
    },
    "title_hops": {
        "en": "Hand-offs between agencies by intake channel",
        "id": "Perpindahan antarinstansi menurut kanal pengaduan",
    },
    "title_event_study": {
        "en": "Effect of opening a social-media desk",
        "id": "Efek pembukaan layanan media sosial",
    },
    "title_network": {
        "en": "Hand-offs between agencies",
        "id": "Perpindahan permohonan antarinstansi",
    },
    "title_impact": {"en": "What the scenarios are worth", "id": "Nilai dari setiap skenario"},
    "title_validation": {
        "en": "Rows kept and quarantined during validation",
        "id": "Baris yang dipertahankan dan dikarantina saat validasi",
    },
    "title_overlap": {
        "en": "Overlap: who could have come in through either channel?",
        "id": "Tumpang tindih: siapa yang bisa datang lewat kedua kanal?",
    },
    # words of the overlap figure
    "propensity": {
        "en": "Estimated probability of social-media intake, given topic, place and month",
        "id": "Peluang terestimasi pengaduan lewat media sosial, menurut topik, wilayah dan bulan",
    },
    "requests_per_bin": {
        "en": "Share of the group's requests",
        "id": "Proporsi permohonan kelompok",
    },
    # captions
    "suppressed_note": {
        "en": "Not shown (fewer than {threshold} requests): {items}.",
        "id": "Tidak ditampilkan (kurang dari {threshold} permohonan): {items}.",
    },
    "suppressed_more": {
        "en": "{items}; ... and {more} more",
        "id": "{items}; ... dan {more} lainnya",
    },
    "suppressed_none": {
        "en": "No group was suppressed.",
        "id": "Tidak ada kelompok yang disembunyikan.",
    },
}


#: How many suppressed groups :func:`suppression_note` names before it counts the rest.
MAX_NOTE_ITEMS: int = 5

_TERM = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\[(?P<level>[^\[\]=]+)\]$")


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one of :data:`LANGS`, else raise a SekatError.

    Examples
    --------
    >>> check_lang("id")
    'id'
    """
    if lang not in LANGS:
        raise SekatError(f"language must be one of {list(LANGS)}, got {lang!r}")
    return lang


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
    >>> label("median_days[walk_in]", "id")
    'Median days: Datang langsung'
    """
    check_lang(lang)
    entry = LABELS.get(key) if isinstance(key, str) else None
    if entry is not None:
        return entry[lang]
    if default is not None:
        return default
    text = str(key)
    # Estimator terms such as "median_days[social]": label both parts.
    term = _TERM.match(text)
    if term:
        return f"{label(term['name'], lang)}: {label(term['level'], lang)}"
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
        The ``record`` of a :class:`toolkit.disclosure.Suppression`: the group columns of each
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
    check_lang(lang)
    threshold = schema.MIN_CELL_COUNT if threshold is None else threshold
    if record is None or len(record) == 0:
        return LABELS["suppressed_none"][lang]
    keys = [c for c in record.columns if c != "suppression"]
    if max_items is not None and max_items < 1:
        raise SekatError(f"max_items must be at least 1 or None, got {max_items!r}")
    rows = list(record[keys].itertuples(index=False))
    named = rows if max_items is None or len(rows) <= max_items else rows[:max_items]
    items = "; ".join(" → ".join(label(v, lang) for v in row) for row in named)
    if len(named) < len(rows):
        more = format_number(len(rows) - len(named), lang, decimals=0)
        items = LABELS["suppressed_more"][lang].format(items=items, more=more)
    return LABELS["suppressed_note"][lang].format(threshold=threshold, items=items)


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
    check_lang(lang)
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
    check_lang(lang)
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


def labels_for(values: Iterable[object], lang: str = "en") -> list[str]:
    """Labels of several values at once (see :func:`label`).

    Examples
    --------
    >>> labels_for(["social", "traditional"], "id")
    ['Media sosial', 'Tradisional']
    """
    return [label(v, lang) for v in values]
