"""EPF forecast benchmark (Lago et al. 2021 protocol) for one market; resumable.

    .venv/bin/python bench/forecast.py --market NP                      # everything: naive, ARX, LEAR x4, CNN-LSTM x8, CNN-LSTM-refit x8, CNN-LSTM-hand x4
    .venv/bin/python bench/forecast.py --market NP --models LEAR        # LEAR windows only (+ naive_weekly)
    .venv/bin/python bench/forecast.py --market NP --max-days 5         # first 5 test days (cost probe)
    .venv/bin/python bench/forecast.py --market NP --report-only        # score what the cache holds, compute nothing
    .venv/bin/python bench/forecast.py --market NP --models CNN-LSTM --jobs 8  # the CNN-LSTM members' blocks, 8 at once

Writes reports/benchmarks/forecast_<MARKET>.json and .md; per-day forecasts are kept under
reports/benchmarks/cache/<MARKET>/<model>/, so an interrupted run continues where it stopped.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--market", default="NP", choices=["NP", "PJM", "DE"])
    ap.add_argument("--models", nargs="+", default=None,
                    help="naive_weekly naive_daily ARX LEAR LEAR_<days> CNN-LSTM CNN-LSTM_<k> CNN-LSTM-refit CNN-LSTM-hand (default: all)")
    ap.add_argument("--windows", nargs="+", type=int, default=None, help="LEAR calibration windows (default 56 84 1092 1456)")
    ap.add_argument("--test-days", type=int, default=728)
    ap.add_argument("--max-days", type=int, default=None)
    ap.add_argument("--cnn-refit-every", type=int, default=28)
    ap.add_argument("--cnn-top", type=int, default=4, help="CNN-LSTM members where no selection was made: best configurations of the market's search "
                                                        "(reports/benchmarks/tuning/<MARKET>.json, from bench/tune.py)")
    ap.add_argument("--cnn-epochs", type=int, default=None)
    ap.add_argument("--cnn-train-days", type=int, default=None)
    ap.add_argument("--threads", type=int, default=1, help="BLAS and torch threads")
    ap.add_argument("--jobs", type=int, default=1, help="blocks computed at once in spawned processes (each with --threads "
                                                       "threads; on a GPU machine all of them train on its GPU)")
    ap.add_argument("--mirror", default=None, help="folder laid out as epf/<MARKET>.csv (default: $EO_DATA_MIRROR, "
                                                     "else ../shared/data when present, else download)")
    ap.add_argument("--out-dir", default=str(ROOT / "reports" / "benchmarks"))
    ap.add_argument("--fresh", action="store_true", help="discard stored forecasts of the selected models")
    ap.add_argument("--report-only", action="store_true", help="score the stored forecasts only")
    ap.add_argument("--track", action="store_true", help="log the result to MLflow")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    import torch
    torch.set_num_threads(a.threads)
    from electricity_optimizer.benchmark import DEFAULT_MODELS, LEAR_WINDOWS, run_benchmark
    from electricity_optimizer.config import EOError

    mirror = a.mirror or os.environ.get("EO_DATA_MIRROR")
    if mirror is None and (ROOT.parent / "shared" / "data" / "epf").is_dir():
        mirror = str(ROOT.parent / "shared" / "data")
    cnn = {k: v for k, v in {"epochs": a.cnn_epochs, "train_days": a.cnn_train_days, "num_threads": a.threads}.items()
           if v is not None}
    try:
        r = run_benchmark(a.market, a.models or DEFAULT_MODELS, mirror=mirror, out_dir=a.out_dir, test_days=a.test_days,
                          resume=not a.fresh, progress=not a.no_progress, max_days=a.max_days,
                          windows=tuple(a.windows or LEAR_WINDOWS), cnn_params=cnn, cnn_refit_every=a.cnn_refit_every, cnn_top=a.cnn_top,
                          blas_threads=a.threads, jobs=a.jobs, compute=not a.report_only, track=a.track)
    except EOError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 2
    for k, m in r["models"].items():
        print(f"{k:>17}  days {m['days']:4d}  MAE {m['MAE']:7.3f}  rMAE {m['rMAE']:6.3f}  sMAPE {m['sMAPE']:6.2f}  "
              f"RMSE {m['RMSE']:7.3f}  MAPE {m['MAPE']:7.2f}")
    print(f"wall {r['wall_s']} s; compute {r['compute_s']}; complete: {r['complete']}")
    print(f"-> {Path(a.out_dir) / ('forecast_' + a.market + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
