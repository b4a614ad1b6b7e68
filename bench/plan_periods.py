"""Benchmark: pricing several forecasts' schedules over the same days, one `plan_period` each against one `plan_periods`.

The optimize stage compares every forecast model (`optimize.compare_forecasts`). The unmanaged and perfect-foresight
schedules do not depend on the forecast; `plan_periods` solves them once a day for all forecasts, where one
`plan_period` per forecast solved perfect foresight again for each. Both must give the same costs.

Prices: the real German day-ahead prices of the EPF file (2017-01-01 .. 2017-04-30, local time). Forecasts: the
weekly and daily seasonal naive ones and the actual prices with three seeds of Gaussian noise (sd 3, 6, 9 EUR/MWh),
six in all, as many as the pipeline compares. Devices: the dishwasher and EV of params.yaml. HiGHS, MIP gap 0.1%.

Run: .venv/bin/python bench/plan_periods.py [--repeats 3]   -> reports/benchmarks/plan_periods.json and .md
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd

from electricity_optimizer.config import load_params
from electricity_optimizer.household import epf_prices
from electricity_optimizer.optimize import plan_period, plan_periods
from electricity_optimizer.storage import write_json, write_text

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "reports" / "benchmarks"


def inputs(start="2017-01-01", end="2017-05-01"):
    "Actual prices (UTC-stamped hourly Series), the six forecasts and the devices of params.yaml."
    w = epf_prices(DATA / "epf" / "DE.csv")
    w = w[(w.index >= pd.Timestamp(start, tz="Europe/Berlin") - pd.Timedelta("8D")) & (w.index < pd.Timestamp(end, tz="Europe/Berlin"))]
    keep = w.index >= pd.Timestamp(start, tz="Europe/Berlin")
    rng = np.random.default_rng(0)
    fs = {"naive_weekly": w.shift(168), "naive_daily": w.shift(24),
          **{f"noise_{sd}": w + rng.normal(0, sd, len(w)) for sd in (3, 6, 9)}}
    fs["noise_3_bias"] = fs["noise_3"] + 2.0
    devices = {k: v.model_dump() for k, v in load_params(ROOT / "params.yaml").optimize.devices.items()}
    return w[keep], {k: f[keep] for k, f in fs.items()}, devices


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    actual, forecasts, devices = inputs()
    kw = dict(timezone="Europe/Berlin", solver="highs", mip_gap=1e-3, time_limit_s=30.0, progress=False)
    one_each, shared = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        alone = {k: plan_period(f, actual, devices, **kw) for k, f in forecasts.items()}
        one_each.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        together = plan_periods(forecasts, actual, devices, **kw)
        shared.append(time.perf_counter() - t0)
    cols = ["date", "device", "unmanaged", "forecast", "perfect", "status"]
    for k in forecasts: pd.testing.assert_frame_equal(alone[k][cols], together[k][cols])
    days = int((together["naive_weekly"]["device"] == "total").sum())
    res = {"command": "bench/plan_periods.py", "days": days, "forecasts": len(forecasts), "repeats": a.repeats,
           "median_s": {"plan_period_each": round(statistics.median(one_each), 2), "plan_periods": round(statistics.median(shared), 2)},
           "all_s": {"plan_period_each": [round(x, 2) for x in one_each], "plan_periods": [round(x, 2) for x in shared]},
           "ratio": round(statistics.median(shared) / statistics.median(one_each), 3), "same_costs": True}
    write_json(res, OUT / "plan_periods.json")
    m = res["median_s"]
    write_text(f"""# Pricing {len(forecasts)} forecasts' schedules over the same {days} days

Command: `.venv/bin/python bench/plan_periods.py --repeats {a.repeats}` (real German day-ahead prices 2017-01-01 .. 2017-04-30;
dishwasher and EV of params.yaml; HiGHS, MIP gap 0.1%). Both ways give the same costs (checked).

| way | median wall s | runs |
| --- | --- | --- |
| `plan_period` once per forecast (perfect foresight solved {len(forecasts)} times a day) | {m['plan_period_each']} | {', '.join(map(str, res['all_s']['plan_period_each']))} |
| `plan_periods` (perfect foresight solved once a day) | {m['plan_periods']} | {', '.join(map(str, res['all_s']['plan_periods']))} |

Ratio of the medians: {res['ratio']}. The machine is shared, so the absolute times are noisy; both ways ran in the same process, alternating.
""", OUT / "plan_periods.md")
    print(res)


if __name__ == "__main__":
    main()
