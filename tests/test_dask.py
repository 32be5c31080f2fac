"""The Dask path gives exactly the pandas case table and hand-off table, on a real cluster."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from toolkit import schema
from toolkit.paths import case_table, handovers
from toolkit.paths.cluster import is_dask, read_events_dask
from toolkit.synthetic import simulate

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    events = simulate(n_cases=2_000, seed=7).events
    # Round to the day: many ties in time, so that the tie-break by row order is exercised.
    events[schema.TIMESTAMP] = events[schema.TIMESTAMP].dt.floor("D")
    return events


def sorted_cases(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(schema.CASE_ID).reset_index(drop=True)


def sorted_flows(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values([*by, schema.FROM_AGENCY, schema.TO_AGENCY]).reset_index(drop=True)


def check_case_table(events: pd.DataFrame, npartitions: int, **kwargs) -> None:
    expected = case_table(events, **kwargs)
    lazy = case_table(dd.from_pandas(events, npartitions=npartitions), **kwargs)
    assert is_dask(lazy)
    pd.testing.assert_frame_equal(sorted_cases(lazy.compute()), expected)


def check_handovers(events: pd.DataFrame, by: list[str]) -> None:
    expected = handovers(events, by=by or None)
    got = handovers(dd.from_pandas(events, npartitions=5), by=by or None).compute()
    # exact, not approximately: medians and means are computed from the same sorted hours
    pd.testing.assert_frame_equal(sorted_flows(got, by), expected, check_exact=True)


def test_dask_on_a_cluster_equals_pandas_exactly(events):
    """One cluster for every check (2 worker processes, loopback only, random ports)."""
    shuffled = events.sample(frac=1.0, random_state=3).reset_index(drop=True)
    shuffled[schema.SOURCE_ROW] = np.arange(len(shuffled), dtype=np.int64)[::-1]
    expected = case_table(events)
    assert expected[schema.HOPS].sum() > 0 and expected[schema.CENSORED].any()
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit="1GiB",
        ) as cluster,
        distributed.Client(cluster),
    ):
        check_case_table(events, npartitions=5)
        # ties broken by source_row, rows in no particular order, an explicit cut-off
        check_case_table(shuffled, npartitions=4, cutoff="2024-06-30 12:00")
        # absent optional columns
        check_case_table(events.drop(columns=[schema.CATEGORY, schema.REGION]), npartitions=3)
        for by in ([], ["channel_group"], ["channel", "region"]):
            check_handovers(events, by)


def test_read_events_dask_from_a_directory(events, tmp_path):
    for number, part in enumerate(np.array_split(np.arange(len(events)), 3)):
        events.iloc[part].to_parquet(tmp_path / f"part-{number}.parquet")
    lazy = read_events_dask(tmp_path)
    assert lazy[schema.TIMESTAMP].dtype == schema.TIMESTAMP_DTYPE
    got = case_table(lazy).compute(scheduler="sync")
    expected = case_table(events)
    columns = [schema.CASE_ID, schema.PATH, schema.HOPS, schema.DURATION_HOURS, schema.CENSORED]
    pd.testing.assert_frame_equal(sorted_cases(got)[columns], expected[columns])
