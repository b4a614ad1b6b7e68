"""The real OPSD household: derived cycles and sessions match the meters, and a study on real prices behaves."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from electricity_optimizer.devices import KINDS, Appliance, EVSession, ThermalLoad, _Horizon
from electricity_optimizer.household import (
    appliance_cycles, ev_sessions, heat_pump_day, household_days, load_opsd, run_household_study, runs,
)
from electricity_optimizer.optimize import check_feasible
from electricity_optimizer.devices import Prices

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
HH, DE = DATA / "household" / "opsd_residential4_60min.csv", DATA / "epf" / "DE.csv"
pytestmark = pytest.mark.skipif(not (HH.exists() and DE.exists()), reason="real household data not available")


@pytest.fixture(scope="module")
def hh():
    return load_opsd(HH)


def test_meters_become_hourly_energy(hh):
    raw = pd.read_csv(HH, index_col=0)
    cum = raw["DE_KN_residential4_ev"]
    # the hour starting 11:00 UTC holds the reading at 12:00 minus the one at 11:00
    assert hh.ev["2016-01-13 11:00"] == pytest.approx(cum["2016-01-13T12:00:00Z"] - cum["2016-01-13T11:00:00Z"])
    gaps = cum.isna().sum()
    assert hh.ev.sum() <= cum.max() - cum.min() + 1e-6 and hh.ev.notna().sum() >= len(cum) - 2 * gaps - 2
    assert (hh.dropna() >= 0).all().all() and str(hh.index.tz) == "UTC"


def test_cycles_and_sessions_keep_the_measured_energy(hh):
    dw = appliance_cycles(hh.dishwasher, "dishwasher")
    cycles = [a for day in dw.values() for a in day]
    on = hh.dishwasher[hh.dishwasher > 0.05].sum()
    assert sum(sum(a.power_kw) for a in cycles) == pytest.approx(on, rel=1e-3)
    assert all(a.latest_finish - a.earliest_start >= pd.Timedelta("12h") for a in cycles)
    evs = [s for day in ev_sessions(hh.ev).values() for s in day]
    assert sum(s.energy_kwh / s.efficiency for s in evs) == pytest.approx(hh.ev[hh.ev > 0.05].sum(), rel=1e-3)
    for s in evs:  # every session can be served at the charger's power
        need = s.energy_kwh / (s.efficiency * s.max_power_kw)
        assert (s.departure - s.arrival) / pd.Timedelta("1h") >= need - 1e-9
    r = runs(pd.Series([0, 0.2, 0.3, 0, 0.4], pd.date_range("2016-01-01", periods=5, freq="h", tz="UTC")))
    assert r.hours.tolist() == [2, 1] and r.energy_kwh.tolist() == pytest.approx([0.5, 0.4])


def test_heat_pump_thermostat_uses_the_measured_energy(hh):
    for d in ("2016-01-20", "2016-05-10", "2016-07-10", "2016-10-30"):  # winter, summer, the 25-hour day
        lo, hi = pd.Timestamp(d, tz="Europe/Berlin"), pd.Timestamp(d, tz="Europe/Berlin") + pd.DateOffset(days=1)
        day = hh.heat_pump[lo:hi - pd.Timedelta("1h")].fillna(0)
        hp = heat_pump_day(day, lo, hi)
        if hp is None:  # no heating that day
            assert day.sum() <= 0.05
            continue
        idx = pd.date_range(lo.tz_convert("UTC"), hi.tz_convert("UTC") + pd.Timedelta("7h"), freq="15min", inclusive="left")
        hz = _Horizon(idx, pd.Timedelta("15min"))
        assert not KINDS[ThermalLoad].check(hp, hz)
        kw = KINDS[ThermalLoad].unmanaged(hp, hz)
        assert kw.sum() * 0.25 == pytest.approx(day.sum(), rel=0.02)
        assert kw[hp.active(hz):].max() == 0


def test_daily_problems_are_feasible_and_cover_dst(hh):
    days = household_days(hh.loc["2016-03-20":"2016-04-03"], step_min=15)
    by_day = {d: (devs, slots) for d, devs, slots in days}
    devs, slots = by_day[date(2016, 3, 27)]
    assert slots[0] == pd.Timestamp("2016-03-26 23:00", tz="UTC")  # local midnight, CET
    for d, devs, slots in days:
        check_feasible(Prices(pd.Series(0.3, slots)), devices=devs)


def test_study_on_real_prices(hh):
    df, met = run_household_study(HH, DE, start="2016-05-02", end="2016-05-15", step_min=30, progress=False)
    assert set(df.tariff) == {"dynamic", "tou", "flat"}
    tot = df[(df.device == "total") & (df.status == "ok")]
    assert len(tot) == 3 * 14
    worst = tot[["unmanaged", "rule", "forecast", "rolling"]].min(axis=1)
    assert (tot.perfect <= worst + 1e-3 * tot.unmanaged.abs().clip(lower=0.01)).all()  # within the MIP gap
    for t, m in met.items():
        assert m["days"] == 14 and m["cost_perfect"] <= m["cost_unmanaged"]
        assert set(m["by_device"]) >= {"heat_pump", "ev", "dishwasher"}
        assert sum(v["perfect"] for v in m["by_device"].values()) == pytest.approx(m["cost_perfect"], abs=0.02)
    assert met["flat"]["mean_daily_spread_kwh"] == 0 and met["dynamic"]["mean_daily_spread_kwh"] > 0
