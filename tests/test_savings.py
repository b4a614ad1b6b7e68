"""Five schedules compared: every schedule meets every device constraint, optimizing never loses, rolling keeps commitments."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from electricity_optimizer.devices import (
    KINDS, Appliance, Battery, EVSession, FixedLoad, InfeasibleError, Prices, ThermalLoad, _Horizon, battery_soc,
    resample_profile, thermal_temperature,
)
from electricity_optimizer.optimize import Grid, build_model, check_feasible, extract, fix_before, household_costs, solve
from electricity_optimizer.savings import (
    SCHEDULES, compare_period, compare_schedules, known_until, rolling_schedule, summarize_savings,
)

TOL = 1e-6


def assert_valid(s: pd.DataFrame, devices, tol=TOL):
    "Independent check of a schedule against every device's constraints."
    idx = s.index
    step = idx[1] - idx[0]
    hz = _Horizon(idx, step)
    h = hz.step_h
    for d in devices:
        x = s[d.name].to_numpy()
        if isinstance(d, Appliance):
            prof = resample_profile(d.power_kw, d.step_min, hz.step_min)
            assert abs(x.sum() * h - d.cycles * sum(d.power_kw) * d.step_min / 60) < tol, f"{d.name}: energy"
            starts, rest = [], x.copy()
            for t in range(len(x)):  # peel cycles off from the left
                if rest[t] > tol and t + len(prof) <= len(x) and np.allclose(rest[t:t + len(prof)], prof, atol=tol):
                    starts.append(t); rest[t:t + len(prof)] -= prof
            assert len(starts) == d.cycles and np.abs(rest).max() < 1e-5, f"{d.name}: not {d.cycles} whole cycles"
            for t in starts:
                assert idx[t] >= d.earliest_start and idx[t] + d.duration <= d.latest_finish, f"{d.name}: outside its window"
        elif isinstance(d, EVSession):
            inside = (idx >= d.arrival) & (idx + step <= d.departure)
            assert np.abs(x[~inside]).max(initial=0) <= tol, f"{d.name}: charges outside its window"
            assert (x >= -tol).all() and (x <= d.max_power_kw + tol).all(), f"{d.name}: power out of bounds"
            if d.min_power_kw > 0:
                assert not ((x > tol) & (x < d.min_power_kw - tol)).any(), f"{d.name}: below min power"
            got = x.sum() * h * d.efficiency
            if d.value_kwh > 0:
                assert got <= d.energy_kwh + tol
            else:
                assert abs(got - d.energy_kwh) <= tol * max(1, d.energy_kwh), f"{d.name}: energy"
        elif isinstance(d, Battery):
            assert (x <= d.charge_kw + tol).all() and (x >= -d.discharge_kw - tol).all(), f"{d.name}: power"
            soc = battery_soc(d, x, h)
            assert (soc >= d.soc_min_kwh - 1e-5).all() and (soc <= d.soc_max_kwh + 1e-5).all(), f"{d.name}: SoC bounds"
            assert soc[-1] >= d.soc_end_kwh - 1e-5, f"{d.name}: end SoC"
        elif isinstance(d, ThermalLoad):
            n = d.active(hz)
            assert (x >= -tol).all() and (x <= d.max_power_kw + tol).all() and np.abs(x[n:]).max(initial=0) <= tol
            temp = thermal_temperature(d, x, hz)
            assert (temp >= d.t_min_c - 1e-5).all() and (temp <= d.t_max_c + 1e-5).all(), f"{d.name}: comfort band"
            assert temp[-1] >= d.t_end_c - 1e-5, f"{d.name}: end temperature"
        elif isinstance(d, FixedLoad):
            np.testing.assert_allclose(x, d.profile(hz), atol=tol)


@st.composite
def households(draw):
    "A random small household day: prices (actual and forecast, import and export), and devices that fit."
    step_min = draw(st.sampled_from([15, 30, 60]))
    n = draw(st.integers(6, 16))
    start = pd.Timestamp("2016-01-05 00:00", tz="UTC") + pd.Timedelta(hours=draw(st.integers(0, 23)))
    idx = pd.date_range(start, periods=n, freq=f"{step_min}min")
    step, end = pd.Timedelta(minutes=step_min), idx[-1] + pd.Timedelta(minutes=step_min)
    cents = st.lists(st.integers(-5, 60), min_size=n, max_size=n)
    imp_a, imp_f = np.array(draw(cents)) / 100, np.array(draw(cents)) / 100
    exp_a = np.minimum(imp_a, 0.08) if draw(st.booleans()) else np.array(draw(cents)) / 100  # sometimes export pays more
    peak = draw(st.sampled_from([0.0, 0.0, 0.1]))
    actual = Prices(pd.Series(imp_a, idx), pd.Series(exp_a, idx), peak)
    forecast = Prices(pd.Series(imp_f, idx), pd.Series(exp_a, idx), peak)
    devs = []
    power = draw(st.lists(st.floats(0.1, 3.0).map(lambda x: round(x, 3)), min_size=1, max_size=2))
    prof_step = draw(st.sampled_from([15, 30, 60]))
    slots = math.ceil(prof_step * len(power) / step_min)
    cycles = draw(st.integers(1, 2))
    assume(cycles * slots <= n)
    i = draw(st.integers(0, n - cycles * slots))
    devs.append(Appliance("app", power, idx[i], min(end, idx[i] + (cycles * slots + draw(st.integers(0, n))) * step), prof_step, cycles))
    a = draw(st.integers(0, n - 1)); d = draw(st.integers(a + 1, n))
    pmax = draw(st.floats(1.0, 7.4).map(lambda x: round(x, 2)))
    value = draw(st.sampled_from([0.0, 0.0, 0.2]))
    energy = round(draw(st.floats(0, 1)) * pmax * (d - a) * step / pd.Timedelta("1h") * 0.9, 3)
    devs.append(EVSession("ev", idx[a], idx[d - 1] + step, energy, pmax, draw(st.sampled_from([0.0, round(0.4 * pmax, 2)])), 0.9, value))
    if draw(st.booleans()):
        cap = draw(st.floats(2.0, 10.0).map(lambda x: round(x, 2)))
        init = round(draw(st.floats(0, 1)) * cap, 2)
        devs.append(Battery("battery", cap, round(cap / 2, 2), round(cap / 2, 2), draw(st.sampled_from([0.81, 0.9, 1.0])), init,
                            degradation_kwh=draw(st.sampled_from([0.0, 0.02]))))
    if draw(st.booleans()):
        out = pd.Series(np.linspace(-5, 10, n) + draw(st.floats(-5, 5)), idx)
        devs.append(ThermalLoad("heat_pump", out, 10.0, 5.0, 3.0, 20.0, 22.0, 20.5, 3.0))
    if draw(st.booleans()):
        devs.append(FixedLoad("base", pd.Series(draw(st.lists(st.floats(0, 2), min_size=n, max_size=n)), idx)))
        devs.append(FixedLoad("pv", pd.Series(draw(st.lists(st.floats(0, 5), min_size=n, max_size=n)), idx), pv=True))
    try:
        check_feasible(actual, devices=devs)
    except InfeasibleError:
        assume(False)
    return forecast, actual, devs


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(households(), st.sampled_from(["01:00", "05:00"]))
def test_every_schedule_is_valid_and_optimizing_never_loses(case, timer):
    forecast, actual, devs = case
    r = compare_schedules(forecast, actual, devs, timer=timer, timezone="UTC", mip_gap=0.0)
    for key in ("forecast", "rolling", "perfect"):
        assert_valid(r["schedules"][key], devs)
    for key in ("unmanaged", "rule"):  # a thermostat may break the band where only pre-heating would have helped
        try:
            assert_valid(r["schedules"][key], devs)
        except AssertionError:
            assume(False)
    t = r["costs"].loc["total"]
    assert t["perfect"] <= t["unmanaged"] + TOL and t["perfect"] <= t["rule"] + TOL
    assert t["perfect"] <= t["forecast"] + TOL and t["perfect"] <= t["rolling"] + TOL
    assert r["costs"].drop(index="total")[list(SCHEDULES)].sum().to_numpy() == pytest.approx(r["costs"].loc["total", list(SCHEDULES)].to_numpy(), abs=1e-9)
    fixed_bill = household_costs(r["schedules"]["perfect"], actual, devs)
    assert fixed_bill["total"] == pytest.approx(t["perfect"], abs=1e-9)


def _shift(d, by):
    "The same device a day later."
    out = {}
    for f in dataclasses.fields(d):
        v = getattr(d, f.name)
        out[f.name] = v + by if isinstance(v, pd.Timestamp) else v.shift(freq=by) if isinstance(v, pd.Series) else v
    return type(d)(**out)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(households())
def test_shifting_the_time_axis_by_a_day_changes_nothing(case):
    forecast, actual, devs = case
    day = pd.Timedelta("1D")
    sh = lambda p: Prices(p.import_kwh.shift(freq=day), p.export_kwh.shift(freq=day), p.peak_kw)
    a = compare_schedules(forecast, actual, devs, timezone="UTC", mip_gap=0.0)["costs"]
    b = compare_schedules(sh(forecast), sh(actual), [_shift(d, day) for d in devs], timezone="UTC", mip_gap=0.0)["costs"]
    cols = list(SCHEDULES)
    np.testing.assert_allclose(b.loc["total", cols].to_numpy(float), a.loc["total", cols].to_numpy(float), atol=1e-6)


def test_known_until_follows_publication():
    t = pd.Timestamp("2016-10-29 14:00", tz="Europe/Berlin")  # the next day has 25 hours
    assert known_until(t) == pd.Timestamp("2016-10-31 00:00", tz="Europe/Berlin")
    assert known_until(t, publish="15:00") == pd.Timestamp("2016-10-30 00:00", tz="Europe/Berlin")


def test_rolling_keeps_committed_decisions_and_uses_new_prices():
    idx = pd.date_range("2016-01-04 23:00", periods=40, freq="h", tz="UTC")  # local midnight .. 16:00 next day
    day1 = np.r_[np.full(13, 70.0), np.full(11, 60.0)]; day1[2] = 20.0
    act = pd.Series(np.r_[day1, np.full(16, 5.0)], idx)
    fc = pd.Series(np.r_[day1, np.full(16, 100.0)], idx)
    ev = EVSession("ev", idx[0], idx[-1] + pd.Timedelta("1h"), 3.0, 1.0, efficiency=1.0)
    dw = Appliance("dw", [1.0, 1.0], idx[4], idx[-1] + pd.Timedelta("1h"))
    s, solves = rolling_schedule(fc, act, [ev, dw])
    assert len(solves) == 2
    assert s["ev"].iloc[2] == pytest.approx(1.0)  # charged at 01:00 local before the new prices came
    assert s["ev"].iloc[24:].sum() == pytest.approx(2.0)  # the rest moved to the cheap second day
    assert s["dw"].iloc[24:].sum() == pytest.approx(2.0)  # the dishwasher had not started: it moved too
    assert_valid(s, [ev, dw])
    m1 = build_model(pd.Series(fc.to_numpy(), idx), [dw], [ev]); solve(m1)
    m2 = build_model(pd.Series(act.to_numpy(), idx), [dw], [ev]); fix_before(m2, m1, 30); solve(m2)
    np.testing.assert_allclose(extract(m2).iloc[:30, :2], extract(m1).iloc[:30, :2], atol=1e-7)


def test_period_and_summaries():
    idx = pd.date_range("2016-01-04 23:00", periods=72, freq="h", tz="UTC")
    w = pd.Series(40 + 30 * np.sin(np.arange(72) / 3.0), idx)
    days = []
    for k in range(2):
        sl = idx[24 * k:24 * k + 31]
        days.append((pd.Timestamp(sl[1]).date(), [Appliance("dishwasher", [1.1], sl[8], sl[23]),
                                                   EVSession("ev", sl[18], sl[30], 8.0, 3.7)], sl))
    per = compare_period(days + [(idx[-1].date(), [], pd.date_range(idx[-1], periods=10, freq='h'))], Prices.per_mwh(w * 1.1), Prices.per_mwh(w), progress=False)
    tot = per[per.device == "total"]
    assert list(tot.status[:2]) == ["ok", "ok"] and tot.status.iloc[-1].startswith("skipped")
    s = summarize_savings(per)
    assert s["days"].iloc[0] == 2
    dev = summarize_savings(per, by="device")
    assert dev[list(SCHEDULES)].sum().to_numpy() == pytest.approx(s[list(SCHEDULES)].iloc[0].to_numpy())
    assert (summarize_savings(per, by="month").index == ["2016-01"]).all()


def test_grid_limit_shapes_the_plan():
    idx = pd.date_range("2016-01-05", periods=4, freq="h", tz="UTC")
    p = Prices(pd.Series([0.1, 0.3, 0.3, 0.3], idx))
    ev = EVSession("ev", idx[0], idx[-1] + pd.Timedelta("1h"), 6.0, 6.0, efficiency=1.0)
    base = FixedLoad("base", pd.Series(1.0, idx))
    m = build_model(p, evs=[ev], devices=[base], grid=Grid(import_max_kw=4.0)); solve(m, mip_gap=0)
    x = extract(m)["ev"]
    assert x.iloc[0] == pytest.approx(3.0) and x.sum() == pytest.approx(6.0) and x.max() <= 3.0 + 1e-7
    with pytest.raises(InfeasibleError, match="inflexible load needs 1.00 kW .* import_max_kw is 0.5"):
        build_model(p, devices=[base], grid=Grid(import_max_kw=0.5))
