"""The EPF benchmark runner on a short window of the real NP test period: outputs, resumption, DM tests."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from electricity_optimizer import benchmark as bm
from electricity_optimizer.benchmark import benchmark_days, dm_matrix, dm_test, run_benchmark
from electricity_optimizer.config import EOError
from electricity_optimizer.lear import LEAR

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
METRICS = {"MAE", "rMAE", "sMAPE", "RMSE", "MAPE", "days"}
TINY_CNN = dict(epochs=1, hidden=4, channels=2, mlp_hidden=8, train_days=120, batch_size=32, num_threads=1,
                accelerator="cpu")
KW = dict(mirror=DATA, windows=(56, 84), cnn_members=({"seed": 1}, {"seed": 2, "lookback_days": 3}),
          cnn_params=TINY_CNN, cnn_refit_every=2, progress=False)
MODELS = ["naive_daily", "ARX", "LEAR", "CNN-LSTM"]


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    if not (DATA / "epf" / "NP.csv").exists():
        pytest.skip("real data not found")
    out = tmp_path_factory.mktemp("bench")
    return out, run_benchmark("NP", MODELS, out_dir=out, max_days=4, **KW)


def test_result_file_has_the_agreed_layout(first):
    out, r = first
    saved = json.loads((out / "forecast_NP.json").read_text())
    assert saved == json.loads(json.dumps(r))
    assert {"market", "test_days", "protocol", "device", "wall_s", "models"} <= set(saved)
    assert saved["market"] == "NP" and saved["test_days"] == 4 and saved["test_period_days"] == 728
    assert saved["test_start"] == "2016-12-27" and saved["test_end"] == "2016-12-30" and not saved["complete"]
    names = {"naive_weekly", "naive_daily", "ARX", "LEAR_56", "LEAR_84", "LEAR_ens", "CNN-LSTM_1", "CNN-LSTM_2",
             "CNN-LSTM_ens", "hybrid_w"}
    assert set(saved["models"]) == names
    for m in saved["models"].values():
        assert set(m) == METRICS and m["days"] == 4 and np.isfinite(m["MAE"])
    assert saved["models"]["naive_weekly"]["rMAE"] == 1.0
    assert saved["device"].startswith("cpu")
    assert set(saved["dm_pvalues"]) == names
    md = (out / "forecast_NP.md").read_text()
    assert "| LEAR_ens | 4 |" in md and "*published LEAR-Ens* | 728 | 1.74 | 0.420 | 5.01" in md and "PARTIAL" in md


def test_metrics_recompute_from_the_stored_forecasts(first):
    out, r = first
    fc = pd.read_parquet(out / "cache" / "NP" / "forecasts.parquet")
    assert len(fc) == 4 * 24
    ens = (fc["LEAR_56"] + fc["LEAR_84"]) / 2
    np.testing.assert_allclose(fc["LEAR_ens"], ens)
    err = (fc["actual"] - ens).abs()
    assert r["models"]["LEAR_ens"]["MAE"] == pytest.approx(err.mean(), abs=1e-4)
    ref = (fc["actual"] - fc["naive_weekly"]).abs().mean()
    assert r["models"]["LEAR_ens"]["rMAE"] == pytest.approx(err.mean() / ref, abs=1e-4)
    np.testing.assert_allclose(fc["CNN-LSTM_ens"], (fc["CNN-LSTM_1"] + fc["CNN-LSTM_2"]) / 2)
    # the actual prices are those of the EPF file's 2016-12-27 .. 30
    raw = pd.read_csv(DATA / "epf" / "NP.csv", index_col=0, parse_dates=True)
    np.testing.assert_allclose(fc["actual"], raw.loc["2016-12-27":"2016-12-30 23:00"].iloc[:, 0].to_numpy())


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    fits = []
    real_fit = LEAR.fit

    def fit(self, ds, until):
        if len(fits) == 5:
            raise KeyboardInterrupt  # killed during the third day's second window
        fits.append((self.window, str(pd.Timestamp(until).date())))
        return real_fit(self, ds, until)

    monkeypatch.setattr(LEAR, "fit", fit)
    with pytest.raises(KeyboardInterrupt):
        run_benchmark("NP", ["LEAR"], out_dir=tmp_path, max_days=4, **KW)
    assert [d for _, d in fits] == ["2016-12-27"] * 2 + ["2016-12-28"] * 2 + ["2016-12-29"]
    csv = pd.read_csv(tmp_path / "cache" / "NP" / "LEAR_56" / "2016-12.csv")
    assert csv["day"].tolist() == ["2016-12-27", "2016-12-28", "2016-12-29"]
    fits.clear()
    monkeypatch.setattr(LEAR, "fit", lambda self, ds, until: fits.append((self.window, str(until.date()))) or real_fit(self, ds, until))
    r = run_benchmark("NP", ["LEAR"], out_dir=tmp_path, max_days=4, **KW)
    assert fits == [(84, "2016-12-29"), (56, "2016-12-30"), (84, "2016-12-30")]
    assert all(m["days"] == 4 for m in r["models"].values())
    fits.clear()
    run_benchmark("NP", ["LEAR"], out_dir=tmp_path, max_days=4, **KW)
    assert fits == []  # everything from the cache


def test_blocks_are_fitted_before_their_first_day(first, monkeypatch, tmp_path):
    from electricity_optimizer.cnn_lstm import CNNLSTMModel
    seen = []
    real_fit = CNNLSTMModel.fit
    monkeypatch.setattr(CNNLSTMModel, "fit", lambda self, ds, until: seen.append(str(until.date())) or real_fit(self, ds, until))
    run_benchmark("NP", ["CNN-LSTM_1"], out_dir=tmp_path, max_days=5, **KW)
    assert seen == ["2016-12-27", "2016-12-29", "2016-12-31"]



def test_members_fine_tune_before_each_later_day_of_their_block(monkeypatch, tmp_path):
    from electricity_optimizer.cnn_lstm import CNNLSTMModel
    calls = []
    real_fit, real_update = CNNLSTMModel.fit, CNNLSTMModel.update
    monkeypatch.setattr(CNNLSTMModel, "fit", lambda self, ds, until: calls.append(("fit", str(until.date()))) or real_fit(self, ds, until))
    monkeypatch.setattr(CNNLSTMModel, "update",
                        lambda self, ds, until: calls.append(("update", str(until.date()))) or real_update(self, ds, until))
    kw = {**KW, "cnn_members": [{"seed": 1, "refit_every": 3, "update_every": 1, "level_days": 2, "lookback_days": 3}]}
    r = run_benchmark("NP", ["CNN-LSTM_1"], out_dir=tmp_path, max_days=5, **kw)
    assert calls == [("fit", "2016-12-27"), ("update", "2016-12-28"), ("update", "2016-12-29"),
                     ("fit", "2016-12-30"), ("update", "2016-12-31")]
    assert r["models"]["CNN-LSTM_1"]["days"] == 5
    spec = json.loads((tmp_path / "cache" / "NP" / "CNN-LSTM_1" / "spec.json").read_text())
    assert (spec["update_every"], spec["level_days"], spec["refit_every"]) == (1, 2, 3)

def test_other_settings_are_not_mixed_into_the_cache(first):
    out, _ = first
    with pytest.raises(EOError, match="other settings"):
        bm.forecast_models(*_np_and_models(out, arx_window=364), progress=False)


def _np_and_models(out, arx_window):
    from electricity_optimizer.features import build_features
    from electricity_optimizer.ingest import read_epf
    ds = build_features(read_epf(DATA / "epf" / "NP.csv", "NP"), "NP")
    days = benchmark_days(ds)[:1]
    return ds, bm.benchmark_models(["ARX"], arx_window=arx_window), days, out / "cache" / "NP"


def test_diebold_mariano_matches_its_definition():
    rng = np.random.default_rng(3)
    y = rng.normal(40, 8, (300, 24))
    a, b = y + rng.normal(0, 1.0, y.shape), y + rng.normal(0, 1.1, y.shape)
    d = np.abs(y - a).mean(1) - np.abs(y - b).mean(1)
    from scipy.stats import norm
    assert dm_test(y, a, b) == pytest.approx(1 - norm.cdf(d.mean() / np.sqrt(d.var() / len(d))))
    assert dm_test(y, a, b) + dm_test(y, b, a) == pytest.approx(1.0)
    assert dm_test(y, b, a) < 0.01  # a is more accurate: significant in the (b, a) direction
    p = dm_matrix(y, {"a": a, "b": b}, norm=2)
    assert np.isnan(p.loc["a", "a"]) and p.loc["b", "a"] < 0.01


def test_unknown_models_and_short_data_are_refused(first):
    with pytest.raises(EOError, match="unknown benchmark model 'DNN'"):
        bm.benchmark_models(["DNN"])
    ds = _np_and_models(first[0], 728)[0]
    with pytest.raises(EOError, match="fewer than test_days"):
        benchmark_days(ds.isel(time=slice(0, 24 * 700)))


def test_script_reports_from_the_cache(first):
    out, r = first
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "forecast.py"), "--market", "NP", "--models", "naive_daily",
                        "ARX", "LEAR", "--windows", "56", "84", "--max-days", "4", "--report-only", "--no-progress",
                        "--mirror", str(DATA), "--out-dir", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "LEAR_ens  days    4" in p.stdout
    again = json.loads((out / "forecast_NP.json").read_text())
    assert again["models"]["LEAR_ens"] == r["models"]["LEAR_ens"]


def test_cnn_members_come_from_the_search_summary(tmp_path):
    best = [{"number": i, "mae": 1.0 + i, "params": {"hidden": 4 + i, "epochs": 1}} for i in range(3)]
    (tmp_path / "NP.json").write_text(json.dumps({"trials": 7, "val_start": "2015-12-28", "val_end": "2016-12-26",
                                                  "refit_every": 56, "best": best}))
    members, note, groups = bm._cnn_members("NP", None, tmp_path, 2, (1, 2))
    searched = [{"hidden": h, "epochs": 1, "seed": s, "refit_every": 56} for h in (4, 5) for s in (1, 2)]
    assert groups == {"CNN-LSTM-refit": searched}
    assert members == [{**m, **bm.CNN_RECALIBRATION} for m in searched]
    assert "2 best of 7 configurations searched on 2015-12-28 .. 2016-12-26" in note and "every 56 days" in note
    assert "the default recalibration (level_days=7, update_every=1" in note
    ms = bm.benchmark_models(["CNN-LSTM", "CNN-LSTM-refit_2", "CNN-LSTM-hand_1"], cnn_members=members, cnn_groups=groups)
    assert [ms[f"CNN-LSTM_{k}"][1] for k in range(1, 5)] == [56] * 4 and ms["CNN-LSTM-hand_1"][1] == 28
    assert ms["CNN-LSTM_3"][0].params["hidden"] == 5 and "refit_every" not in ms["CNN-LSTM_3"][0].params
    assert "update_every" not in ms["CNN-LSTM_3"][0].params and ms["CNN-LSTM_3"][2]["update_every"] == 1
    assert ms["CNN-LSTM-refit_2"][0].params.get("level_days", 0) == 0
    assert "update_every" not in ms["CNN-LSTM-refit_2"][2]
    assert bm._cnn_members("DE", None, tmp_path, 2, (1,)) == (list(bm.CNN_MEMBERS), "hand-set settings, no search summary found", {})
    (tmp_path / "NP.recalibration.json").write_text(json.dumps({"choice": "finetune", "settings": {"update_every": 1}, "complete": True, "spec": {"trial": 0}}))
    members, note, _ = bm._cnn_members("NP", None, tmp_path, 2, (1,))
    assert members == [{"hidden": h, "epochs": 1, "seed": 1, "refit_every": 56, "update_every": 1} for h in (4, 5)]
    assert "recalibration 'finetune' chosen on the validation days (update_every=1)" in note
    (tmp_path / "NP.recalibration.json").write_text(json.dumps({"choice": "none", "settings": {}, "complete": True, "spec": {"trial": 0}}))
    members, note, groups = bm._cnn_members("NP", None, tmp_path, 2, (1,))
    assert members == [{"hidden": h, "epochs": 1, "seed": 1, "refit_every": 56} for h in (4, 5)] and groups == {}
    assert "recalibration 'none' chosen" in note
    assert bm._cnn_members("NP", [{"seed": 9}], tmp_path, 2, (1,))[0] == [{"seed": 9}]
    with pytest.raises(EOError, match="fewer than k=4"):
        bm._cnn_members("NP", None, tmp_path, 4, (1,))
    # scored on an earlier year too: the members follow the ranking over both, and the comparison must follow it
    ranking = [{"number": i, "mae": 9.0 - i, "params": best[i]["params"]} for i in (2, 1)]
    (tmp_path / "NP.windows.json").write_text(json.dumps({"complete": True, "ranking": ranking, "spec": {
        "search": ["2015-12-28", "2016-12-26"], "periods": [["2014-12-29", "2015-12-27"]]}}))
    with pytest.raises(EOError, match="compares trial 0, but the best configuration is now trial 2"):
        bm._cnn_members("NP", None, tmp_path, 2, (1,))
    (tmp_path / "NP.recalibration.json").write_text(json.dumps({"choice": "none", "settings": {}, "complete": True, "spec": {"trial": 2}}))
    members, note, _ = bm._cnn_members("NP", None, tmp_path, 2, (1,))
    assert [m["hidden"] for m in members] == [6, 5]
    assert "(ranked by mean validation MAE over 2014-12-29 .. 2015-12-27, 2015-12-28 .. 2016-12-26)" in note
    (tmp_path / "NP.windows.json").write_text(json.dumps({"complete": False, "ranking": ranking[:1], "spec": {"periods": [[]]}}))
    with pytest.raises(EOError, match="NP.windows.json is incomplete"):
        bm._cnn_members("NP", None, tmp_path, 2, (1,))


def test_cnn_members_follow_a_selection_made_for_the_current_ranking(tmp_path):
    from electricity_optimizer import tuning
    rows = [{"number": i, "mae": 1.0 + i, "baseline": i == 3, "seconds": 1.0, "params": {"hidden": 4 + i, "epochs": 1}}
            for i in range(4)]
    (tmp_path / "NP.json").write_text(json.dumps({"trials": 7, "val_start": "2015-12-28", "val_end": "2016-12-26", "data": "k",
                                                  "refit_every": 56, "base": {}, "best": rows, "all": rows}))
    (tmp_path / "NP.recalibration.json").write_text(json.dumps({"choice": "finetune", "settings": {"update_every": 1},
                                                                "complete": True, "spec": {"trial": 0}}))
    spec = tuning._selection_spec("NP", 2, tmp_path)
    assert [c["number"] for c in spec["candidates"]] == [0, 1, 3]  # the 2 best and the hand-set trial
    selected = [spec["candidates"][2], spec["candidates"][0]]
    (tmp_path / "NP.selection.json").write_text(json.dumps({"spec": spec, "selected": selected}))
    members, note, groups = bm._cnn_members("NP", None, tmp_path, 4, (1, 2))
    assert [(m["hidden"], m["seed"]) for m in members] == [(7, 1), (7, 2), (4, 1), (4, 2)]
    assert all(m["update_every"] == 1 and m["refit_every"] == 56 for m in members)
    assert [m["hidden"] for m in groups["CNN-LSTM-refit"]] == [7, 7, 4, 4]
    assert "trials 3/0, chosen greedily on validation forecasts (seed 1) over 2015-12-28 .. 2016-12-26 from the 2 best ranked" in note
    (tmp_path / "NP.recalibration.json").write_text(json.dumps({"choice": "none", "settings": {}, "complete": True,
                                                                "spec": {"trial": 0}}))
    with pytest.raises(EOError, match="NP.selection.json was made for another ranking.*--select"):
        bm._cnn_members("NP", None, tmp_path, 4, (1, 2))
    (tmp_path / "NP.recalibration.json").write_text(json.dumps({"choice": "finetune", "settings": {"update_every": 1},
                                                                "complete": True, "spec": {"trial": 0}}))
    rows[3]["params"]["train_days"] = 728  # the hand-set configuration, also tried on 364 days
    (tmp_path / "NP.json").write_text(json.dumps({**json.loads((tmp_path / "NP.json").read_text()), "best": rows, "all": rows}))
    spec = tuning._selection_spec("NP", 2, tmp_path, hand_days=(364, 728))
    assert [c["key"] for c in spec["candidates"]] == ["0", "1", "3", "3-364d"] and spec["hand_days"] == [364]
    assert spec["candidates"][3]["params"] == {"hidden": 7, "epochs": 1, "train_days": 364}
    (tmp_path / "NP.selection.json").write_text(json.dumps({"spec": spec, "selected": [spec["candidates"][3], spec["candidates"][0]]}))
    members, note, _ = bm._cnn_members("NP", None, tmp_path, 4, (1,))
    assert [(m["hidden"], m.get("train_days")) for m in members] == [(7, 364), (4, None)]
    assert "trials 3-364d/0 (<trial>-<n>d: that trial trained on n days)" in note and "(also on 364 training days)" in note
    spec = tuning._selection_spec("NP", 2, tmp_path, hand_days=(364,), seeds=(1, 2), extra_seeds=(3,))
    (tmp_path / "NP.selection.json").write_text(json.dumps({"spec": spec, "selected": [spec["candidates"][0]], "member_seeds": [1, 2, 3],
                                                            "seed_check": {"mae": {"1/2": 2.5, "1/2/3": 2.25}}}))
    members, note, groups = bm._cnn_members("NP", None, tmp_path, 4, (1, 2))  # the seeds the selection kept, not the argument
    assert [(m["hidden"], m["seed"]) for m in members] == [(4, 1), (4, 2), (4, 3)] and len(groups["CNN-LSTM-refit"]) == 3
    assert "seeds 1/2/3 (chosen on validation: MAE 2.500 with seeds 1/2, 2.250 with seeds 1/2/3)" in note
    variant = {"name": "lags", "settings": {"price_lags": [1, 2, 3, 7]}, "mae": {"with": 2.4, "without": 2.5}}
    spec = tuning._selection_spec("NP", 2, tmp_path, hand_days=(364,), seeds=(1, 2), variant=variant)
    (tmp_path / "NP.selection.json").write_text(json.dumps({"spec": spec, "selected": [spec["candidates"][0]]}))
    members, note, groups = bm._cnn_members("NP", None, tmp_path, 4, (1, 2))  # the selection's variant in every member
    assert [m["price_lags"] for m in members + groups["CNN-LSTM-refit"]] == [[1, 2, 3, 7]] * 4
    assert "each with the network variant 'lags' (price_lags=[1, 2, 3, 7]; validation MAE 2.400 against 2.500 without)" in note
    variant = {"name": "ft-2ep", "settings": {"finetune_epochs": 2}, "mae": {"with": 2.4, "without": 2.5}}
    spec = tuning._selection_spec("NP", 2, tmp_path, hand_days=(364,), seeds=(1, 2), variant=variant)
    (tmp_path / "NP.selection.json").write_text(json.dumps({"spec": spec, "selected": [spec["candidates"][0]]}))
    members, note, groups = bm._cnn_members("NP", None, tmp_path, 4, (1, 2))  # a fine-tuning variant: not in the refit group
    assert [(m["finetune_epochs"], m["update_every"]) for m in members] == [(2, 1)] * 2
    assert "chosen on the validation days (update_every=1);" in note  # the variant replaces none of its settings
    (tmp_path / "NP.recalibration.json").write_text(json.dumps({"choice": "finetune", "complete": True, "spec": {"trial": 0},
                                                                "settings": {"update_every": 1, "finetune_epochs": 1}}))
    spec = tuning._selection_spec("NP", 2, tmp_path, hand_days=(364,), seeds=(1, 2), variant=variant)
    (tmp_path / "NP.selection.json").write_text(json.dumps({"spec": spec, "selected": [spec["candidates"][0]]}))
    members, note, _ = bm._cnn_members("NP", None, tmp_path, 4, (1, 2))
    assert [m["finetune_epochs"] for m in members] == [2, 2]
    assert "(update_every=1, finetune_epochs=1) (the variant's finetune_epochs=2 in its place);" in note
    assert groups["CNN-LSTM-refit"] == [{"hidden": 4, "epochs": 1, "seed": s, "refit_every": 56} for s in (1, 2)]
    assert bm._combination_of("NP", tmp_path) == "mean" and "median" not in note  # a selection without the check: the mean
    (tmp_path / "NP.selection.json").write_text(json.dumps({"spec": spec, "selected": [spec["candidates"][0]],
                                                            "combination": {"mae": {"mean": 2.5, "median": 2.4}, "method": "median"}}))
    members, note, groups = bm._cnn_members("NP", None, tmp_path, 4, (1, 2))
    assert bm._combination_of("NP", tmp_path) == "median" and bm._combination_of("DE", tmp_path) == "mean"
    assert "; combined by their median (chosen on validation: MAE 2.400, 2.500 for their mean)" in note


def test_an_ensemble_can_be_the_median_of_its_members():
    y = np.zeros((2, 24))
    preds = {"naive_weekly": y + 5, **{f"CNN-LSTM_{k}": y + v for k, v in ((1, 1.0), (2, 2.0), (3, 9.0))},
             **{f"CNN-LSTM-refit_{k}": y + v for k, v in ((1, 1.0), (2, 2.0), (3, 9.0))}}
    out = bm.add_ensembles(preds, y, {"CNN-LSTM_ens": "median"})
    assert (out["CNN-LSTM_ens"] == 2.0).all() and (out["CNN-LSTM-refit_ens"] == 4.0).all()  # the others keep the mean
    assert (bm.add_ensembles(preds, y)["CNN-LSTM_ens"] == 4.0).all()


def test_hand_set_members_keep_their_own_names():
    ms = bm.benchmark_models(["CNN-LSTM-hand", "CNN-LSTM_2"], cnn_members=[{"seed": 5}, {"seed": 6, "hidden": 8}])
    assert list(ms) == ["CNN-LSTM-hand_1", "CNN-LSTM-hand_2", "CNN-LSTM-hand_3", "CNN-LSTM-hand_4", "CNN-LSTM_2"]
    assert ms["CNN-LSTM_2"][2]["hidden"] == 8 and ms["CNN-LSTM-hand_3"][2]["lookback_days"] == 14
    with pytest.raises(EOError, match="unknown benchmark model 'CNN-LSTM-big'"):
        bm.benchmark_models(["CNN-LSTM-big"])


def test_renumbered_members_keep_their_stored_forecasts(first, tmp_path):
    import shutil
    out, _ = first
    shutil.copytree(out, tmp_path / "b")
    run_benchmark("NP", ["CNN-LSTM"], out_dir=tmp_path / "b", max_days=4, compute=False, **KW)  # as stored
    before = pd.read_parquet(tmp_path / "b" / "cache" / "NP" / "forecasts.parquet")
    swapped = {**KW, "cnn_members": tuple(reversed(KW["cnn_members"]))}  # members 1 and 2 change numbers
    r = run_benchmark("NP", ["CNN-LSTM"], out_dir=tmp_path / "b", max_days=4, compute=False, **swapped)
    after = pd.read_parquet(tmp_path / "b" / "cache" / "NP" / "forecasts.parquet")
    np.testing.assert_array_equal(after["CNN-LSTM_1"], before["CNN-LSTM_2"])
    np.testing.assert_array_equal(after["CNN-LSTM_2"], before["CNN-LSTM_1"])
    assert r["models"]["CNN-LSTM_1"]["days"] == 4 and not (tmp_path / "b" / "cache" / "NP" / "_unused").exists()


def test_blocks_computed_in_parallel_processes_equal_the_serial_ones(first, tmp_path, monkeypatch):
    out, serial = first
    r = run_benchmark("NP", MODELS, out_dir=tmp_path, max_days=4, jobs=2, **KW)
    assert r["device"].endswith(", 2 processes)")
    a = pd.read_parquet(out / "cache" / "NP" / "forecasts.parquet")
    b = pd.read_parquet(tmp_path / "cache" / "NP" / "forecasts.parquet")
    cols = [c for c in a.columns if c != "hybrid_w"]  # another test rescores `out` with fewer models
    pd.testing.assert_frame_equal(a[cols], b[cols])  # the same forecasts, bit for bit
    assert {k: m["MAE"] for k, m in r["models"].items()} == {k: m["MAE"] for k, m in serial["models"].items()}
    assert all(r["compute_s"][k] > 0 for k in ("LEAR_56", "LEAR_84", "ARX", "CNN-LSTM_1", "CNN-LSTM_2"))
    monkeypatch.setattr(bm, "_forecast_blocks", lambda *a: pytest.fail("a stored block was computed again"))
    again = run_benchmark("NP", MODELS, out_dir=tmp_path, max_days=4, jobs=2, **KW)
    assert again["models"] == r["models"]


def test_pool_tasks_put_long_blocks_first_and_group_daily_ones():
    days = pd.date_range("2017-01-01", periods=60)
    todo = {"LEAR_56": [days[i:i + 1] for i in range(60)], "CNN-LSTM_1": [days[:56], days[56:]]}
    tasks = bm._pool_tasks(todo, {"LEAR_56": 1, "CNN-LSTM_1": 56})
    assert [(n, len(b)) for n, b in tasks] == [("CNN-LSTM_1", 1), ("CNN-LSTM_1", 1), ("LEAR_56", 28), ("LEAR_56", 28),
                                              ("LEAR_56", 4)]


def test_two_runs_of_the_same_members_are_compared_like_with_like(first, tmp_path):
    import shutil
    out, _ = first
    a = out / "cache" / "NP"
    b = tmp_path / "b"
    shutil.copytree(a, b)
    cmd = [sys.executable, str(ROOT / "bench" / "compare_runs.py"), str(a), str(b), "--out", str(tmp_path / "c.md")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    row = next(l for l in (tmp_path / "c.md").read_text().splitlines() if l.startswith("| CNN-LSTM_1 |"))
    assert row.split("|")[2] == row.split("|")[3] and row.split("|")[4].strip() == "0.000"  # a run against its copy
    t = pd.read_csv(next((b / "CNN-LSTM_1").glob("*.csv")))
    t["h0"] += 1.0
    t.to_csv(next((b / "CNN-LSTM_1").glob("*.csv")), index=False)
    row = next(l for l in subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout.splitlines()
               if l.startswith("| CNN-LSTM_1 |"))
    assert float(row.split("|")[4]) == pytest.approx(1 / 24, abs=1e-3)  # one hour of each day moved by 1
    (b / "CNN-LSTM_1").rename(b / "CNN-LSTM_9")  # renumbered since: still paired by its settings
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    assert "| CNN-LSTM_9 (A: CNN-LSTM_1) |" in out and "without a counterpart" not in out
    spec = json.loads((b / "CNN-LSTM_9" / "spec.json").read_text())
    (b / "CNN-LSTM_9" / "spec.json").write_text(json.dumps({**spec, "seed": 99}))  # other settings: not paired
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    assert "without a counterpart: CNN-LSTM_9 (B), CNN-LSTM_1 (A)" in out and "| CNN-LSTM_9" not in out
    assert "| CNN-LSTM_2 |" in out
    (b / "CNN-LSTM_2" / "spec.json").write_text(json.dumps({**spec, "seed": 98}))
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and "no member CNN-LSTM_* of" in p.stderr
