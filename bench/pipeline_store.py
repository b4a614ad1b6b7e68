"""The pipeline on the price store: forecast and schedule a recent year of a store zone, as `dvc repro` would.

    EO_DATA_MIRROR=../shared/data .venv/bin/python bench/pipeline_store.py     # DE_LU, July 2022 .. June 2023

A copy of the repository gets `params.yaml` with `data.source: store` and the zone and days asked for (every other
key as in params.yaml: the tuned network of `data.market`, daily fine-tuning, the optimizer's household), then runs
`eo ingest`, `quality`, `features`, `train`, `forecast` and `optimize` in it. The store is filled from `prices.sources`
(the ENTSO-E CSV collection by default, which ends 2023-06-30 and carries the exogenous forecasts).

Writes reports/benchmarks/pipeline_store_<zone>_<test days>d.json and .md: every model's errors over the year and by
quarter, a one-sided Diebold-Mariano test of the CNN-LSTM against each other model, and the household's savings when
it plans on each model.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from electricity_optimizer.benchmark import dm_test  # noqa: E402
from electricity_optimizer.features import daily_matrix  # noqa: E402
from electricity_optimizer.storage import write_json, write_text  # noqa: E402

STAGES = ["ingest", "quality", "features", "train", "forecast", "optimize"]


def _copy(dest: Path) -> Path:
    skip = {".venv", ".git", "data", "mlruns", ".pytest_cache", "_proc", "_docs", ".dvc"}
    shutil.copytree(ROOT, dest, ignore=lambda d, names: [n for n in names if (Path(d) == ROOT and n in skip)
                                                         or n in {"__pycache__", ".ipynb_checkpoints", "build"}])
    return dest


def _quarters(fc: xr.Dataset) -> pd.DataFrame:
    "MAE of every model per calendar quarter of the local delivery days, and the mean actual price."
    q = pd.DatetimeIndex(fc["local_date"].values).to_period("Q").astype(str)
    y = fc["price"].isel(zone=0).to_pandas()
    rows = {m: (fc["price_forecast"].sel(model=m).isel(zone=0).to_pandas() - y).abs().groupby(q.values).mean()
            for m in fc["model"].values}
    out = pd.DataFrame(rows)
    out["mean price"] = y.groupby(q.values).mean()
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--zone", default="DE_LU")
    ap.add_argument("--since", default="2019-01-01", help="first local day read from the store (training needs ~3 years)")
    ap.add_argument("--until", default="2023-06-30", help="first local day not read")
    ap.add_argument("--test-days", type=int, default=364)
    ap.add_argument("--keep", help="run in this folder and keep it (default: a temporary one)")
    a = ap.parse_args(argv)
    p = yaml.safe_load(Path(a.params).read_text())
    p["data"].update(source="store", since=a.since, until=a.until)
    p["prices"].update(zone=a.zone, since=str((pd.Timestamp(a.since) - pd.Timedelta(days=1)).date()), until=a.until)
    p["train"]["test_days"] = a.test_days
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="pipeline_store_"))
    repo = _copy(work / "repo") if not (work / "repo").exists() else work / "repo"
    (repo / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    eo = Path(sys.executable).parent / "eo"
    walls = {}
    for stage in STAGES:
        t0 = time.perf_counter()
        r = subprocess.run([str(eo), stage], cwd=repo, capture_output=True, text=True)
        walls[stage] = round(time.perf_counter() - t0, 1)
        if r.returncode:
            sys.exit(f"eo {stage} failed:\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}")
        print(r.stdout.strip().splitlines()[-1] if r.stdout.strip() else f"{stage}: done", f"({walls[stage]} s)")
    metrics = {s: json.loads((repo / "metrics" / f"{s}.json").read_text()) for s in ("train", "forecast", "optimize")}
    with xr.open_dataset(repo / "data" / "forecasts" / "forecast.nc") as fc:
        fc = fc.load()
    quarters = _quarters(fc)
    y = daily_matrix(fc["price"])
    ours = daily_matrix(fc["price_forecast"].sel(model="cnn_lstm"))
    dm = {m: round(dm_test(y, daily_matrix(fc["price_forecast"].sel(model=m)), ours), 4)
          for m in fc["model"].values if m != "cnn_lstm"}
    f, o, t = metrics["forecast"], metrics["optimize"], metrics["train"]
    out = {"zone": a.zone, "since": a.since, "until": a.until, "test_days": f["test_days"], "test_start": f["test_start"],
           "test_end": f["test_end"], "network": t["network"], "train_days": t["train_days"],
           "cnn_lstm_update_every": f.get("cnn_lstm_update_every"), "models": f["models"],
           "mae_by_quarter": {q: {k: round(float(v), 3) for k, v in r.items()} for q, r in quarters.iterrows()},
           "dm_cnn_lstm_better_p": dm, "optimize": {k: o[k] for k in ("days", "days_skipped", "cost_unmanaged", "cost_perfect",
                                                                        "savings_perfect", "by_forecast_model", "currency")},
           "wall_s": walls}
    name = f"pipeline_store_{a.zone}_{f['test_days']}d"
    write_json(out, ROOT / "reports" / "benchmarks" / f"{name}.json")
    cur = o.get("currency", "EUR")
    lines = [f"# The pipeline on the price store: {a.zone}, {f['test_start']} .. {f['test_end']}", "",
             f"`bench/pipeline_store.py --zone {a.zone} --since {a.since} --until {a.until} --test-days {a.test_days}`: "
             f"`data.source: store`, each day forecast from the store's data up to the day before; CNN-LSTM {t['network']} "
             f"trained on the {t['train_days']} days before the test period and fine-tuned before every test day; "
             "LEAR recalibrated daily. DM: one-sided multivariate Diebold-Mariano p-value that the CNN-LSTM is more accurate.", "",
             f"| model | MAE | rMAE | sMAPE % | RMSE | DM p (cnn_lstm better) | household saving, {cur} | share of perfect foresight |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    by = o["by_forecast_model"]
    for m, s in sorted(f["models"].items(), key=lambda kv: kv[1]["MAE"]):
        lines.append(f"| {m} | {s['MAE']:.3f} | {s['rMAE']:.3f} | {s['sMAPE']:.2f} | {s['RMSE']:.3f} | "
                     f"{'' if m == 'cnn_lstm' else f'{dm[m]:.4f}'} | {by[m]['savings_forecast']:.2f} | {by[m]['forecast_capture_pct']:.1f}% |")
    lines += [f"| perfect foresight | 0 | | | | | {o['savings_perfect']:.2f} | 100% |", "",
              f"The household (params.yaml `optimize.devices`) would pay {o['cost_unmanaged']:.2f} {cur} unmanaged over "
              f"{o['days']} planned days ({o['days_skipped']} skipped at the period's edges).", "",
              "MAE by quarter of the local delivery days:", "",
              "| quarter | " + " | ".join(quarters.columns) + " |", "|---|" + "---:|" * len(quarters.columns)]
    lines += [f"| {q} | " + " | ".join(f"{v:.2f}" for v in r) + " |" for q, r in quarters.iterrows()]
    lines += ["", "Wall time per stage (s): " + ", ".join(f"{k} {v}" for k, v in walls.items()), ""]
    write_text("\n".join(lines), ROOT / "reports" / "benchmarks" / f"{name}.md")
    if not a.keep: shutil.rmtree(work)
    print("\n".join(lines))
    return out


if __name__ == "__main__":
    main()
