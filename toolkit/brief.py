"""The policy brief: findings in plain words from tidy result tables, and its export to HTML.

Each ``finding_*`` function turns one tidy result (the rows of :mod:`toolkit.effects`,
:mod:`toolkit.survival`, :mod:`toolkit.impact`, :mod:`toolkit.rollout`) into one paragraph a
policymaker can read, in English or Bahasa Indonesia, always with its uncertainty: a change
whose 95% interval includes zero is reported as one the data cannot distinguish from none.
:func:`limitations` says what the data cannot say. :func:`policy_brief` assembles the
Markdown of notebook 07, and :func:`export_html` writes the executed notebook as one
self-contained HTML page without code (``figures/policy_brief.html``).

No PDF is written: nbconvert's PDF exporter needs a LaTeX installation and its WebPDF
exporter a headless Chromium (playwright), and neither is a dependency of the project.

Run ``python -m toolkit.brief build/notebooks/07_policy_brief.ipynb --out
figures/policy_brief.html`` to export an executed brief by hand; ``toolkit.reproduce`` does it
after running notebook 07.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from toolkit.errors import SekatError
from toolkit.labels import LANGS, check_lang, format_compact, format_number, humanise, label

#: Where the brief goes, relative to the figures folder.
BRIEF_HTML = "policy_brief.html"
#: Cells with this tag are left out of the HTML page entirely.
REMOVE_TAG = "remove_cell"

_WORDS: dict[str, dict[str, str]] = {
    "interval": {"en": "95% interval", "id": "selang 95%"},
    "to": {"en": "to", "id": "sampai"},
    "and": {"en": "and", "id": "dan"},
    "no_change": {
        "en": "so the data cannot rule out no change",
        "id": "sehingga data tidak dapat menyingkirkan kemungkinan tidak ada perubahan",
    },
    "but_from": {
        "en": "but the {interval} runs from {low} {less} to {high} {more}, {no_change}",
        "id": "tetapi {interval} berkisar dari {low} {less} sampai {high} {more}, {no_change}",
    },
    "fewer": {"en": "fewer", "id": "lebih sedikit"},
    "more": {"en": "more", "id": "lebih banyak"},
    "pattern": {"en": "{n} {dir} {unit}", "id": "{n} {unit} {dir}"},
    "hops_unit": {"en": "hand-offs per request", "id": "perpindahan per permohonan"},
    "days_unit": {"en": "days unresolved", "id": "hari"},
}

_TEXT: dict[str, dict[str, str]] = {
    "hops": {
        "en": "**Hand-offs.** Compared with similar requests (same topic, district and month of "
        "intake) that arrived through other channels, requests that arrived through social "
        "media made {change}. The raw difference, {naive} {naive_dir}, overstates the effect: "
        "people bring different requests to different channels.",
        "id": "**Perpindahan.** Dibanding permohonan serupa (topik, kecamatan dan bulan pengaduan "
        "yang sama) yang masuk lewat kanal lain, permohonan yang masuk lewat media sosial "
        "mengalami {change}. Selisih mentahnya, {naive} {naive_dir}, melebih-lebihkan efeknya: "
        "warga membawa permohonan yang berbeda ke kanal yang berbeda.",
    },
    "days": {
        "en": "**Time to resolution.** Out of their first {tau} days, and compared with similar "
        "requests through other channels, social-media requests spent {change}. The raw "
        "curves suggest {naive}, again an overstatement.",
        "id": "**Lama penyelesaian.** Dalam {tau} hari pertama, dan dibanding permohonan serupa "
        "lewat kanal lain, permohonan lewat media sosial belum selesai selama {change}. Kurva "
        "mentah menunjukkan {naive}, lagi-lagi berlebihan.",
    },
    "worth": {
        "en": "**What it is worth.** If {share} of the requests that now arrive on foot or by "
        "letter came through social media instead (about {moved} requests a year), about "
        "{handoffs} hand-offs ({handoffs_ci}) and {staff_hours} staff hours a year would be "
        "saved, and citizens would wait about {days} fewer days in total ({days_ci}). At the "
        "stated unit costs that is worth about {currency} {total} a year ({total_ci}), "
        "{citizen_share} of it in citizens' time. This assumes that the requests that move "
        "gain what today's social-media requests gain.",
        "id": "**Nilainya.** Jika {share} permohonan yang kini datang langsung atau lewat surat "
        "masuk lewat media sosial (sekitar {moved} permohonan setahun), sekitar {handoffs} "
        "perpindahan ({handoffs_ci}) dan {staff_hours} jam kerja pegawai setahun akan "
        "dihemat, dan warga akan menunggu sekitar {days} hari lebih singkat secara total "
        "({days_ci}). Dengan biaya satuan yang dinyatakan, nilainya sekitar {currency} "
        "{total} setahun ({total_ci}), {citizen_share} di antaranya berupa waktu warga. Ini "
        "mengandaikan permohonan yang pindah memperoleh manfaat yang sama dengan permohonan "
        "media sosial saat ini.",
    },
    "uneven": {
        "en": "**Where reform is uneven ({what}).** {clear}{unclear}Intervals are adjusted for "
        "comparing {m} groups at once.",
        "id": "**Di mana reformasi tidak merata ({what}).** {clear}{unclear}Selang dikoreksi "
        "untuk membandingkan {m} kelompok sekaligus.",
    },
    "uneven_clear": {
        "en": "The saving in hand-offs is clear for {groups}. ",
        "id": "Penghematan perpindahan jelas untuk {groups}. ",
    },
    "uneven_none_clear": {
        "en": "No group shows a change the data can distinguish from zero. ",
        "id": "Tidak ada kelompok yang menunjukkan perubahan yang dapat dibedakan dari nol. ",
    },
    "uneven_unclear": {
        "en": "For {groups} the data cannot distinguish it from zero. ",
        "id": "Untuk {groups} data tidak dapat membedakannya dari nol. ",
    },
    "rollout": {
        "en": "**Opening a social-media desk.** Compared with districts that had not opened one "
        "yet, requests in districts that opened a desk made, after the opening, {change} "
        "(robust event study, {units} districts). The naive two-way fixed-effects regression "
        "gives {naive}: the textbook method misleads when desks open at different dates.",
        "id": "**Pembukaan layanan media sosial.** Dibanding kecamatan yang belum membuka "
        "layanan, permohonan di kecamatan yang membukanya, setelah pembukaan, mengalami "
        "{change} (studi peristiwa robust, {units} kecamatan). Regresi efek tetap dua arah "
        "yang naif memberi {naive}: metode buku teks menyesatkan bila layanan dibuka pada "
        "tanggal berbeda.",
    },
}

_LIMITS: dict[str, dict[str, str]] = {
    "self_selection": {
        "en": "**Self-selection.** Citizens choose their channel. The comparisons hold topic, "
        "district and month equal, but if people who use social media differ in ways the log "
        "does not record (simpler problems, more persistence, better connections), part of "
        "what is attributed to the channel is due to them.",
        "id": "**Seleksi diri.** Warga memilih kanalnya sendiri. Perbandingan menyamakan topik, "
        "kecamatan dan bulan, tetapi jika pengguna media sosial berbeda dalam hal yang tidak "
        "tercatat di log (masalah lebih sederhana, lebih gigih, koneksi lebih baik), sebagian "
        "dari yang dianggap efek kanal sebenarnya berasal dari mereka.",
    },
    "confounding": {
        "en": "**Unmeasured confounding.** Anything that drives both the channel and the "
        "outcome and is not in the log (an agency's workload, staffing, the urgency of a "
        "problem) can bias the adjusted estimates in either direction. They are only as good "
        "as the assumption that topic, district and month capture why people choose their "
        "channel.",
        "id": "**Perancu yang tidak terukur.** Apa pun yang memengaruhi pilihan kanal sekaligus "
        "hasilnya dan tidak ada di log (beban kerja instansi, jumlah pegawai, tingkat "
        "kedaruratan masalah) dapat membiaskan estimasi terkoreksi ke arah mana pun. Estimasi "
        "hanya sebaik asumsi bahwa topik, kecamatan dan bulan menjelaskan mengapa warga "
        "memilih kanalnya.",
    },
    "overlap": {
        "en": "**Who the findings are about.** Many requests (from districts and months without "
        "a social-media desk) have no social-media counterpart. The estimates describe "
        "requests like today's social-media requests, not every request.",
        "id": "**Tentang siapa temuan ini.** Banyak permohonan (dari kecamatan dan bulan tanpa "
        "layanan media sosial) tidak memiliki padanan media sosial. Estimasi menggambarkan "
        "permohonan seperti permohonan media sosial saat ini, bukan setiap permohonan.",
    },
    "no_hops": {
        "en": "**Logs that record no hand-offs.** This log records only the agency that "
        "finally held each request: it shows no hand-offs, so it can say nothing about them.",
        "id": "**Log yang tidak mencatat perpindahan.** Log ini hanya mencatat instansi terakhir "
        "yang memegang setiap permohonan: tidak ada perpindahan yang terlihat, sehingga log "
        "ini tidak dapat mengatakan apa pun tentangnya.",
    },
    "hops_recorded": {
        "en": "**Hand-offs the log does not record.** A log that records only the final agency "
        "of each request shows no hand-offs at all, and forwarding outside the system (a phone "
        "call, a note passed by hand) is never counted; both make hand-offs look rarer than "
        "they are.",
        "id": "**Perpindahan yang tidak tercatat.** Log yang hanya mencatat instansi terakhir "
        "setiap permohonan sama sekali tidak menunjukkan perpindahan, dan penerusan di luar "
        "sistem (telepon, catatan yang diteruskan tangan) tidak pernah terhitung; keduanya "
        "membuat perpindahan tampak lebih jarang daripada kenyataannya.",
    },
    "synthetic": {
        "en": "**Synthetic data.** These numbers come from the synthetic sample shipped with "
        "sekat, generated with known effects: they show what the method finds, not what any "
        "real city government does.",
        "id": "**Data sintetis.** Angka-angka ini berasal dari sampel sintetis yang disertakan "
        "dalam sekat, dibangkitkan dengan efek yang diketahui: angka ini menunjukkan apa yang "
        "ditemukan metode, bukan apa yang terjadi di pemerintah kota mana pun.",
    },
}

_HEADINGS: dict[str, dict[str, str]] = {
    "findings": {"en": "What we found", "id": "Temuan"},
    "limits": {"en": "What the data cannot say", "id": "Apa yang tidak dapat dikatakan data"},
}


_PROSE: dict[str, dict[str, str]] = {
    "title": {
        "en": "Does social-media intake cut through the partitions of bureaucracy?",
        "id": "Apakah pengaduan lewat media sosial menembus sekat-sekat birokrasi?",
    },
    "introduction": {
        "en": "*A policy brief from sekat: hand-offs, days and money saved when citizens' "
        "requests arrive through social media, with what the data cannot say.*\n\n"
        "A citizen's request to the city often travels from one office to another before "
        "anyone resolves it: each hand-off costs staff time and keeps the citizen waiting. "
        "Some districts have opened social-media desks (Twitter/X, Facebook, Instagram, "
        "WhatsApp). This brief asks whether requests that arrive there are passed around less "
        "and resolved sooner, and what moving more requests to those channels would be worth. "
        "Every number comes with its 95% interval: the range the data support.",
        "id": "*Ringkasan kebijakan dari sekat: perpindahan antarinstansi, hari dan biaya yang "
        "dihemat bila permohonan warga masuk lewat media sosial, beserta apa yang tidak dapat "
        "dikatakan data.*\n\n"
        "Permohonan warga kepada pemerintah kota sering berpindah dari satu kantor ke kantor "
        "lain sebelum diselesaikan: setiap perpindahan memakan waktu pegawai dan membuat warga "
        "menunggu. Beberapa kecamatan telah membuka layanan media sosial (Twitter/X, Facebook, "
        "Instagram, WhatsApp). Ringkasan ini menanyakan apakah permohonan yang masuk lewat "
        "layanan itu lebih jarang dipindahkan dan lebih cepat selesai, dan berapa nilainya "
        "bila lebih banyak permohonan pindah ke kanal tersebut. Setiap angka disertai selang "
        "95%: rentang yang didukung data.",
    },
    "evidence": {
        "en": "## The evidence in pictures\n\n**Hand-offs and days.** Dots are the estimates, "
        "lines their 95% intervals. The raw comparison makes social media look far better "
        "than the comparison of like with like.",
        "id": "## Bukti dalam gambar\n\n**Perpindahan dan hari.** Titik adalah estimasi, garis "
        "adalah selang 95%. Perbandingan mentah membuat media sosial tampak jauh lebih baik "
        "daripada perbandingan yang setara.",
    },
    "where": {
        "en": "**Where it works.** The saving in hand-offs by topic, with intervals widened "
        "for comparing many topics at once.",
        "id": "**Di mana berhasil.** Penghematan perpindahan menurut topik, dengan selang yang "
        "diperlebar karena banyak topik dibandingkan sekaligus.",
    },
    "worth": {
        "en": "**What it is worth.** The scenario in a year, under the stated unit costs.",
        "id": "**Nilainya.** Skenario dalam setahun, dengan biaya satuan yang dinyatakan.",
    },
    "method": {
        "en": "## How this was done\n\nThe log of requests was checked row by row, request "
        "ids were pseudonymised, and each request's path through agencies was rebuilt. "
        "Effects compare requests of the same topic, district and month (doubly robust AIPW "
        "for hand-offs; propensity-weighted Kaplan-Meier for days, treating requests still "
        "open as censored); the rollout uses a staggered-adoption event study (Callaway and "
        "Sant'Anna, 2021). No figure shows a group of fewer than {min_cell} requests. The "
        "notebooks 01-06 show each step; every figure, with its caption, is in the figures "
        "folder.",
        "id": "## Cara analisis\n\nLog permohonan diperiksa baris demi baris, ID permohonan "
        "disamarkan, dan jalur setiap permohonan antarinstansi disusun ulang. Efek "
        "membandingkan permohonan dengan topik, kecamatan dan bulan yang sama (AIPW robust "
        "ganda untuk perpindahan; Kaplan-Meier terbobot propensitas untuk hari, dengan "
        "permohonan yang masih terbuka sebagai data tersensor); pembukaan layanan bertahap "
        "dianalisis dengan studi peristiwa adopsi bertahap (Callaway dan Sant'Anna, 2021). "
        "Tidak ada gambar yang menampilkan kelompok kurang dari {min_cell} permohonan. "
        "Notebook 01-06 menunjukkan setiap langkah; setiap gambar beserta keterangannya ada "
        "di folder figures.",
    },
}


def prose(key: str, lang: str = "en", **values: object) -> str:
    """A fixed passage of the brief (title, introduction, section texts) in ``lang``.

    Parameters
    ----------
    key : {"title", "introduction", "evidence", "where", "worth", "method"}
        The passage.
    lang : {"en", "id"}
        Language.
    **values
        Values of the passage's fields (``min_cell`` for "method").

    Returns
    -------
    str
        Markdown; the title comes as a level-one heading.

    Examples
    --------
    >>> prose("title", "id")
    '# Apakah pengaduan lewat media sosial menembus sekat-sekat birokrasi?'
    >>> "fewer than 10 requests" in prose("method", min_cell=10)
    True
    """
    check_lang(lang)
    if key not in _PROSE:
        raise SekatError(f"unknown passage {key!r}; choose from {sorted(_PROSE)}")
    text = _PROSE[key][lang].format(**values)
    return f"# {text}" if key == "title" else text


def _num(x: float, lang: str, decimals: int = 2) -> str:
    x = round(float(x), decimals)
    return format_number(0.0 if x == 0 else x, lang, decimals=decimals)


def _row(table: pd.DataFrame, term: str, method: str | None = None) -> pd.Series:
    rows = table.loc[table["term"].astype("str") == term]
    if method is not None:
        rows = rows.loc[rows["method"].astype("str").str.contains(method, case=False)]
    if rows.empty:
        raise SekatError(
            f"the result table has no row {term!r}" + (f" ({method})" if method else "")
        )
    return rows.iloc[0]


def describe_change(
    estimate: float,
    ci_low: float,
    ci_high: float,
    lang: str = "en",
    *,
    unit: str = "",
    less: str = "fewer",
    more: str = "more",
    decimals: int = 2,
) -> str:
    """A signed effect in words, with its 95% interval, saying so when it may be zero.

    Parameters
    ----------
    estimate, ci_low, ci_high : float
        The effect and its interval (negative = fewer / sooner).
    lang : {"en", "id"}
        Language.
    unit : str
        What changes, in ``lang`` ("hand-offs per request"); placed as the language
        orders it (English: "0.17 fewer hand-offs", Indonesian: "0,17 perpindahan lebih
        sedikit").
    less, more : str
        Keys of the words for a negative and a positive change ("fewer"/"more").
    decimals : int
        Decimals of the numbers.

    Returns
    -------
    str

    Examples
    --------
    >>> describe_change(-0.17, -0.23, -0.11, unit="hand-offs")
    '0.17 fewer hand-offs (95% interval 0.11 to 0.23 fewer)'
    >>> describe_change(-0.1, -0.26, 0.05)
    '0.10 fewer, but the 95% interval runs from 0.26 fewer to 0.05 more, so the data cannot rule out no change'
    >>> describe_change(0.2, 0.1, 0.3, "id", unit="hari")
    '0,20 hari lebih banyak (selang 95% 0,10 sampai 0,30 lebih banyak)'

    Notes
    -----
    The interval decides the wording: entirely below zero, entirely above zero, or
    across zero (then both ends are named and the sentence says that no change is possible).
    """
    check_lang(lang)
    w = {k: v[lang] for k, v in _WORDS.items()}
    less_w, more_w = w[less], w[more]
    if not np.isfinite([estimate, ci_low, ci_high]).all():
        raise SekatError("an effect to describe needs an estimate and a finite interval")

    def phrase(value: float, direction: str) -> str:
        words = w["pattern"].format(n=_num(value, lang, decimals), dir=direction, unit=unit)
        return " ".join(words.split())

    if ci_high < 0:
        return (
            f"{phrase(-estimate, less_w)} ({w['interval']} {_num(-ci_high, lang, decimals)} "
            f"{w['to']} {_num(-ci_low, lang, decimals)} {less_w})"
        )
    if ci_low > 0:
        return (
            f"{phrase(estimate, more_w)} ({w['interval']} {_num(ci_low, lang, decimals)} "
            f"{w['to']} {_num(ci_high, lang, decimals)} {more_w})"
        )
    head = phrase(abs(estimate), less_w if estimate < 0 else more_w)
    tail = w["but_from"].format(
        interval=w["interval"],
        low=_num(-ci_low, lang, decimals),
        less=less_w,
        high=_num(ci_high, lang, decimals),
        more=more_w,
        no_change=w["no_change"],
    )
    return f"{head}, {tail}"


def finding_hops(hops: pd.DataFrame, lang: str = "en") -> str:
    """The hand-off finding: the adjusted effect on social-media requests beside the raw one.

    Parameters
    ----------
    hops : pandas.DataFrame
        Tidy result with rows ``att_hops`` (AIPW) and ``ate_hops`` (naive difference), as
        :func:`toolkit.notebook.hop_effects` names them.
    lang : {"en", "id"}
        Language.

    Returns
    -------
    str
        One Markdown paragraph.

    Examples
    --------
    >>> hops = pd.DataFrame({"term": ["ate_hops", "att_hops"], "estimate": [-1.07, -0.17],
    ...     "ci_low": [-1.13, -0.23], "ci_high": [-1.02, -0.11],
    ...     "method": ["naive difference", "AIPW (poisson outcome)"]})
    >>> print(finding_hops(hops).split(". ")[0])
    **Hand-offs.** Compared with similar requests (same topic, district and month of intake) that arrived through other channels, requests that arrived through social media made 0.17 fewer hand-offs per request (95% interval 0.11 to 0.23 fewer)
    """
    check_lang(lang)
    att = _row(hops, "att_hops", "aipw")
    naive = _row(hops, "ate_hops", "naive")
    return _TEXT["hops"][lang].format(
        change=describe_change(
            att["estimate"], att["ci_low"], att["ci_high"], lang, unit=_WORDS["hops_unit"][lang]
        ),
        naive=_num(abs(naive["estimate"]), lang),
        naive_dir=_WORDS["fewer" if naive["estimate"] < 0 else "more"][lang],
    )


def finding_days(days: pd.DataFrame, lang: str = "en", tau_days: float = 30.0) -> str:
    """The time finding: days unresolved within the first ``tau_days``, adjusted and raw.

    Parameters
    ----------
    days : pandas.DataFrame
        Rows ``att_rmst_diff_days`` (weighted) and ``rmst_diff_days`` (naive), as
        :func:`toolkit.notebook.days_effects` names them.
    lang : {"en", "id"}
        Language.
    tau_days : float
        The horizon the differences were computed at.

    Returns
    -------
    str

    Examples
    --------
    >>> days = pd.DataFrame({"term": ["rmst_diff_days", "att_rmst_diff_days"],
    ...     "estimate": [-4.7, -0.85], "ci_low": [-4.9, -1.2], "ci_high": [-4.4, -0.5],
    ...     "method": ["naive", "IPW"]})
    >>> "0.85 fewer days unresolved" in finding_days(days)
    True
    """
    check_lang(lang)
    att = _row(days, "att_rmst_diff_days")
    naive = _row(days, "rmst_diff_days")
    return _TEXT["days"][lang].format(
        tau=format_number(tau_days, lang, decimals=0),
        change=describe_change(
            att["estimate"], att["ci_low"], att["ci_high"], lang, unit=_WORDS["days_unit"][lang]
        ),
        naive=" ".join(
            _WORDS["pattern"][lang]
            .format(
                n=_num(abs(naive["estimate"]), lang, 1),
                dir=_WORDS["fewer" if naive["estimate"] < 0 else "more"][lang],
                unit=_WORDS["days_unit"][lang],
            )
            .split()
        ),
    )


def finding_worth(
    impact: pd.DataFrame, lang: str = "en", *, share: float, currency: str = "IDR"
) -> str:
    """What a scenario is worth, in words, each quantity with its interval.

    Parameters
    ----------
    impact : pandas.DataFrame
        The result of :func:`toolkit.impact.scenario_impact` (per year).
    lang : {"en", "id"}
        Language.
    share : float
        The scenario's share of walk-in and letter intake moved.
    currency : str
        Label of the money rows.

    Returns
    -------
    str

    Examples
    --------
    >>> rows = ["requests_moved", "handoffs_saved", "staff_hours_saved",
    ...         "citizen_days_saved", "citizen_time_value", "total_value"]
    >>> impact = pd.DataFrame({"term": rows,
    ...     "estimate": [1000, 190, 64, 940, 1.4e8, 1.45e8],
    ...     "ci_low": [1000, 120, 40, 550, 0.8e8, 0.85e8],
    ...     "ci_high": [1000, 265, 88, 1330, 2.0e8, 2.0e8]})
    >>> "IDR 145 million a year" in finding_worth(impact, share=0.3)
    True
    """
    check_lang(lang)
    get = impact.set_index(impact["term"].astype("str"))

    def whole(term: str) -> str:
        return format_number(round(float(get.loc[term, "estimate"])), lang, decimals=0)

    def interval(term: str, money: bool = False) -> str:
        low, high = float(get.loc[term, "ci_low"]), float(get.loc[term, "ci_high"])
        fmt = (
            (lambda x: format_compact(x, lang))
            if money
            else (lambda x: format_number(round(x), lang, decimals=0))
        )
        return f"{_WORDS['interval'][lang]} {fmt(low)} {_WORDS['to'][lang]} {fmt(high)}"

    total = float(get.loc["total_value", "estimate"])
    citizen = float(get.loc["citizen_time_value", "estimate"])
    citizen_share = citizen / total if total else float("nan")
    return _TEXT["worth"][lang].format(
        share=f"{format_number(share * 100, lang, decimals=0)}%",
        moved=whole("requests_moved"),
        handoffs=whole("handoffs_saved"),
        handoffs_ci=interval("handoffs_saved"),
        staff_hours=whole("staff_hours_saved"),
        days=whole("citizen_days_saved"),
        days_ci=interval("citizen_days_saved"),
        currency=currency,
        total=format_compact(total, lang),
        total_ci=interval("total_value", money=True),
        citizen_share=f"{format_number(citizen_share * 100, lang, decimals=0)}%",
    )


def _join(items: Sequence[str], lang: str) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {_WORDS['and'][lang]} " + items[-1]


def finding_uneven(by_group: pd.DataFrame, lang: str = "en", *, what: str = "topic") -> str:
    """Where the effect on hand-offs is clear and where it is not, by subgroup.

    Parameters
    ----------
    by_group : pandas.DataFrame
        :func:`toolkit.effects.effects_by_group` (terms ``<estimand>[<by>=<level>]``,
        multiplicity-adjusted intervals).
    lang : {"en", "id"}
        Language.
    what : str
        What the groups are, in words of ``lang`` ("topic", "district", "topik", ...).

    Returns
    -------
    str

    Examples
    --------
    >>> groups = pd.DataFrame({"term": ["att_hops[category=roads]",
    ...     "att_hops[category=health]"], "estimate": [-0.22, 0.14],
    ...     "ci_low": [-0.42, -0.21], "ci_high": [-0.02, 0.49]})
    >>> print(finding_uneven(groups))
    **Where reform is uneven (topic).** The saving in hand-offs is clear for Roads (0.22 fewer). For Health the data cannot distinguish it from zero. Intervals are adjusted for comparing 2 groups at once.
    """
    check_lang(lang)
    levels = by_group["term"].astype("str").str.extract(r"\[[^=\]]*=(?P<level>[^\]]*)\]")["level"]
    names = []
    for level in levels.fillna(""):
        word = label(level, lang)
        names.append(humanise(word) if word == word.lower() else word)
    clear, unclear = [], []
    for name, row in zip(names, by_group.to_dict("records"), strict=True):
        if row["ci_high"] < 0:
            clear.append(f"{name} ({_num(-row['estimate'], lang)} {_WORDS['fewer'][lang]})")
        elif row["ci_low"] > 0:
            clear.append(f"{name} ({_num(row['estimate'], lang)} {_WORDS['more'][lang]})")
        else:
            unclear.append(name)
    clear_text = (
        _TEXT["uneven_clear"][lang].format(groups=_join(clear, lang))
        if clear
        else _TEXT["uneven_none_clear"][lang]
    )
    unclear_text = (
        _TEXT["uneven_unclear"][lang].format(groups=_join(unclear, lang))
        if unclear and clear
        else ""
    )
    return _TEXT["uneven"][lang].format(
        what=what, clear=clear_text, unclear=unclear_text, m=len(by_group)
    )


def finding_rollout(summary: pd.DataFrame, lang: str = "en", outcome: str = "hops") -> str:
    """What opening a desk did to hand-offs: robust event study, naive TWFE beside it.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`toolkit.notebook.rollout_summary` (rows ``att_rollout_<outcome>``, robust
        first, then naive two-way fixed effects).
    lang : {"en", "id"}
        Language.
    outcome : str
        The outcome (``hops``).

    Returns
    -------
    str

    Examples
    --------
    >>> summary = pd.DataFrame({"term": ["att_rollout_hops"] * 2, "estimate": [-0.1, 0.0],
    ...     "ci_low": [-0.26, -0.13], "ci_high": [0.05, 0.13], "n": [12, 288],
    ...     "method": ["Callaway-Sant'Anna", "naive two-way fixed effects"]})
    >>> "cannot rule out no change" in finding_rollout(summary)
    True
    """
    check_lang(lang)
    robust = _row(summary, f"att_rollout_{outcome}", "callaway")
    naive = _row(summary, f"att_rollout_{outcome}", "two-way")
    return _TEXT["rollout"][lang].format(
        change=describe_change(
            robust["estimate"],
            robust["ci_low"],
            robust["ci_high"],
            lang,
            unit=_WORDS["hops_unit"][lang],
        ),
        units=int(robust["n"]),
        naive=_num(naive["estimate"], lang),
    )


def limitations(
    report: Mapping[str, object], lang: str = "en", *, synthetic: bool = False
) -> list[str]:
    """What the data cannot say, as Markdown paragraphs.

    Parameters
    ----------
    report : mapping
        The validation report of the prepared folder (``hops_observed`` is read).
    lang : {"en", "id"}
        Language.
    synthetic : bool
        Whether the data are the synthetic sample (adds a warning not to read them as a city's).

    Returns
    -------
    list of str
        Self-selection, unmeasured confounding, who the findings are about, hand-offs the log
        does not record (or, for a log without hops, that it can say nothing about them) and,
        for synthetic data, that warning.

    Examples
    --------
    >>> [p.split("**")[1] for p in limitations({"hops_observed": False})]
    ['Self-selection.', 'Unmeasured confounding.', 'Who the findings are about.', 'Logs that record no hand-offs.']
    """
    check_lang(lang)
    keys = ["self_selection", "confounding", "overlap"]
    keys.append("hops_recorded" if report.get("hops_observed", True) else "no_hops")
    if synthetic:
        keys.append("synthetic")
    return [_LIMITS[k][lang] for k in keys]


def policy_brief(
    *,
    hops: pd.DataFrame,
    days: pd.DataFrame,
    impact: pd.DataFrame,
    by_category: pd.DataFrame,
    report: Mapping[str, object],
    share: float,
    currency: str = "IDR",
    tau_days: float = 30.0,
    rollout: pd.DataFrame | None = None,
    synthetic: bool = False,
    lang: str = "en",
) -> str:
    """The findings and the limits of the policy brief, as Markdown.

    Parameters
    ----------
    hops, days, impact, by_category : pandas.DataFrame
        Tidy results (see :func:`finding_hops`, :func:`finding_days`, :func:`finding_worth`,
        :func:`finding_uneven`).
    report : mapping
        The validation report.
    share, currency, tau_days
        The scenario's share, the money label and the RMST horizon.
    rollout : pandas.DataFrame, optional
        :func:`toolkit.notebook.rollout_summary` when desk opening dates are known.
    synthetic : bool
        Whether the data are synthetic.
    lang : {"en", "id"}
        Language.

    Returns
    -------
    str
        Markdown: a "what we found" section and a "what the data cannot say" section.
        When the log records no hops, the hand-off paragraphs are left out.

    Examples
    --------
    >>> hops = pd.DataFrame({"term": ["ate_hops", "att_hops"], "estimate": [-1.0, -0.2],
    ...     "ci_low": [-1.1, -0.3], "ci_high": [-0.9, -0.1], "method": ["naive", "AIPW"]})
    >>> days = pd.DataFrame({"term": ["rmst_diff_days", "att_rmst_diff_days"],
    ...     "estimate": [-4.0, -1.0], "ci_low": [-4.5, -1.5], "ci_high": [-3.5, -0.5],
    ...     "method": ["naive", "IPW"]})
    >>> rows = ["requests_moved", "handoffs_saved", "staff_hours_saved",
    ...         "citizen_days_saved", "citizen_time_value", "total_value"]
    >>> impact = pd.DataFrame({"term": rows, "estimate": [10, 2, 1, 10, 1e6, 1.1e6],
    ...     "ci_low": [10, 1, 0.5, 5, 5e5, 6e5], "ci_high": [10, 3, 1.5, 15, 1.5e6, 1.6e6]})
    >>> groups = pd.DataFrame({"term": ["att_hops[category=roads]"], "estimate": [-0.2],
    ...     "ci_low": [-0.3], "ci_high": [-0.1]})
    >>> text = policy_brief(hops=hops, days=days, impact=impact, by_category=groups,
    ...                     report={"hops_observed": True}, share=0.3)
    >>> text.splitlines()[0]
    '## What we found'
    """
    check_lang(lang)
    hops_seen = bool(report.get("hops_observed", True))
    found = []
    if hops_seen:
        found.append(finding_hops(hops, lang))
    found.append(finding_days(days, lang, tau_days))
    found.append(finding_worth(impact, lang, share=share, currency=currency))
    if hops_seen:
        found.append(finding_uneven(by_category, lang, what={"en": "topic", "id": "topik"}[lang]))
        if rollout is not None:
            found.append(finding_rollout(rollout, lang))
    parts = [f"## {_HEADINGS['findings'][lang]}", ""]
    for paragraph in found:
        parts += [paragraph, ""]
    parts += [f"## {_HEADINGS['limits'][lang]}", ""]
    for paragraph in limitations(report, lang, synthetic=synthetic):
        parts += [f"- {paragraph}"]
    return "\n".join(parts) + "\n"


def export_html(
    notebook: str | os.PathLike[str], out: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """Write an executed notebook as one self-contained HTML page without code.

    Parameters
    ----------
    notebook : path-like
        An executed notebook (e.g. ``build/notebooks/07_policy_brief.ipynb``).
    out : path-like
        The HTML file to write (atomically: a temporary file, then a rename).
    title : str, optional
        The page title; default the notebook's first heading.

    Returns
    -------
    pathlib.Path
        The written file.

    Examples
    --------
    >>> import nbformat, tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> hidden = nbformat.v4.new_markdown_cell("hidden words")
    >>> hidden.metadata["tags"] = [REMOVE_TAG]
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Brief"),
    ...                                      nbformat.v4.new_code_cell("secret = 1"), hidden])
    >>> nbformat.write(nb, folder / "brief.ipynb")
    >>> html = export_html(folder / "brief.ipynb", folder / "brief.html").read_text()
    >>> "secret" in html, "hidden words" in html, "<title>Brief</title>" in html
    (False, False, True)

    Notes
    -----
    Input cells and prompts are left out (nbconvert's ``exclude_input``), and cells tagged
    ``remove_cell`` with their outputs (:data:`REMOVE_TAG`); images in outputs
    are embedded as base64 data, and images referenced from Markdown are embedded too
    (``embed_images``), so the page needs nothing beside it.
    """
    import nbformat
    from nbconvert import HTMLExporter

    source = Path(notebook)
    if not source.is_file():
        raise SekatError("executed notebook not found", file=str(source))
    try:
        nb = nbformat.read(source, as_version=4)
    except Exception as error:  # nbformat raises several unrelated types
        raise SekatError(f"not a notebook ({error})", file=str(source)) from error
    if title is None:
        texts = []
        for cell in nb.cells:
            if REMOVE_TAG in cell.get("metadata", {}).get("tags", []):
                continue
            if cell.cell_type == "markdown":
                texts.append(cell.source)
            for output in cell.get("outputs", []):
                texts.append(output.get("data", {}).get("text/markdown", ""))
        title = next(
            (
                line.lstrip("# ").strip()
                for text in texts
                for line in str(text).splitlines()
                if line.startswith("# ")
            ),
            source.stem,
        )
    nb.metadata["title"] = title
    from traitlets.config import Config

    config = Config()
    # Cells tagged "remove_cell" (parameters, set-up, checked numbers) leave no trace.
    config.TagRemovePreprocessor.enabled = True
    config.TagRemovePreprocessor.remove_cell_tags = {REMOVE_TAG}
    exporter = HTMLExporter(
        config=config,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _resources = exporter.from_notebook_node(
        nb, resources={"metadata": {"path": str(source.parent)}}
    )
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(body)
        os.chmod(temporary, 0o644)  # a page to publish, not a private temporary file
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target


def main(argv: list[str] | None = None) -> None:
    """``python -m toolkit.brief NOTEBOOK --out FILE``: export an executed brief to HTML."""
    parser = argparse.ArgumentParser(
        prog="python -m toolkit.brief", description="Export an executed policy brief to HTML."
    )
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--out", type=Path, default=Path("figures") / BRIEF_HTML)
    args = parser.parse_args(argv)
    try:
        written = export_html(args.notebook, args.out)
    except SekatError as error:
        raise SystemExit(f"sekat: error: {error}") from None
    print(written)


__all__ = [
    "BRIEF_HTML",
    "REMOVE_TAG",
    "LANGS",
    "describe_change",
    "export_html",
    "finding_days",
    "finding_hops",
    "finding_rollout",
    "finding_uneven",
    "finding_worth",
    "limitations",
    "policy_brief",
    "prose",
]


if __name__ == "__main__":
    main()
