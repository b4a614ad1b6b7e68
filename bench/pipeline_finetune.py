"""Does daily fine-tuning help the pipeline's CNN-LSTM? The train stage's network, trained with --seeds seeds.

    dvc repro features                                         # the pipeline's features (data/features/features.nc)
    .venv/bin/python bench/pipeline_finetune.py                # params.yaml, seeds 1-10
    .venv/bin/python bench/pipeline_finetune.py --params hand.yaml   # params.yaml with `preset: hand` and its settings

For each seed, the CNN-LSTM of `params.yaml` is trained as `eo train` trains it (on the `train.train_days`
before the test period) and forecasts the `train.test_days` test days twice, as `eo forecast` does:
as trained, and fine-tuned before every test day on the data up to the day before
(`forecast.cnn_lstm_update_every: 1`). The seeds are paired: the same trained network both ways.
A one-sided Wilcoxon signed-rank test over the seeds says whether fine-tuning is more accurate.

Writes reports/benchmarks/pipeline_finetune_<preset>_<test days>d.json and .md (`train.cnn_lstm.preset`: tuned or hand).
"""
from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(v, "1")

import numpy as np  # noqa: E402
from scipy.stats import wilcoxon  # noqa: E402

sys.path.insert(0, str(ROOT))
from electricity_optimizer.config import load_params  # noqa: E402
from electricity_optimizer.forecast import forecast_dataset  # noqa: E402
from electricity_optimizer.pipeline import Paths, _cnn_lstm, _FineTuned, _open_features, split_days  # noqa: E402
from electricity_optimizer.storage import write_json, write_text  # noqa: E402


def mae(fc) -> float:
    return float(np.abs(fc["price_forecast"].isel(model=0) - fc["price"]).mean())


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--seeds", type=int, default=10, help="seeds 1..N")
    a = ap.parse_args(argv)
    p0 = load_params(a.params)
    paths = Paths(ROOT)
    ds = _open_features(paths)
    _, test = split_days(ds, p0)
    rows = []
    for seed in range(1, a.seeds + 1):
        p = p0.model_copy(update={"train": p0.train.model_copy(update={"seed": seed})})
        t0 = time.perf_counter()
        net, network = _cnn_lstm(p, paths)
        net.fit(ds, until=test[0])
        t1 = time.perf_counter()
        fixed = mae(forecast_dataset({"cnn_lstm": copy.deepcopy(net)}, ds, test, fit=False, progress=False))
        t2 = time.perf_counter()
        tuned = mae(forecast_dataset({"cnn_lstm": _FineTuned(net, test[0])}, ds, test, fit=True, refit_every=1,
                                     progress=False))
        t3 = time.perf_counter()
        rows.append({"seed": seed, "mae_as_trained": round(fixed, 4), "mae_fine_tuned": round(tuned, 4),
                     "train_s": round(t1 - t0, 1), "fine_tuned_forecast_s": round(t3 - t2, 1)})
        print(f"seed {seed}: as trained {fixed:.3f}, fine-tuned daily {tuned:.3f}", flush=True)
    f = [r["mae_as_trained"] for r in rows]
    t = [r["mae_fine_tuned"] for r in rows]
    p_value = float(wilcoxon(t, f, alternative="less").pvalue) if len(rows) > 1 else None
    params_file = Path(a.params).resolve()
    out = {"market": p0.data.market,
           "params": str(params_file.relative_to(ROOT) if params_file.is_relative_to(ROOT) else params_file),
           "test_start": str(test[0].date()), "test_end": str(test[-1].date()), "test_days": len(test),
           "network": network, "settings": {k: v for k, v in net.params.items() if k != "seed"},
           "train_days": net.params["train_days"],
           "seeds": rows,
           "summary": {"median_as_trained": round(statistics.median(f), 3), "median_fine_tuned": round(statistics.median(t), 3),
                       "mean_as_trained": round(statistics.mean(f), 3), "mean_fine_tuned": round(statistics.mean(t), 3),
                       "fine_tuned_better": sum(b < a for a, b in zip(f, t)), "seeds": len(rows),
                       "p_fine_tuned_better": None if p_value is None else round(p_value, 4)}}
    s = out["summary"]
    md = [f"# Pipeline CNN-LSTM: daily fine-tuning ({out['market']}, {out['test_start']} .. {out['test_end']})", "",
          f"The network of `{out['params']}` ({network}) trained as `eo train` trains it ({out['train_days']} days before the test period, "
          f"{p0.train.cnn_lstm.val_days} of them held out for its validation loss), seeds 1-{len(rows)}; each forecasts the "
          f"{len(test)} test days as trained and fine-tuned before every day on all data up to the day before "
          "(`forecast.cnn_lstm_update_every: 1`). MAE over the test days:", "",
          "| seed | as trained | fine-tuned daily |", "|---:|---:|---:|",
          *[f"| {r['seed']} | {r['mae_as_trained']:.3f} | {r['mae_fine_tuned']:.3f} |" for r in rows],
          f"| median | {s['median_as_trained']:.3f} | {s['median_fine_tuned']:.3f} |",
          f"| mean | {s['mean_as_trained']:.3f} | {s['mean_fine_tuned']:.3f} |", "",
          f"Fine-tuning more accurate for {s['fine_tuned_better']} of {s['seeds']} seeds"
          + (f"; one-sided Wilcoxon signed-rank p = {s['p_fine_tuned_better']:.3f}." if p_value is not None else "."), ""]
    name = f"pipeline_finetune_{p0.train.cnn_lstm.preset}_{len(test)}d"
    write_json(out, ROOT / f"reports/benchmarks/{name}.json")
    write_text("\n".join(md), ROOT / f"reports/benchmarks/{name}.md")
    print("\n".join(md))
    return out


if __name__ == "__main__":
    main()
