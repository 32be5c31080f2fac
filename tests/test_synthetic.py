"""The synthetic generator: determinism, the contract, and a truth that matches its own log."""

from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit import schema
from toolkit.errors import SekatError
from toolkit.synthetic import CATEGORIES, DEFAULT_REGIONS, simulate

EFFECT_ESTIMANDS = (
    "ate_hops",
    "att_hops",
    "rmst_diff_days",
    "att_rmst_diff_days",
    "es_hops",
    "att_rollout_hops",
    "es_rmst_days",
    "att_rollout_rmst_days",
)


@pytest.fixture(scope="module")
def sim():
    return simulate(20_000, seed=11)


def truth_value(sim, estimand: str, group: str = "overall") -> float:
    t = sim.truth
    row = t[(t["estimand"] == estimand) & (t["group"] == group)]
    assert len(row) == 1, (estimand, group)
    return float(row["value"].iloc[0])


def paths_by_hand(events: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Hops and duration per request, straight from the definition (independent of toolkit).

    hops = changes of holding agency between consecutive events; the request ends at its
    last resolved/closed event not followed by a reopen; duration = first event to end.
    """
    ev = events.reset_index(drop=True)
    case = ev[schema.CASE_ID]
    prev_agency = ev.groupby(case, sort=False)[schema.AGENCY].shift()
    changed = prev_agency.notna() & (ev[schema.AGENCY] != prev_agency)
    act = ev[schema.ACTIVITY].astype(str)
    is_term = act.isin(schema.TERMINAL_ACTIVITIES)
    is_reopen = act == schema.REOPENED
    # a terminal event counts if no reopen comes after it within the case
    reopens_after = is_reopen[::-1].astype(int).groupby(case[::-1], sort=False).cumsum()[::-1]
    final = is_term & (reopens_after == 0)
    end = ev[schema.TIMESTAMP].where(final).groupby(case, sort=False).max()
    start = ev.groupby(case, sort=False)[schema.TIMESTAMP].min()
    out = pd.DataFrame(
        {
            "hops": changed.groupby(case, sort=False).sum(),
            "resolved": final.groupby(case, sort=False).any(),
            "start": start,
            "end": end.where(end.notna(), cutoff),
        }
    )
    out["duration_hours"] = (out["end"] - out["start"]).dt.total_seconds() / 3600.0
    return out


# --- the contract ----------------------------------------------------------------------------


def test_events_follow_the_contract(sim):
    ev = sim.events
    assert tuple(ev.columns) == schema.CANONICAL_COLUMNS
    for column in ev.columns:
        if schema.DTYPES[column] == "category":
            assert isinstance(ev[column].dtype, pd.CategoricalDtype), column
        else:
            assert ev[column].dtype == pd.api.types.pandas_dtype(schema.DTYPES[column]), column
    assert set(ev[schema.ACTIVITY].astype(str)) <= set(schema.ACTIVITIES)
    # all twelve channels occur, as requests (one channel per request)
    per_case = ev.groupby(schema.CASE_ID)[schema.CHANNEL].nunique()
    assert (per_case == 1).all()
    assert set(ev[schema.CHANNEL].astype(str)) == set(schema.CHANNELS)
    assert set(ev[schema.CATEGORY].cat.categories) == set(CATEGORIES)
    assert list(ev[schema.REGION].cat.categories) == list(DEFAULT_REGIONS)
    assert ev[schema.CASE_ID].str.fullmatch(r"REQ-20(23|24)-\d{6}").all()
    assert ev[schema.AGENCY].notna().all() and ev[schema.TIMESTAMP].notna().all()
    assert {"Dinas PU", "PDAM", "PLN", "DLH", "Disdukcapil", "Dinkes", "Dishub", "Sekda"} <= set(
        ev[schema.AGENCY]
    )
    assert ev[schema.AGENCY].str.startswith("Kelurahan ").any()
    assert ev[schema.AGENCY].str.startswith("Desk Medsos ").any()
    n_cases = ev[schema.CASE_ID].nunique()
    assert n_cases == 20_000
    assert 4.5 < len(ev) / n_cases < 7.0  # about five events per request


def test_log_is_in_time_order_and_cases_strictly_increase(sim):
    ev = sim.events
    assert ev[schema.TIMESTAMP].is_monotonic_increasing
    assert ev[schema.TIMESTAMP].max() < sim.cutoff
    assert ev[schema.TIMESTAMP].min() >= pd.Timestamp("2023-01-01", tz="UTC")
    step = ev.groupby(schema.CASE_ID, sort=False)[schema.TIMESTAMP].diff().dropna()
    assert (step > pd.Timedelta(0)).all()
    first = ev.groupby(schema.CASE_ID, sort=False)[schema.ACTIVITY].first().astype(str)
    assert (first == schema.SUBMITTED).all()


def test_a_reopened_request_ends_at_its_second_resolution(sim):
    ev = sim.events
    special = ev[schema.ACTIVITY].isin([schema.REOPENED, schema.REJECTED])
    flagged = special.groupby(ev[schema.CASE_ID], sort=False).transform("any")
    acts = (
        ev[flagged]
        .groupby(schema.CASE_ID, sort=False)[schema.ACTIVITY]
        .agg(lambda a: tuple(a.astype(str)))
    )
    reopened = acts[acts.map(lambda a: schema.REOPENED in a)]
    assert len(reopened) > 100
    for seq in reopened.head(50):
        i = seq.index(schema.REOPENED)
        assert seq[i - 1] in schema.TERMINAL_ACTIVITIES
        if i + 1 < len(seq):
            assert seq[-1] in schema.TERMINAL_ACTIVITIES + (schema.IN_PROGRESS, schema.REOPENED)
    rejected = acts[acts.map(lambda a: schema.REJECTED in a)]
    assert len(rejected) > 100
    assert all(a[-1] in (schema.REJECTED, schema.CLOSED) for a in rejected)


def test_params_are_json_and_complete(sim):
    params = json.loads(json.dumps(sim.params))
    assert params["n_cases"] == 20_000 and params["seed"] == 11
    assert set(params["effect_hops"]) == set(CATEGORIES)
    assert pd.Timestamp(params["end"]) == pd.Timestamp("2025-01-01", tz="UTC")
    assert sim.cutoff == pd.Timestamp("2025-01-01", tz="UTC")


# --- the truth is the log's own truth --------------------------------------------------------


def test_realised_potential_outcomes_equal_what_the_events_show(sim):
    by_hand = paths_by_hand(sim.events, sim.cutoff)
    po = sim.outcomes.set_index(schema.CASE_ID)
    assert len(po) == len(by_hand)
    by_hand = by_hand.loc[po.index]
    realised_hops = np.where(po["social"], po["hops_1"], po["hops_0"])
    realised_hours = np.where(po["social"], po["duration_hours_1"], po["duration_hours_0"])
    complete = po["complete"].to_numpy()
    assert complete.mean() > 0.9
    np.testing.assert_array_equal(by_hand["resolved"].to_numpy(), ~po["censored"].to_numpy())
    assert (po["censored"] <= ~po["complete"]).all()  # censored implies incomplete
    np.testing.assert_array_equal(by_hand["hops"].to_numpy()[complete], realised_hops[complete])
    np.testing.assert_allclose(
        by_hand["duration_hours"].to_numpy()[complete], realised_hours[complete], rtol=1e-12
    )
    # an incomplete request shows fewer or equal hops and less time than its full path
    assert (by_hand["hops"].to_numpy()[~complete] <= realised_hops[~complete]).all()
    assert (by_hand["duration_hours"].to_numpy()[~complete] < realised_hours[~complete]).all()


def test_realised_outcomes_match_the_case_table_when_available(sim):
    from toolkit import paths

    cases = paths.case_table(sim.events, cutoff=sim.cutoff).set_index(schema.CASE_ID)
    po = sim.outcomes.set_index(schema.CASE_ID).loc[cases.index]
    complete = po["complete"].to_numpy()
    np.testing.assert_array_equal(cases[schema.CENSORED].to_numpy(), po["censored"].to_numpy())
    hops = np.where(po["social"], po["hops_1"], po["hops_0"])
    hours = np.where(po["social"], po["duration_hours_1"], po["duration_hours_0"])
    np.testing.assert_array_equal(cases[schema.HOPS].to_numpy()[complete], hops[complete])
    np.testing.assert_allclose(
        cases[schema.DURATION_HOURS].to_numpy()[complete], hours[complete], rtol=1e-12
    )


def test_truth_table_recomputes_from_potential_outcomes(sim):
    po = sim.outcomes
    assert list(sim.truth.columns) == ["estimand", "group", "value", "unit", "n", "description"]
    h0, h1 = po["hops_0"], po["hops_1"]
    r0 = np.minimum(po["duration_hours_0"], 720.0) / 24.0
    r1 = np.minimum(po["duration_hours_1"], 720.0) / 24.0
    s = po["social"]
    assert truth_value(sim, "ate_hops") == pytest.approx((h1 - h0).mean(), abs=1e-12)
    assert truth_value(sim, "att_hops") == pytest.approx((h1 - h0)[s].mean(), abs=1e-12)
    assert truth_value(sim, "irr_hops") == pytest.approx(h1.mean() / h0.mean(), abs=1e-12)
    assert truth_value(sim, "rmst_diff_days") == pytest.approx((r1 - r0).mean(), abs=1e-12)
    assert truth_value(sim, "att_rmst_diff_days") == pytest.approx((r1 - r0)[s].mean(), abs=1e-12)
    waste = po[schema.CATEGORY] == "waste"
    assert truth_value(sim, "ate_hops", "category=waste") == pytest.approx(
        (h1 - h0)[waste].mean(), abs=1e-12
    )
    # rollout: equally weighted treated region-months, cell mean of Y_obs - Y0
    gain = np.where(s, h1 - h0, 0)
    cells = (
        po.assign(gain=gain)
        .groupby([schema.REGION, "month"], observed=True)
        .agg(gain=("gain", "mean"), e=("event_time", "max"), open=("desk_open", "any"))
    )
    treated = cells[cells["open"]]
    assert truth_value(sim, "att_rollout_hops") == pytest.approx(treated["gain"].mean(), abs=1e-12)
    assert truth_value(sim, "es_hops", "e=3") == pytest.approx(
        treated.loc[treated["e"] == 3, "gain"].mean(), abs=1e-12
    )


def test_planted_effects_differ_by_category_and_grow_after_opening(sim):
    # waste has the largest planted effect on hops, civil registry the smallest
    assert truth_value(sim, "att_hops", "category=waste") < truth_value(
        sim, "att_hops", "category=civil_registry"
    )
    assert truth_value(sim, "att_irr_hops") < 1.0
    assert truth_value(sim, "att_rmst_diff_days") < 0.0
    # before a desk opens there is no effect: the event study's pre-periods are exactly zero
    es = sim.truth[sim.truth["estimand"] == "es_hops"]
    pre = es[es["group"].str.startswith("e=-")]
    assert len(pre) >= 10 and (pre["value"] == 0.0).all()
    # the desk's effect grows with time since it opened (uptake and maturity ramps)
    assert truth_value(sim, "es_hops", "e=0") > truth_value(sim, "es_hops", "e=8")
    assert truth_value(sim, "es_rmst_days", "e=0") > truth_value(sim, "es_rmst_days", "e=8")


def test_switching_the_effects_off_gives_a_zero_truth():
    off = simulate(3_000, seed=5, effect_hops=0, effect_time=0.0)
    t = off.truth
    effect_rows = t[t["estimand"].isin(EFFECT_ESTIMANDS)]
    assert len(effect_rows) > 30
    assert (effect_rows["value"] == 0.0).all()
    ratios = t[t["estimand"].str.contains("irr")]
    assert (ratios["value"] == 1.0).all()
    po = off.outcomes
    assert (po["hops_0"] == po["hops_1"]).all()
    assert (po["duration_hours_0"] == po["duration_hours_1"]).all()


def test_time_effect_alone_leaves_hops_untouched():
    sim = simulate(3_000, seed=5, effect_hops=0, effect_time={"roads": -0.5})
    assert truth_value(sim, "att_hops") == 0.0
    assert truth_value(sim, "att_rmst_diff_days", "category=roads") < -0.5
    assert truth_value(sim, "att_rmst_diff_days", "category=water") == 0.0


# --- confounding -----------------------------------------------------------------------------


def naive_differences(sim) -> tuple[float, float]:
    """Social minus not-social mean hops and mean min(T, 30 d) of the realised full outcomes.

    Full outcomes (as if nothing were censored) isolate confounding from censoring.
    """
    po = sim.outcomes
    s = po["social"].to_numpy()
    hops = np.where(s, po["hops_1"], po["hops_0"])
    days = np.minimum(np.where(s, po["duration_hours_1"], po["duration_hours_0"]), 720) / 24
    return hops[s].mean() - hops[~s].mean(), days[s].mean() - days[~s].mean()


def test_naive_comparison_exaggerates_the_benefit():
    sim = simulate(40_000, seed=3)
    hop_gap, day_gap = naive_differences(sim)
    att_hops = truth_value(sim, "att_hops")
    att_days = truth_value(sim, "att_rmst_diff_days")
    assert hop_gap < att_hops - 0.2  # planted confounding makes social look far better
    assert day_gap < att_days - 1.5
    # the same from the log itself, as an analyst would compute it
    by_hand = paths_by_hand(sim.events, sim.cutoff)
    channel = sim.events.groupby(schema.CASE_ID, sort=False)[schema.CHANNEL].first()
    social = schema.is_social(channel).reindex(by_hand.index)
    log_gap = by_hand["hops"][social].mean() - by_hand["hops"][~social].mean()
    assert log_gap < att_hops - 0.2


def test_without_confounding_the_naive_comparison_is_close_to_the_att():
    sim = simulate(40_000, seed=3, confounding=0.0)
    hop_gap, day_gap = naive_differences(sim)
    # sampling noise only: about 0.026 hops and 0.14 days standard error at this size
    assert hop_gap == pytest.approx(truth_value(sim, "att_hops"), abs=0.1)
    assert day_gap == pytest.approx(truth_value(sim, "att_rmst_diff_days"), abs=0.45)


# --- shares, rates, rollout ------------------------------------------------------------------


def test_shares_and_rates_near_their_parameters():
    sim = simulate(
        40_000, seed=8, confounding=0.0, social_share=0.3, reopen_rate=0.1, reject_rate=0.05
    )
    po = sim.outcomes
    mature = po["desk_open"] & (po["event_time"] >= sim.params["uptake_months"] - 1)
    assert po.loc[mature, "social"].mean() == pytest.approx(0.3, abs=0.02)
    assert po.loc[~po["desk_open"], "social"].mean() == pytest.approx(0.01, abs=0.005)
    ev = sim.events
    case = ev[schema.CASE_ID]
    rejected = (ev[schema.ACTIVITY] == schema.REJECTED).groupby(case, sort=False).any()
    reopened = (ev[schema.ACTIVITY] == schema.REOPENED).groupby(case, sort=False).any()
    early = po.set_index(schema.CASE_ID)["month"] < 12  # far from the cut-off
    assert rejected[early].mean() == pytest.approx(0.05, abs=0.01)
    assert reopened[early].mean() == pytest.approx(0.1 * 0.95, abs=0.012)


def test_rollout_is_staggered_with_never_treated_regions(sim):
    rollout = sim.rollout
    assert list(rollout.columns) == [schema.REGION, "desk_opened"]
    assert rollout["desk_opened"].dtype == schema.TIMESTAMP_DTYPE
    assert isinstance(rollout[schema.REGION].dtype, pd.CategoricalDtype)
    assert 10 <= len(rollout) <= 14
    assert 2 <= rollout["desk_opened"].isna().sum() <= 3
    opened = rollout["desk_opened"].dropna()
    assert opened.nunique() >= 3  # several cohorts
    assert (opened > pd.Timestamp(sim.params["start"])).all() and (opened < sim.cutoff).all()
    assert (opened == opened.dt.floor("D")).all() and (opened.dt.day == 1).all()
    # before a desk opens, social intake is rare; a year after, common
    po = sim.outcomes.merge(rollout, on=schema.REGION)
    month_start = pd.Timestamp(sim.params["start"]) + pd.to_timedelta(0, "D")
    submitted = po["month"].map(lambda m: month_start + pd.DateOffset(months=int(m)))
    before = po["desk_opened"].isna() | (submitted < po["desk_opened"])
    assert po.loc[before, "social"].mean() < 0.02
    assert po.loc[po["event_time"] >= 6, "social"].mean() > 0.2
    ev = sim.events
    first = ev.drop_duplicates(schema.CASE_ID).merge(rollout, on=schema.REGION)
    desk_intake = first[schema.AGENCY].str.startswith("Desk Medsos ")
    assert (first.loc[desk_intake, schema.TIMESTAMP] >= first.loc[desk_intake, "desk_opened"]).all()


def test_confounding_dial_and_custom_rollout():
    sim = simulate(
        5_000,
        seed=4,
        months=12,
        regions=["Alpha", "Beta", "Gamma", "Delta"],
        desk_open_months={"Alpha": 2, "Beta": 6, "Gamma": None, "Delta": None},
    )
    assert list(sim.rollout[schema.REGION]) == ["Alpha", "Beta", "Gamma", "Delta"]
    assert sim.rollout["desk_opened"].isna().tolist() == [False, False, True, True]
    assert sim.rollout["desk_opened"].iloc[1] == pd.Timestamp("2023-07-01", tz="UTC")
    assert sim.events[schema.AGENCY].str.contains("Kelurahan Alpha I").any()
    assert sim.cutoff == pd.Timestamp("2024-01-01", tz="UTC")


# --- determinism, errors, speed --------------------------------------------------------------


def test_same_seed_same_frames_and_different_seed_different_frames():
    a = simulate(2_000, seed=21)
    b = simulate(2_000, seed=21)
    c = simulate(2_000, seed=22)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth, b.truth)
    pd.testing.assert_frame_equal(a.rollout, b.rollout)
    pd.testing.assert_frame_equal(a.outcomes, b.outcomes)
    assert a.params == b.params
    assert not a.events[schema.TIMESTAMP].equals(c.events[schema.TIMESTAMP])
    assert not a.truth["value"].equals(c.truth["value"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n_cases": 0}, "n_cases"),
        ({"months": 1}, "months"),
        ({"social_share": 1.5}, "social_share"),
        ({"effect_hops": {"potholes": -1}}, "potholes"),
        ({"desk_open_months": {"Atlantis": 3}}, "Atlantis"),
        ({"desk_open_months": {"Coblong": -2}}, "Coblong"),
        ({"start": "not a date"}, "start"),
        ({"confounding": -1}, "confounding"),
    ],
)
def test_bad_parameters_raise_a_clear_error(kwargs, message):
    with pytest.raises(SekatError, match=message):
        simulate(**({"n_cases": 100} | kwargs))


def test_a_thousand_requests_are_quick_and_summarised():
    began = time.perf_counter()
    small = simulate(1_000, seed=2)
    assert time.perf_counter() - began < 10  # generous: a smoke check, not a benchmark
    summary = small.summary().set_index("quantity")["value"]
    assert summary["requests"] == 1_000
    assert summary["planted att_hops"] == truth_value(small, "att_hops")
    assert summary["naive hops difference"] < summary["planted att_hops"]


@settings(max_examples=12, deadline=None)
@given(
    n=st.integers(1, 400),
    seed=st.integers(0, 2**32 - 1),
    effect=st.floats(-1.0, 0.5),
    confounding=st.floats(0.0, 3.0),
    months=st.integers(2, 30),
)
def test_any_run_keeps_its_invariants(n, seed, effect, confounding, months):
    sim = simulate(
        n,
        seed=seed,
        months=months,
        effect_hops=effect,
        effect_time=effect,
        confounding=confounding,
    )
    ev = sim.events
    assert ev[schema.TIMESTAMP].is_monotonic_increasing
    assert ev[schema.CASE_ID].nunique() == n
    by_hand = paths_by_hand(ev, sim.cutoff)
    po = sim.outcomes.set_index(schema.CASE_ID).loc[by_hand.index]
    done = po["complete"].to_numpy()
    hops = np.where(po["social"], po["hops_1"], po["hops_0"])
    np.testing.assert_array_equal(by_hand["hops"].to_numpy()[done], hops[done])
    np.testing.assert_array_equal(by_hand["resolved"].to_numpy(), ~po["censored"].to_numpy())
    # common random numbers: a helpful effect never adds hops or time, a harmful one never removes hops
    if effect <= 0:
        assert (po["hops_1"] <= po["hops_0"]).all()
        assert (po["duration_hours_1"] <= po["duration_hours_0"] + 1e-9).all()
    else:
        assert (po["hops_1"] >= po["hops_0"]).all()


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 4), st.integers(0, 3), st.integers(0, 9)),
        max_size=60,
        unique_by=lambda row: (row[1], row[2]),  # (request, step) is unique, as in a log
    ),
    late=st.booleans(),
)
def test_the_packed_event_sort_is_the_lexsort_of_time_request_step(data, late):
    """The generator sorts its events by packing them into one integer key; a key that
    would not fit (times of centuries, here shifted by 2**62 s) takes np.lexsort: both give
    the order of np.lexsort((step, case, t)), by hand."""
    from toolkit.synthetic import _time_order

    t, case, step, payload = (np.array([row[i] for row in data], dtype=np.int64) for i in range(4))
    t = t + (2**62 if late else 0)
    sorted_t, sorted_case, sorted_payload = _time_order(t, case, step, payload, n=5, steps=4)
    order = np.lexsort((step, case, t))
    np.testing.assert_array_equal(sorted_t, t[order])
    np.testing.assert_array_equal(sorted_case, case[order])
    np.testing.assert_array_equal(sorted_payload, payload[order])


def test_naive_two_way_fixed_effects_misses_the_growing_rollout_effect():
    """TWFE on region-month means of the realised (full) outcome, by hand with least squares.

    With staggered desks and effects that grow with time since opening, already-treated
    regions serve as controls and the TWFE coefficient is pulled towards zero.
    """
    sim = simulate(60_000, seed=5)
    po = sim.outcomes
    hops = np.where(po["social"], po["hops_1"], po["hops_0"])
    cells = (
        po.assign(hops=hops)
        .groupby([schema.REGION, "month"], observed=True)
        .agg(hops=("hops", "mean"), treated=("desk_open", "max"))
        .reset_index()
    )
    design = np.column_stack(
        [
            cells["treated"].to_numpy(dtype=float),
            pd.get_dummies(cells[schema.REGION]).to_numpy(dtype=float),
            pd.get_dummies(cells["month"], drop_first=True).to_numpy(dtype=float),
        ]
    )
    coef, *_ = np.linalg.lstsq(design, cells["hops"].to_numpy(), rcond=None)
    truth = truth_value(sim, "att_rollout_hops")
    assert truth < -0.04
    assert truth < coef[0] - 0.02  # TWFE understates the benefit


def test_walk_ins_and_letters_arrive_in_office_hours(sim):
    first = sim.events.drop_duplicates(schema.CASE_ID)
    local_hour = first[schema.TIMESTAMP].dt.tz_convert("Asia/Jakarta").dt.hour
    office = first[schema.CHANNEL].isin(["walk_in", "letter"])
    assert local_hour[office].between(8, 14).all()
    assert not local_hour[~office].between(8, 14).all()


# --- every knob of the generator moves what it says it moves -------------------------------


def _stat(name: str, sim) -> float:
    po, ev = sim.outcomes, sim.events
    if name == "effect_ramp_months":  # the planted effect one month after the opening
        return -truth_value(sim, "es_hops", "e=1")
    if name == "uptake_months":  # social share in the months right after an opening
        opened = sim.params["desk_open_months"]
        month0 = po["region"].map(opened)
        return po.loc[(po["month"] - month0).between(0, 1), "social"].mean()
    if name == "social_share_before_desk":
        opened = po["region"].map(sim.params["desk_open_months"]).fillna(10**6)
        return po.loc[po["month"] < opened, "social"].mean()
    if name == "mean_hops":
        return po["hops_0"].mean()
    if name == "hop_dispersion":  # a larger gamma shape means less overdispersion
        return -(po["hops_0"].var() / po["hops_0"].mean())
    if name == "max_hops":
        return -po[["hops_0", "hops_1"]].max().max()
    if name == "service_sigma":
        return np.log(po["duration_hours_0"]).std()
    if name == "stuck_rate":
        return po["duration_hours_0"].quantile(0.99)
    if name == "close_rate":
        return (ev["activity"] == "closed").mean()
    if name == "volume_growth":
        return (po["month"] >= 12).mean()
    if name == "rmst_horizon_days":
        return truth_value(sim, "mean_rmst_y0_days")
    raise AssertionError(name)


@pytest.mark.parametrize(
    ("knob", "low", "high"),
    [
        ("effect_ramp_months", 12, 1),
        ("uptake_months", 12, 1),
        ("social_share_before_desk", 0.0, 0.05),
        ("mean_hops", 1.0, 3.0),
        ("hop_dispersion", 0.5, 20.0),
        ("max_hops", 16, 3),
        ("service_sigma", 0.5, 1.5),
        ("stuck_rate", 0.0, 0.3),
        ("close_rate", 0.0, 0.9),
        ("volume_growth", 0.0, 1.0),
        ("rmst_horizon_days", 10.0, 60.0),
    ],
)
def test_each_knob_of_the_world_moves_what_it_governs(knob, low, high):
    common = dict(n_cases=6000, seed=21)
    assert _stat(knob, simulate(**common, **{knob: low})) < _stat(
        knob, simulate(**common, **{knob: high})
    )


def test_district_shocks_are_off_by_default_and_leave_the_rest_of_the_log_alone():
    plain = simulate(1500, seed=21)
    shocked = simulate(1500, seed=21, region_shock=0.4, region_month_shock=0.3)
    assert "region_shock" not in plain.params and shocked.params["region_shock"] == 0.4
    # channel choice, intake times and districts come from the main stream: unchanged
    first = plain.events.drop_duplicates("case_id")[["case_id", "channel", "region"]]
    again = shocked.events.drop_duplicates("case_id")[["case_id", "channel", "region"]]
    pd.testing.assert_frame_equal(first.reset_index(drop=True), again.reset_index(drop=True))
    with pytest.raises(SekatError, match="region_shock"):
        simulate(100, seed=1, region_shock=-1.0)


def test_district_month_shocks_correlate_outcomes_within_a_district_month():
    from toolkit.paths import case_table

    def within_share(sim):
        cases = case_table(sim.events)
        cell = cases["region"].astype(str) + cases["start"].dt.strftime("%Y-%m")
        log_hours = np.log(cases["duration_hours"].clip(lower=1.0))
        means = log_hours.groupby(cell).transform("mean")
        # share of the variance of log duration explained by district-month means
        return float(means.var() / log_hours.var())

    plain = within_share(simulate(6000, seed=8))
    shocked = within_share(simulate(6000, seed=8, region_month_shock=0.8))
    assert shocked > plain + 0.05
