"""Benchmark: LEAR's calibration (the shared-Gram lasso path against the toolbox's per-hour scikit-learn calls) and `--jobs`.

One LEAR fit is 24 per-hour lassos, each with its penalty chosen by the Akaike criterion on the LARS path.
`lear._lasso_aic` computes the Gram matrix once for the 24 hours and runs LARS and coordinate descent on it. The
toolbox's way is, for each hour, `LassoLarsIC(criterion="aic")` for the penalty and then `Lasso(alpha)` on the data
(here on unit-length columns with the target's variance as noise variance: the scikit-learn < 1.2 criterion its
published numbers used, which `lars_normalize=True` reproduces). Both run inside the same `LEAR.fit` (its rows, scaling
and prediction), only the solver swapped, on the calibration window before the first test day of the market's EPF
file, for each of the benchmark's windows (56, 84, 1092, 1456 days). Reported:
the median time of each, their ratio, and how far their penalties and next-day forecasts differ. The regressors of
every day are built once per series (`lear_design`) and shared by every window and every day; their build time is
reported beside a fit.

Then the daily recalibration of the four windows over the first `--days` test days: `forecast_models` in this process
(`jobs=1`) against two spawned processes (`jobs=2`, one BLAS thread each, as `eo bench forecast --jobs 2` runs them):
median wall time, ratio, and whether the forecasts are identical.

Run: EO_DATA_MIRROR=../shared/data .venv/bin/python bench/lear.py [--market DE] [--repeats 5] [--days 14]
     -> reports/benchmarks/lear.json and .md
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from unittest.mock import patch

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LassoLarsIC
from threadpoolctl import threadpool_limits

from electricity_optimizer import lear
from electricity_optimizer.benchmark import benchmark_days, benchmark_models, forecast_models
from electricity_optimizer.features import build_features
from electricity_optimizer.ingest import fetch_epf, mirror_from_env
from electricity_optimizer.lear import LEAR, LEAR_WINDOWS, lear_design
from electricity_optimizer.storage import write_json, write_text

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "reports" / "benchmarks"


def toolbox_fit(Z, V, max_iter: int = 2500, lars_normalize: bool = True):
    "`lear._lasso_aic`'s contract, the toolbox's way: per hour `LassoLarsIC(criterion='aic')` on unit-length columns for the penalty, then `Lasso(alpha)` on the data."
    Zn = Z - Z.mean(axis=0)
    norm = np.linalg.norm(Zn, axis=0)
    Zn = Zn / np.where(norm > 0, norm, 1.0)
    coef, intercept, alpha = np.zeros((V.shape[1], Z.shape[1])), np.zeros(V.shape[1]), np.zeros(V.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for h in range(V.shape[1]):
            alpha[h] = LassoLarsIC(criterion="aic", max_iter=max_iter, noise_variance=np.var(V[:, h])).fit(Zn, V[:, h]).alpha_
            m = Lasso(alpha=alpha[h], max_iter=max_iter).fit(Z, V[:, h])
            coef[h], intercept[h] = m.coef_, m.intercept_
    return coef, intercept, alpha


def timed(fn, repeats: int):
    out, times = None, []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--market", default="DE")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--days", type=int, default=14, help="test days recalibrated daily in the --jobs comparison")
    a = ap.parse_args()
    ds = build_features(fetch_epf(a.market, mirror_from_env(None)), a.market)
    days = benchmark_days(ds)
    lear._LAST.clear()
    _, t_design = timed(lambda: (lear._LAST.clear(), lear_design(ds)), a.repeats)
    fits = {}
    with threadpool_limits(1):  # one core each, as every LEAR fit of the benchmark runs
        for w in LEAR_WINDOWS:  # the same `LEAR.fit` (rows, scaling, prediction), only its solver swapped
            ours, t_ours = timed(lambda: LEAR(w).fit(ds, days[0]), a.repeats)
            with patch.object(lear, "_lasso_aic", toolbox_fit):
                ref, t_ref = timed(lambda: LEAR(w).fit(ds, days[0]), a.repeats)
            f1, f2 = ours.predict(ds, days[0]), ref.predict(ds, days[0])
            fits[w] = {"rows": ours.n_samples_, "regressors": ours.coef_.shape[1], "ours_s": statistics.median(t_ours),
                       "toolbox_s": statistics.median(t_ref), "speedup": statistics.median(t_ref) / statistics.median(t_ours),
                       "alpha_max_rel_diff": float(np.max(np.abs(ours.alpha_ - ref.alpha_) / np.maximum(np.abs(ref.alpha_), 1e-12))),
                       "forecast_max_abs_diff": float(np.max(np.abs(f1 - f2)))}
            print(f"LEAR_{w}: {fits[w]['ours_s']:.3f} s against {fits[w]['toolbox_s']:.3f} s ({fits[w]['speedup']:.1f}x)", flush=True)
    block = days[: a.days]
    models = benchmark_models(["LEAR"])
    walls, preds = {1: [], 2: []}, {}
    for _ in range(a.repeats if a.repeats < 3 else 3):
        for jobs in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                p, _ = forecast_models(ds, models, block, Path(tmp), progress=False, jobs=jobs, blas_threads=1)
                walls[jobs].append(time.perf_counter() - t0)
            preds[jobs] = p
            print(f"jobs={jobs}: {walls[jobs][-1]:.1f} s", flush=True)
    same = all(np.array_equal(preds[1][n], preds[2][n]) for n in preds[1])
    res = {
        "market": a.market, "first_test_day": str(days[0].date()), "repeats": a.repeats, "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(), "design_build_s": statistics.median(t_design), "fits": {str(w): f for w, f in fits.items()},
        "daily": {"days": a.days, "models": list(models), "wall_s": {str(j): statistics.median(v) for j, v in walls.items()},
                  "runs": {str(j): v for j, v in walls.items()},
                  "speedup": statistics.median(walls[1]) / statistics.median(walls[2]), "identical": same},
    }
    write_json(res, OUT / "lear.json")
    rows = "\n".join(f"| LEAR_{w} | {f['rows']} x {f['regressors']} | {f['ours_s']:.3f} | {f['toolbox_s']:.3f} | {f['speedup']:.1f} | "
                     f"{f['alpha_max_rel_diff']:.1e} | {f['forecast_max_abs_diff']:.1e} |" for w, f in fits.items())
    d = res["daily"]
    write_text(f"""# LEAR calibration ({a.market}, the windows before {res['first_test_day']})

`bench/lear.py --market {a.market} --repeats {a.repeats} --days {a.days}`, on {res['cores']} cores; medians of {a.repeats} runs,
one BLAS thread. One fit = the 24 per-hour lassos of one day. "toolbox": per hour `LassoLarsIC(criterion="aic")` then
`Lasso(alpha)`, as the published benchmark's code calls them; "shared Gram": `lear._lasso_aic`.

| model | rows x regressors | shared Gram s | toolbox s | speed-up | penalty, max rel. diff | next-day forecast, max abs diff |
| --- | --- | --- | --- | --- | --- | --- |
{rows}

The regressors of every day are built once per series (`lear_design`, {res['design_build_s']:.3f} s) and shared by every window and day.

## Daily recalibration, `--jobs`

The four windows recalibrated before each of the first {a.days} test days (`forecast_models`, {len(walls[1])} runs each):
{d['wall_s']['1']:.1f} s in one process, {d['wall_s']['2']:.1f} s in two (speed-up {d['speedup']:.2f}); forecasts identical: {'yes' if same else 'no'}.
""", OUT / "lear.md")
    print((OUT / "lear.md").read_text())


if __name__ == "__main__":
    main()
