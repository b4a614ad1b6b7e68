"""Hyperparameter search for the CNN-LSTM of one EPF market, on the year before the test period; resumable.

    .venv/bin/python bench/tune.py --market NP --trials 80 --timeout 2400   # search (continues a stored journal)
    .venv/bin/python bench/tune.py --market NP --trials 0                   # rewrite the summary only
    .venv/bin/python bench/tune.py --market DE --trials 0 --windows 1 --jobs 2   # rank the best on one more (earlier) year
    .venv/bin/python bench/tune.py --market NP --trials 0 --recalibrate     # then compare the recalibrations of the best one
    .venv/bin/python bench/tune.py --market NP --trials 0 --select --jobs 2 # then choose the ensemble on validation forecasts
    .venv/bin/python bench/tune.py --market PJM --trials 0 --select --jobs 2 --select-variant ft-2ep --select-top-days 364,728
                                                                            # ... the best ones on further training windows too
    .venv/bin/python bench/tune.py --market PJM --trials 0 --jobs 2 --variant 'lags={"price_lags": [1, 2, 3, 7]}'
                                                                            # check a change to the network on validation
    .venv/bin/python bench/tune.py --market PJM --trials 0 --correction     # score corrections by recent errors on validation

Keeps the Optuna journal in reports/benchmarks/tuning/<MARKET>.journal and writes the summary
(every trial, the best configurations) to reports/benchmarks/tuning/<MARKET>.json; the benchmark's
CNN-LSTM ensemble takes its members from that summary. `--windows N` scores the 8 best configurations and
the hand-set one on N earlier validation years too (reports/benchmarks/tuning/<MARKET>.windows.json); the
members then follow the ranking by the mean over all years. `--recalibrate` scores the best configuration with
relative prices and daily fine-tuning on the same validation days and writes the choice to
reports/benchmarks/tuning/<MARKET>.recalibration.json, which the benchmark's members follow. `--select` forecasts
the validation years with the 2 best configurations and the hand-set one, the latter also trained on 364 and
1,092 days (--select-hand-days) and, with --select-top-days, the 2 best on further windows too (with the chosen recalibration), keeps the
forecasts under reports/benchmarks/tuning/validation/<MARKET>/, and chooses the ensemble's configurations greedily
(reports/benchmarks/tuning/<MARKET>.selection.json); then it forecasts the validation years with seeds 3 and 4 of
the chosen configurations too (--select-extra-seeds) and keeps them where the ensemble's validation MAE falls. The
benchmark's members then follow that choice. `--variant NAME=SETTINGS` forecasts the validation years with the selected
configurations changed by SETTINGS (JSON) and records the ensemble's validation MAE with and without the change in
reports/benchmarks/tuning/<MARKET>.variants.json; the members do not change. `--select --select-variant NAME` makes
the selection again with a checked variant that lowered the validation MAE applied to every candidate.
`--correction` scores corrections of the selected ensemble by its own recent errors (`correct_recent_bias`) on the
stored validation forecasts and writes reports/benchmarks/tuning/<MARKET>.correction.json; the benchmark reports the
adopted one as CNN-LSTM_ens_bc (and LEAR_ens_bc). It also checks that setting on what the pipeline corrects: its
network (the first selected configuration, one seed) and LEAR on 84 days, recalibrated daily over the validation
years (computed once, stored beside the networks' validation forecasts).
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
    ap.add_argument("--trials", type=int, default=60, help="trials in the study in all, earlier ones included")
    ap.add_argument("--timeout", type=float, default=None, help="seconds after which no new trial starts")
    ap.add_argument("--val-days", type=int, default=364)
    ap.add_argument("--refit-every", type=int, default=56)
    ap.add_argument("--threads", type=int, default=1, help="torch and BLAS threads")
    ap.add_argument("--mirror", default=None, help="folder laid out as epf/<MARKET>.csv (default: $EO_DATA_MIRROR, "
                                                     "else ../shared/data when present, else download)")
    ap.add_argument("--out-dir", default=str(ROOT / "reports" / "benchmarks" / "tuning"))
    ap.add_argument("--windows", type=int, default=0, help="earlier validation years to score the best configurations on")
    ap.add_argument("--jobs", type=int, default=1, help="configurations (--windows), variants (--recalibrate) or blocks (--select) computed at once (processes)")
    ap.add_argument("--recalibrate", action="store_true", help="compare the recalibration variants of the best configuration")
    ap.add_argument("--select", action="store_true", help="choose the ensemble's configurations on validation forecasts")
    ap.add_argument("--select-top", type=int, default=2, help="best ranked configurations among the candidates of --select")
    ap.add_argument("--select-hand-days", default="364,1092",
                    help="further training windows (days, comma-separated; '' for none) on which the hand-set configuration is a candidate of --select")
    ap.add_argument("--select-top-days", default="",
                    help="further training windows (days, comma-separated; '' for none, the default) on which the best ranked configurations are candidates of --select too")
    ap.add_argument("--select-extra-seeds", default="3,4",
                    help="further seeds of the chosen configurations (comma-separated; '' for none), kept by --select where they lower the validation MAE")
    ap.add_argument("--select-variant", default=None,
                    help="a checked network variant (--variant) that lowered the validation MAE: --select applies it to every candidate")
    ap.add_argument("--correction", action="store_true",
                    help="score corrections of the selected ensemble by its recent errors on validation (<MARKET>.correction.json)")
    ap.add_argument("--variant", action="append", default=[],
                    help="""check a change to the network on validation: NAME='{"setting": value}' applied to the selected configurations; repeat""")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
    from electricity_optimizer.config import EOError
    from electricity_optimizer.tuning import (check_variant, compare_recalibrations, parse_variant, parse_whole,
                                              score_windows, select_members, tune_cnn_lstm, variant_line, combination_line,
                                              check_correction, correction_line)

    mirror = a.mirror or os.environ.get("EO_DATA_MIRROR")
    if mirror is None and (ROOT.parent / "shared" / "data" / "epf").is_dir():
        mirror = str(ROOT.parent / "shared" / "data")
    try:
        hand_days = parse_whole(a.select_hand_days)  # before the long runs
        top_days = parse_whole(a.select_top_days, "--select-top-days", "days", "364,728")
        extra_seeds = parse_whole(a.select_extra_seeds, "--select-extra-seeds", "seeds", "3,4")
        variants = [parse_variant(v) for v in a.variant]
        s = tune_cnn_lstm(a.market, a.trials, a.timeout, mirror=mirror, out_dir=a.out_dir, val_days=a.val_days,
                          refit_every=a.refit_every, base={"num_threads": a.threads}, progress=not a.no_progress)
        w = score_windows(a.market, a.windows, mirror=mirror, out_dir=a.out_dir, jobs=a.jobs) if a.windows else None
        r = compare_recalibrations(a.market, out_dir=a.out_dir, mirror=mirror, jobs=a.jobs) if a.recalibrate else None
        sel = select_members(a.market, a.select_top, a.out_dir, mirror, a.jobs, not a.no_progress,
                             hand_days, extra_seeds=extra_seeds, variant=a.select_variant, top_days=top_days) if a.select else None
        cor = check_correction(a.market, a.out_dir, mirror, jobs=a.jobs) if a.correction else None
        checks = {n: check_variant(a.market, n, v, a.out_dir, mirror, a.jobs, not a.no_progress) for n, v in variants}
    except EOError as e:
        print(f"tune: error: {e}", file=sys.stderr)
        return 2
    print(f"{s['trials']} trials {s['states']}; search {s['search_s']} s; validation {s['val_start']} .. {s['val_end']}")
    print(f"hand-set configuration: MAE {s['baseline_mae']}")
    for b in s["best"][:5]:
        print(f"trial {b['number']:3d}  MAE {b['mae']:.3f}  {b['params']}")
    if w:
        print("ranked by the mean over all validation periods:")
        for b in w["ranking"][:5]:
            print(f"trial {b['number']:3d}  MAE {b['mae']:.3f}  " + ", ".join(f"{k} {v:.3f}" for k, v in b["by_period"].items()))
    if r:
        for k, v in r["mae"].items():
            print(f"recalibration {k:15s} MAE {v['mae']:.3f}")
        print(f"chosen: {r['choice']}")
    if sel:
        if "variant" in sel["spec"]:
            print(f"network variant {sel['spec']['variant']['name']}: {sel['spec']['variant']['settings']}")
        for n, m in sel["mae"].items():
            print(f"trial {n:>7s}  validation MAE {m['mean']:.3f} with {sel['spec']['recalibration']['name']}")
        for st in sel["steps"]:
            if "members" in st:
                print(f"ensemble {'+'.join(map(str, st['members']))}: MAE {st['mae']:.3f}")
            else:
                print("stopped: adding " + ", ".join(f"trial {n} gives {v:.3f}" for n, v in st["rejected"].items()))
        if "seed_check" in sel:
            print("seeds of the chosen configurations: " + ", ".join(f"{k} MAE {v:.3f}" for k, v in sel["seed_check"]["mae"].items())
                  + f"; members use seeds {'/'.join(map(str, sel['member_seeds']))}")
        print(combination_line(sel))
    if cor:
        print(correction_line(cor))
    for n, v in checks.items():
        print(variant_line(n, v))
    return 0


if __name__ == "__main__":
    sys.exit(main())
