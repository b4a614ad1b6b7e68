"""Switching: the NZ catalog ranked for real-shaped households, dynamic tariffs over real price years, exit fees."""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from electricity_optimizer.features import clock_series
from electricity_optimizer.ingest import read_epf
from electricity_optimizer.profiles import h25_profile, local_year, read_opsd_household
from electricity_optimizer.switching import (Household, compare, decide, exit_fee_due, price_scenarios, run_switching,
                                             shift_load)
from electricity_optimizer.tariff_readers import read_nz_catalog
from electricity_optimizer.tariffs import Tariff, annual, annual_costs, bill, import_prices

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NZ = read_nz_catalog(DATA / "tariffs" / "nz_hamilton")
BY = {t.name: t for t in NZ}


def nz_household(kwh: float) -> Household:
    "BDEW H25 shape moved 26 weeks (southern hemisphere seasons), in NZ time, scaled to `kwh` a year."
    p = h25_profile(2024, kwh, "Pacific/Auckland", holidays_country=None)
    return Household(f"{kwh:.0f} kWh", pd.Series(np.roll(p.to_numpy(), 26 * 7 * 96), index=p.index))


def test_nz_month_ranking_by_hand():
    start = pd.Timestamp("2024-07-01", tz="Pacific/Auckland")
    idx = pd.date_range(start, start + pd.offsets.MonthBegin(1), freq="h", inclusive="left").tz_convert("UTC")
    h = Household("flat 1 kW", pd.Series(1.0, index=idx))
    # by hand, July 2024 (744 h, 23 weekdays):
    basic = Decimal("224.94") + Decimal("89.09")  # 744 x 0.30234 = 224.941; 31 x 2.874 = 89.094
    nights = Decimal("241.41") + Decimal("96.22")  # (744 - 69 free) x 0.35765 = 241.414; 31 x 3.104 = 96.224
    # GoodWeekends: July 2024 has 8 weekend days with 09:00-17:00 free: 744 - 64 = 680 kWh x 0.3174 = 215.832
    weekends = Decimal("215.83") + Decimal("99.85")  # 31 x 3.221 = 99.851
    names = ["Contact BasicPlan (standard)", "Contact GoodNights (standard)", "Contact GoodWeekends (standard)"]
    for n, want in zip(names, [basic, nights, weekends]):
        assert annual(bill(BY[n], h.consumption)).loc["total", "amount"] == want
    table = compare(BY[names[1]], [BY[names[0]], BY[names[2]]], h)
    order = table.sort_values("cost_p50").tariff.tolist()
    assert order == [names[0], names[2], names[1]]  # 314.03 < 315.68 < 337.63
    assert table.set_index("tariff").loc[names[0], "saving_p50"] == pytest.approx(float(nights - basic))


@pytest.mark.parametrize("kwh,variant", [(9000, "standard"), (5000, "low")])
def test_nz_catalog_ranked_for_household(kwh, variant):
    h = nz_household(kwh)
    current = BY["Contact BasicPlan (standard)"]
    d = decide(current, NZ, h, margin=50.0, today=dt.date(2026, 7, 1))
    r = d.ranking
    assert len(r) == len(NZ) and r.current.sum() == 1
    costs = {t.name: annual_costs(t, h.consumption.to_numpy(), h.consumption.index)[0] for t in NZ}
    eligible = r[r.eligible]
    # ranked by saving = cost order among eligible plans
    credit = {t.name: t.signup_credit for t in NZ}
    assert eligible.tariff.tolist() == sorted(eligible.tariff, key=lambda n: costs[n] - credit[n])  # first-year value
    if variant == "standard":
        assert not r[r.tariff.str.endswith("(low)")].eligible.any()
        assert set(r[~r.eligible].why_not.str.split(" ").str[0]) == {"uses", "requires"}
    else:
        assert r[r.eligible & ~r.current].iloc[0].tariff.endswith("(low)")  # low daily charges win at 5,000 kWh
    assert d.action in ("switch", "stay") and d.reasons
    if d.action == "switch":
        best = r[r.eligible & ~r.current].iloc[0]
        assert d.tariff == best.tariff and best.saving_mean + best.signup_credit > 50


def test_shifting_lowers_cost_on_time_of_use_only():
    h = nz_household(7000)
    tou, flat = BY["Octopus Peaker (standard)"], BY["Contact BasicPlan (standard)"]
    t = compare(flat, [tou], h).set_index("tariff")
    assert t.loc[tou.name, "shifted_p50"] < t.loc[tou.name, "cost_p50"]
    assert t.loc[flat.name, "shifted_p50"] == pytest.approx(t.loc[flat.name, "cost_p50"])
    s = shift_load(h.consumption, import_prices(tou, h.consumption.index), 0.1, 4, tou.timezone)
    assert s.sum() == pytest.approx(h.consumption.sum())


@pytest.fixture(scope="module")
def de_case():
    prices = clock_series(read_epf(DATA / "epf/DE.csv", "DE").set_index("timestamp")["price"], "Europe/Berlin", 1)
    imp = local_year(read_opsd_household(DATA / "household/opsd_residential4_60min.csv"), 2016)
    h = Household("DE_KN_residential4", imp, features={"solar_kw": 10})
    scen = price_scenarios(prices, imp.index, [2013, 2014, 2015, 2016, 2017])
    fixed = Tariff("DE fixed", energy={"flat": 0.2647}, vat=0.19, standing_per_month=10.0, timezone="Europe/Berlin", currency="EUR",
                   contract_months=12, exit_fee=60.0, exit_window_days=30, contract_start=dt.date(2016, 3, 1))
    dyn = Tariff("DE dynamic", energy={"flat": 0.185}, wholesale_multiplier=1.0, vat=0.19, standing_per_month=12.0,
                 timezone="Europe/Berlin", currency="EUR")
    return h, scen, fixed, dyn


def test_dynamic_tariff_over_real_price_years(de_case):
    h, scen, fixed, dyn = de_case
    assert len(scen) == 5 and all(s.notna().all() for s in scen.values())
    row = compare(fixed, [dyn], h, scen).set_index("tariff").loc["DE dynamic"]
    assert row.cost_p10 < row.cost_p50 < row.cost_p90  # real years differ
    w = scen["2016"]
    interval = (h.consumption * import_prices(dyn, h.consumption.index, w)).sum()
    standing = 12 * 12.0 * 1.19
    assert annual_costs(dyn, h.consumption.to_numpy(), h.consumption.index, wholesale=w)[0] == pytest.approx(interval + standing, abs=0.2)
    assert row.shifted_p50 < row.cost_p50


def test_exit_fee_window_and_decision(de_case):
    h, scen, fixed, dyn = de_case
    assert exit_fee_due(fixed, dt.date(2016, 6, 1)) == (60.0, dt.date(2017, 1, 30))
    assert exit_fee_due(fixed, dt.date(2017, 1, 30)) == (0.0, dt.date(2017, 1, 30))
    rank, m = run_switching(fixed, [dyn], h, scen, margin=10.0, today=dt.date(2016, 6, 1))
    assert set(m) >= {"action", "recommended", "expected_saving", "p10_saving", "p90_saving", "break_even_months", "exit_fee", "reasons"}
    assert m["exit_fee"] == 60.0 and m["scenarios"] == 5
    assert m["action"] in ("switch", "wait", "stay")
    if m["expected_saving"] > 0:
        assert m["break_even_months"] == pytest.approx(60.0 / (m["expected_saving"] / 12), abs=0.1)
    late = decide(fixed, [dyn], h, scen, margin=10.0, today=dt.date(2017, 2, 1))
    assert late.exit_fee == 0.0
    huge = decide(fixed, [dyn], h, scen, margin=1e6, today=dt.date(2017, 2, 1))
    assert huge.action == "stay" and any("within the margin" in r for r in huge.reasons)
