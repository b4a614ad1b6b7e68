"""Quality checks on the real EPF files and on small crafted frames, one per rule."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from electricity_optimizer.ingest import read_epf
from electricity_optimizer.quality import FLAG_COLUMNS, QualityError, check_prices

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def frame(n=48, zone="DE", start="2024-01-01", res=60) -> pd.DataFrame:
    ts = pd.date_range(start, periods=n, freq=f"{res}min", tz="UTC").astype("datetime64[ns, UTC]")
    price = 50 + 20 * np.sin(np.arange(n) * 2 * np.pi * res / 1440)
    return pd.DataFrame({"timestamp": ts, "zone": zone, "price": price, "currency": "EUR", "resolution": res,
                         "source": "test", "exog_0": 1000.0 + np.arange(n), "exog_1": 10.0})


def fails(df, **kw) -> QualityError:
    with pytest.raises(QualityError) as e:
        check_prices(df, **kw)
    assert "\n" not in str(e.value)
    return e.value


# --- real data -----------------------------------------------------------------------

@pytest.mark.parametrize("market,negative,zero_exog", [("NP", 0, 13), ("PJM", 93, 0), ("DE", 538, 0)])
def test_real_epf_markets_pass(market, negative, zero_exog):
    df = read_epf(DATA / "epf" / f"{market}.csv", market)
    flags, m = check_prices(df, now="2019-01-01")
    assert m["passed"] and m["rows"] == 52_416
    assert (m["duplicates"], m["gaps"], m["out_of_range"], m["errors"]) == (0, 0, 0, 0)
    assert (m["negative_prices"], m["zero_exog"]) == (negative, zero_exog)
    assert 0 < m["spikes"] < 0.02 * len(df)  # flagged, a small share, never fatal
    assert list(flags.columns) == FLAG_COLUMNS and set(flags.severity) == {"warn"}
    json.dumps(m)  # ready for metrics/*.json


def test_real_data_with_a_hole_fails():
    df = read_epf(DATA / "epf" / "DE.csv", "DE")
    e = fails(df.drop(index=range(1000, 1003)), now="2018-01-01")
    assert str(e).startswith("zone DE: gap check failed at 2012-02-19T15:00Z..2012-02-19T17:00Z (3 intervals)")
    assert e.metrics["gaps"] == 3 and not e.metrics["passed"]


# --- one rule at a time -----------------------------------------------------------------

def test_clean_frame():
    flags, m = check_prices(frame(), now="2024-01-03")
    assert flags.empty and list(flags.columns) == FLAG_COLUMNS
    assert m["passed"] and m["staleness_hours"] == 0.0
    assert (m["first"], m["last"]) == ("2024-01-01T00:00:00+00:00", "2024-01-02T23:00:00+00:00")


def test_duplicates_fail():
    df = pd.concat([frame(), frame().iloc[[5, 6]]], ignore_index=True)
    e = fails(df)
    assert str(e).startswith("zone DE: duplicate check failed at 2024-01-01T05:00Z..2024-01-01T06:00Z (2 intervals)")
    assert "deduplicate" in str(e) and e.metrics["duplicates"] == 2


@pytest.mark.parametrize("price", [-501.0, 4000.5])
def test_out_of_range_fails(price):
    df = frame()
    df.loc[12, "price"] = price
    e = fails(df)
    assert "out_of_range check failed at 2024-01-01T12:00Z..2024-01-01T12:00Z (1 intervals)" in str(e)
    assert "price_min/price_max" in str(e)
    assert check_prices(df, price_min=-1000, price_max=5000)[1]["passed"]


def test_gaps_tolerance():
    df = frame().drop(index=[3, 4, 5])
    assert "gap check failed at 2024-01-01T03:00Z..2024-01-01T05:00Z (3 intervals)" in str(fails(df))
    flags, m = check_prices(df, max_gap_intervals=3)
    assert m["passed"] and m["gaps"] == 3 and (flags.rule == "gap").sum() == 3
    assert fails(df, max_gap_intervals=2).metrics["gaps"] == 3


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(1, 94), max_size=20))
def test_gap_count_equals_missing_intervals(dropped):
    df = frame(n=96, res=15).drop(index=sorted(dropped))
    _, m = check_prices(df, max_gap_intervals=96, now="2024-01-02")
    assert m["gaps"] == len(dropped)


def test_negative_prices_and_spikes_never_fail():
    df = frame()
    df.loc[[2, 3], "price"] = [-20.0, -5.0]
    df.loc[30, "price"] = 1500.0
    flags, m = check_prices(df)
    assert m["passed"] and m["negative_prices"] == 2 and m["spikes"] == 1
    spike = flags[flags.rule == "spike"].iloc[0]
    assert (spike.timestamp, spike.value, spike.severity) == (pd.Timestamp("2024-01-02 06:00", tz="UTC"), 1500.0, "warn")


def test_flat_prices_do_not_spike():
    df = frame().assign(price=40.0)
    df.loc[10, "price"] = 40.5  # cent-sized move in a flat run
    assert check_prices(df)[1]["spikes"] == 0


def test_zero_exog_counted_as_missing():
    df = frame()
    df.loc[[1, 2], "exog_0"] = 0.0
    df.loc[3, "exog_1"] = 0.0
    df.loc[4, "exog_1"] = np.nan
    flags, m = check_prices(df)
    assert m["passed"] and (m["zero_exog"], m["missing_exog"]) == (3, 1)
    assert sorted(flags.rule) == ["zero_exog_0", "zero_exog_0", "zero_exog_1"]


def test_staleness():
    assert check_prices(frame(), now="2024-01-05 00:00")[1]["staleness_hours"] == 48.0
    assert check_prices(frame(), now=pd.Timestamp("2024-01-05 01:00", tz="Europe/Berlin"))[1]["staleness_hours"] == 48.0
    e = fails(frame(), now="2024-01-05", stale_after=24)
    assert str(e).startswith("zone DE: stale check failed at 2024-01-02T23:00Z..2024-01-02T23:00Z")
    flags, m = check_prices(frame(), now="2024-01-05", stale_after=24, raise_errors=False)
    assert not m["passed"] and (flags.rule == "stale").sum() == 1


@pytest.mark.parametrize("change,expected", [
    (lambda d: d.assign(currency="BTC"), "column 'currency' fails isin"),
    (lambda d: d.assign(resolution=5), "column 'resolution' fails isin"),
    (lambda d: d.assign(timestamp=d.timestamp.dt.tz_localize(None)), "column 'timestamp' fails dtype"),
    (lambda d: d.assign(price=d.price.astype(str)), "column 'price' fails dtype"),
    (lambda d: d.drop(columns="source"), "column 'source' missing"),
    (lambda d: d.assign(zone=[None] + ["DE"] * 47), "column 'zone' fails not_nullable"),
])
def test_schema_violations_fail(change, expected):
    e = fails(change(frame()))
    assert "schema check failed at" in str(e) and expected in str(e) and "canonical price frame" in str(e)


def test_several_zones_and_zone_selection():
    two = pd.concat([frame(zone="NL").drop(index=[40]), frame(zone="DE")], ignore_index=True)
    assert str(fails(two)).startswith("zone NL: gap check failed at 2024-01-02T16:00Z")
    _, m = check_prices(two, zone="DE")
    assert m["zones"] == ["DE"] and m["rows"] == 48
    assert "no rows in the frame (zones: NL, DE)" in str(fails(two, zone="FR"))


def test_raise_errors_false_reports_instead():
    df = frame()
    df.loc[0, "price"] = 9999.0
    flags, m = check_prices(df, raise_errors=False)
    assert not m["passed"] and m["errors"] == 1
    assert flags[flags.severity == "error"].rule.tolist() == ["out_of_range"]


def test_default_staleness_is_reproducible():
    lag = pd.concat([frame(zone="DE"), frame(zone="NL").iloc[:36]], ignore_index=True)
    assert check_prices(frame())[1]["staleness_hours"] == 0.0
    assert check_prices(lag)[1]["staleness_hours"] == 12.0  # the laggiest zone vs the freshest
    assert "stale check failed" in str(fails(lag, stale_after=6))
