"""Bill engine: hand-computed bills on real URDB and NZ tariffs, dynamic formulas, DST, properties."""
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from electricity_optimizer.tariff_readers import read_nz_catalog, read_urdb
from electricity_optimizer.tariffs import (Tariff, TariffError, annual, annual_costs, bill, export_prices, import_prices,
                                           schedule)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TARIFFS = DATA / "tariffs"


def month_index(month: str, tz: str, freq="h") -> pd.DatetimeIndex:
    start = pd.Timestamp(month + "-01", tz=tz)
    return pd.date_range(start, start + pd.offsets.MonthBegin(1), freq=freq, inclusive="left").tz_convert("UTC")


def amounts(t, kwh, **kw) -> dict:
    a = annual(bill(t, kwh, **kw))
    return {k: v for k, v in a["amount"].items()}


def test_urdb_pge_bev2s_july_by_hand():
    t = read_urdb(TARIFFS / "urdb/PGE_BEV_2_S_2025_09_08_Neat.json", "America/Los_Angeles")
    idx = month_index("2024-07", "America/Los_Angeles")
    a = amounts(t, pd.Series(1.0, index=idx))
    # 1 kWh every hour: 14 off-peak, 5 super off-peak (09-14), 5 peak (16-21) hours a day, 31 days
    assert a["energy:Off-Peak"] == Decimal("78.47")  # 434 x 0.18081 = 78.47154
    assert a["energy:Super Off-Peak"] == Decimal("24.42")  # 155 x 0.15754 = 24.4187
    assert a["energy:Peak"] == Decimal("61.08")  # 155 x 0.39404 = 61.0762
    assert a["standing"] == Decimal("447.44") and a["demand:flat"] == Decimal("1.91")
    assert a["total"] == Decimal("613.32")


def test_urdb_coned_demand_charges_july_by_hand():
    t = read_urdb(TARIFFS / "urdb/Consolidated_Edison_SC_9_Zone_J_NYC.json", "America/New_York")
    idx = month_index("2024-07", "America/New_York")
    kwh = pd.Series(10.0, index=idx)
    loc = idx.tz_convert("America/New_York")
    kwh[(loc.day == 10) & (loc.hour == 10)] = 50.0  # Wednesday 10:00: summer weekday 08-18 demand period
    kwh[(loc.day == 13) & (loc.hour == 19)] = 30.0  # Saturday: no TOU demand period
    a = amounts(t, kwh)
    assert a["energy:period0"] == Decimal("995.33")  # 7,500 kWh x (0.10171 + 0.031) = 995.325, half up
    assert a["standing"] == Decimal("71.00")
    assert a["demand:flat"] == Decimal("1310.00")  # 50 kW x 26.20 (June-September)
    assert a["demand:tou3"] == Decimal("2509.00")  # 50 kW x (40.17 + 10.01)
    assert a["demand:tou2"] == Decimal("274.00")  # 10 kW x 27.40 (weekdays 18-22)
    assert a["demand:tou1"] == Decimal("0.00")  # not a July period
    assert a["total"] == Decimal("5159.33")


def test_fpl_minimum_charge_tops_up_a_small_month():
    t = read_urdb(TARIFFS / "urdb/Florida_Power_Light_Co_GSLD_1_General_Service_Large_Demand.json", "America/New_York")
    idx = month_index("2024-02", "America/New_York")
    a = amounts(t, pd.Series(1.0, index=idx))
    sub = a["energy:period0"] + a["standing"] + a["demand:flat"]
    assert a["minimum"] == Decimal("6833.67") - sub > 0
    assert a["total"] == Decimal("6833.67")


def test_nz_goodnights_one_month_by_hand():
    t = next(x for x in read_nz_catalog(TARIFFS / "nz_hamilton") if x.name == "Contact GoodNights (standard)")
    idx = month_index("2024-07", "Pacific/Auckland")
    a = amounts(t, pd.Series(1.0, index=idx))
    # July 2024: 23 weekdays with free 21:00-24:00 -> 69 free kWh, 675 kWh at 0.35765
    assert a["energy:free"] == Decimal("0.00")
    assert a["energy:default"] == Decimal("241.41")  # 241.41375
    assert a["standing"] == Decimal("96.22")  # 31 x 3.104 = 96.224
    assert a["total"] == Decimal("337.63")


def test_nz_dst_day_has_23_hours_and_daily_charge_once():
    t = Tariff("nz", energy={"a": 0.3}, standing_per_day=2.0, timezone="Pacific/Auckland")
    day = pd.date_range(pd.Timestamp("2024-09-29", tz="Pacific/Auckland"), pd.Timestamp("2024-09-30", tz="Pacific/Auckland"),
                        freq="15min", inclusive="left").tz_convert("UTC")
    assert len(day) == 92
    a = amounts(t, pd.Series(0.25, index=day))
    assert a["energy:a"] == Decimal("6.90") and a["standing"] == Decimal("2.00")


def test_octopus_agile_formula_and_cap():
    agile = Tariff("agile", energy={"d": 0.0, "p": 0.12}, schedule=schedule([("d", "16:00"), ("p", "19:00"), ("d", "24:00")]),
                   wholesale_multiplier=2.2, cap=1.0, vat=0.05, currency="GBP", timezone="Europe/London")
    idx = pd.date_range("2024-01-15", periods=48, freq="30min", tz="UTC")  # GMT = UTC in January
    w = pd.Series(np.linspace(-20, 600, 48), index=idx)
    p = import_prices(agile, idx, w).to_numpy()
    adder = np.where((idx.hour >= 16) & (idx.hour < 19), 0.12, 0.0)
    expect = np.minimum(2.2 * w.to_numpy() / 1000 + adder, 1.0) * 1.05
    np.testing.assert_allclose(p, expect, rtol=0, atol=1e-12)
    assert p.max() == pytest.approx(1.05) and p.min() < 0  # negative wholesale passes through


def test_german_dynamic_bill_is_sum_of_interval_costs_on_real_prices():
    from electricity_optimizer.ingest import read_epf
    de = read_epf(DATA / "epf/DE.csv", "DE").set_index("timestamp")["price"]
    t = Tariff("de dynamic", energy={"flat": 0.17}, wholesale_multiplier=1.0, vat=0.19, standing_per_month=10.0,
               timezone="Europe/Berlin")
    idx = month_index("2016-03", "Europe/Berlin", "15min")
    kwh = pd.Series(np.random.default_rng(1).uniform(0, 0.3, len(idx)), index=idx)
    a = amounts(t, kwh, wholesale=de)
    step = de.reindex(idx, method="ffill").to_numpy()
    net = float(np.sum(kwh.to_numpy() * (step / 1000 + 0.17)))
    assert a["energy:flat"] == Decimal(repr(net)).quantize(Decimal("0.01"))
    vat = (a["energy:flat"] + Decimal("10.00")) * Decimal("0.19")
    assert a["vat"] == vat.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")


def test_export_credit_by_period_and_errors():
    t = next(x for x in read_nz_catalog(TARIFFS / "nz_hamilton") if x.name == "Mercury FlexOpenTerm (standard)")
    idx = month_index("2024-01", "Pacific/Auckland", "30min")
    ep = export_prices(t, idx)
    assert set(ep.round(4)) == {0.1044, 0.0917}  # January (summer): peak and off-peak export rates
    a = amounts(t, pd.Series(0.0, index=idx), export_kwh=pd.Series(0.5, index=idx))
    # 1 kWh/h exported; peak 07:00-11:00 and 17:00-21:30 = 8.5 h x 31 days = 263.5 kWh, off-peak 480.5 kWh
    assert a["export:peak"] == Decimal("-27.51")  # 263.5 x 0.1044 = 27.5094
    assert a["export:offpeak"] == Decimal("-44.06")  # 480.5 x 0.0917 = 44.06185
    assert a["total"] == Decimal("101.96") - Decimal("27.51") - Decimal("44.06")  # 31 x 3.289 daily
    with pytest.raises(TariffError, match="export_kwh: index differs"):
        bill(t, pd.Series(0.0, index=idx), export_kwh=pd.Series(1.0, index=idx[:-1]))
    with pytest.raises(TariffError, match="is dynamic"):
        bill(Tariff("d", wholesale_multiplier=1.0), pd.Series(1.0, index=idx))


def test_annual_costs_equal_bill_totals_on_catalog():
    tariffs = read_nz_catalog(TARIFFS / "nz_hamilton")
    idx = pd.date_range("2024-01-01", "2025-01-01", freq="h", inclusive="left", tz="Pacific/Auckland").tz_convert("UTC")
    C = np.random.default_rng(0).gamma(2.0, 0.3, (3, len(idx)))
    for t in tariffs[::5]:
        got = annual_costs(t, C, idx)
        want = [float(annual(bill(t, pd.Series(c, index=idx))).loc["total", "amount"]) for c in C]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9)


_NZ = read_nz_catalog(TARIFFS / "nz_hamilton")
_URDB = [read_urdb(p, "America/Los_Angeles") for p in sorted((TARIFFS / "urdb").glob("*.json"))]
_IDX = pd.date_range("2024-03-25", periods=24 * 14, freq="h", tz="UTC")  # spans a month end and the EU DST change


@settings(max_examples=40, deadline=None)
@given(k=st.integers(0, len(_NZ) + len(_URDB) - 1), seed=st.integers(0, 2**31), extra=st.floats(0.001, 5.0),
       at=st.integers(0, len(_IDX) - 1))
def test_bill_never_decreases_when_consumption_increases(k, seed, extra, at):
    t = (_NZ + _URDB)[k]
    c = np.random.default_rng(seed).uniform(0, 2, len(_IDX))
    more = c.copy(); more[at] += extra
    a, b = annual_costs(t, np.vstack([c, more]), _IDX)
    assert b >= a


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), mult=st.floats(0.5, 3.0), adder=st.floats(0, 0.3))
def test_dynamic_bill_equals_sum_of_interval_costs(seed, mult, adder):
    rng = np.random.default_rng(seed)
    w = pd.Series(rng.normal(60, 40, len(_IDX)), index=_IDX)
    t = Tariff("dyn", energy={"f": adder}, wholesale_multiplier=mult)
    c = rng.uniform(0, 2, len(_IDX))
    got = annual_costs(t, c, _IDX, wholesale=w)[0]
    per_slot = c * import_prices(t, _IDX, w).to_numpy()
    months = _IDX.month
    want = sum(round(float(per_slot[months == m].sum()) + 1e-9, 2) for m in np.unique(months))
    assert got == pytest.approx(want, abs=0.011)
