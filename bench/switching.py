"""Tariff engine benchmark: one household-year on the whole catalog, and a 10,000-household portfolio.

    .venv/bin/python bench/switching.py                       # defaults: 7 repeats, 10,000 households x 10 tariffs
    .venv/bin/python bench/switching.py --households 1000      # a smaller portfolio (cost probe)

1. A household-year of 35,040 quarter-hours (BDEW H25, 2023, NZ time) billed, itemized to the cent, on every
   plan of the NZ catalog (median of --repeats runs); the same on the matrix path (`annual_costs`).
2. --households synthetic households (H25 shape x a lognormal annual consumption x hourly noise, generated
   inside each task from a seed) x 10 catalog tariffs, annual cost of each pair: on a local process pool of
   --workers processes, then on a dask.distributed LocalCluster on loopback with as many single-threaded
   workers, mapping the same task function (the engine code is unchanged).

Writes reports/benchmarks/switching.json and .md.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(ROOT))
from electricity_optimizer.profiles import h25_profile  # noqa: E402
from electricity_optimizer.storage import write_json, write_text  # noqa: E402
from electricity_optimizer.tariff_readers import read_nz_catalog  # noqa: E402
from electricity_optimizer.tariffs import annual, annual_costs, bill  # noqa: E402

CATALOG = ROOT.parent / "shared" / "data" / "tariffs" / "nz_hamilton"
TZ = "Pacific/Auckland"


def base_profile() -> pd.Series:
    "One NZ household-year: H25 in NZ time, moved 26 weeks for southern seasons, 1 kWh in all."
    p = h25_profile(2023, 1.0, TZ, holidays_country=None)
    return pd.Series(np.roll(p.to_numpy(), 26 * 7 * 96), index=p.index)


def portfolio_task(seed: int, n: int, tariffs: list, shape: np.ndarray, index: pd.DatetimeIndex) -> np.ndarray:
    "Annual cost (n households x tariffs) of `n` synthetic households drawn from `seed`."
    rng = np.random.default_rng(seed)
    kwh = rng.lognormal(np.log(7000), 0.35, n)  # annual consumption
    noise = rng.gamma(8.0, 1 / 8.0, (n, len(shape)))  # slot-level variation around the standard shape, mean 1
    C = shape[None, :] * noise
    C *= (kwh / C.sum(axis=1))[:, None]
    return np.column_stack([annual_costs(t, C, index) for t in tariffs])


def run_local(tasks, workers, tariffs, shape, index):
    from concurrent.futures import ProcessPoolExecutor
    t0 = time.perf_counter()
    with ProcessPoolExecutor(workers) as ex:
        out = list(ex.map(portfolio_task, *zip(*[(s, n, tariffs, shape, index) for s, n in tasks])))
    return np.vstack(out), time.perf_counter() - t0


def run_dask(tasks, workers, tariffs, shape, index, tries: int = 3):
    for i in range(tries):  # a worker process occasionally fails to start on a loaded machine: start the cluster again
        try:
            return _run_dask(tasks, workers, tariffs, shape, index)
        except RuntimeError as e:
            if i == tries - 1 or "failed to start" not in str(e): raise
            print(f"dask cluster did not start ({e}); retrying", file=sys.stderr)


def _run_dask(tasks, workers, tariffs, shape, index):
    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, memory_limit="3GiB") as cluster, Client(cluster) as client:
        client.wait_for_workers(workers)
        shared = client.scatter([tariffs, shape, index], broadcast=True)
        t0 = time.perf_counter()
        futs = client.map(portfolio_task, [s for s, _ in tasks], [n for _, n in tasks], *[[x] * len(tasks) for x in shared], pure=False)
        out = client.gather(futs)
        wall = time.perf_counter() - t0
    return np.vstack(out), wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--households", type=int, default=10_000)
    ap.add_argument("--tariffs", type=int, default=10)
    ap.add_argument("--chunk", type=int, default=250, help="households per task")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out-dir", default=str(ROOT / "reports" / "benchmarks"))
    a = ap.parse_args(argv)

    cat = read_nz_catalog(CATALOG)
    prof = base_profile() * 7000.0
    assert len(prof) == 35_040
    idx = prof.index

    def itemized():
        return [annual(bill(t, prof)).loc["total", "amount"] for t in cat]
    def matrix():
        return [annual_costs(t, prof.to_numpy(), idx)[0] for t in cat]
    itemized(); matrix()  # warm the calendar cache and imports
    runs_b, runs_m = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter(); totals = itemized(); runs_b.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); mtot = matrix(); runs_m.append(time.perf_counter() - t0)
    assert np.allclose([float(x) for x in totals], mtot, atol=1e-9)

    tariffs = [t for t in cat if t.variant == "standard"][: a.tariffs]
    shape = (prof / prof.sum()).to_numpy()
    tasks = [(i, min(a.chunk, a.households - i * a.chunk)) for i in range(-(-a.households // a.chunk))]
    local, local_wall = run_local(tasks, a.workers, tariffs, shape, idx)
    dist, dask_wall = run_dask(tasks, a.workers, tariffs, shape, idx)
    assert local.shape == (a.households, len(tariffs)) and np.array_equal(local, dist)

    res = {
        "bill_year_all_tariffs_s": round(statistics.median(runs_b), 4),
        "bill_year_all_tariffs_runs_s": [round(x, 4) for x in runs_b],
        "annual_costs_year_all_tariffs_s": round(statistics.median(runs_m), 4),
        "tariffs": len(cat),
        "slots": len(prof),
        "portfolio": {"households": a.households, "tariffs": len(tariffs), "slots": len(idx), "chunk": a.chunk,
                      "local_wall_s": round(local_wall, 2), "dask_wall_s": round(dask_wall, 2), "dask_workers": a.workers,
                      "local_workers": a.workers, "pairs_per_s_local": round(a.households * len(tariffs) / local_wall, 1),
                      "mean_annual_cost": round(float(local.mean()), 2), "identical_results": True},
        "cpu_count": os.cpu_count(),
        "command": ("python bench/switching.py " + " ".join(argv if argv is not None else sys.argv[1:])).strip(),
    }
    out = Path(a.out_dir)
    write_json(res, out / "switching.json")
    p = res["portfolio"]
    md = f"""# Tariff engine benchmark

Command: `.venv/bin/python bench/switching.py {' '.join(argv if argv is not None else sys.argv[1:])}` on {os.cpu_count()} cores.

| measurement | value |
| --- | --- |
| one household-year ({len(prof):,} quarter-hours), itemized bills on all {len(cat)} NZ catalog plans, median of {a.repeats} | {res['bill_year_all_tariffs_s']:.3f} s (target < 0.5 s) |
| the same, annual totals only (`annual_costs`) | {res['annual_costs_year_all_tariffs_s']:.3f} s |
| portfolio: {p['households']:,} households x {p['tariffs']} tariffs, {len(idx):,} slots each, local process pool ({a.workers} workers) | {p['local_wall_s']:.1f} s ({p['pairs_per_s_local']:.0f} household-tariff years/s) |
| the same on dask.distributed LocalCluster (loopback, {a.workers} workers x 1 thread) | {p['dask_wall_s']:.1f} s |

Both portfolio runs map the same task function over chunks of {a.chunk} households and give identical results
(mean annual cost {p['mean_annual_cost']:.2f} NZD). Households are synthetic: the BDEW H25 shape (moved 26 weeks for
southern-hemisphere seasons) times gamma noise per slot, scaled to a lognormal annual consumption (median 7,000 kWh).
The dask wall time excludes cluster start-up; the local pool's includes process start-up.
"""
    write_text(md, out / "switching.md")
    print(md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
