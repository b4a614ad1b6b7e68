"""End to end: `dvc repro` on the CI params in a copy of the repo, from real prices to the report."""
import json
import sqlite3

import pandas as pd
import pytest

from conftest import run


def test_repro_runs_every_stage(repro_repo):
    out = repro_repo["first"]
    for stage in ("ingest", "quality", "features", "train", "forecast", "optimize", "household", "switch", "report"):
        assert f"Running stage '{stage}'" in out, out[-3000:]


def test_second_repro_does_nothing(repro_repo):
    out = repro_repo["second"]
    assert "Running stage" not in out, out
    assert "up to date" in out


def test_forecast_metrics_are_measured(repro_repo):
    m = json.loads((repro_repo["repo"] / "metrics/forecast.json").read_text())
    assert m["test_days"] == 7 and m["market"] == "DE"
    assert set(m["models"]) == {"naive_daily", "naive_weekly", "cnn_lstm", "lear_84", "cnn_lstm_bc", "lear_84_bc"}
    for name, s in m["models"].items():
        assert 0 < s["MAE"] < 100 and 0 < s["sMAPE"] < 200, (name, s)
    assert m["models"]["naive_weekly"]["rMAE"] == pytest.approx(1.0)
    assert m["models"]["lear_84"]["rMAE"] < 1  # the lasso beats last week's prices


def test_corrected_forecasts_add_half_the_recent_median_error(repro_repo):
    import numpy as np
    import xarray as xr
    from electricity_optimizer.stats_models import correct_recent_bias
    repo = repro_repo["repo"]
    m = json.loads((repo / "metrics/forecast.json").read_text())
    assert m["correction"] == {"window": 3, "shrink": 0.5, "stat": "median", "min_days": 2}
    with xr.open_dataset(repo / "data/forecasts/forecast.nc") as fc: fc = fc.load()
    y = fc["price"].isel(zone=0).values.reshape(-1, 24)
    for name in ("cnn_lstm", "lear_84"):
        f = fc["price_forecast"].sel(model=name).isel(zone=0).values.reshape(-1, 24)
        got = fc["price_forecast"].sel(model=f"{name}_bc").isel(zone=0).values.reshape(-1, 24)
        np.testing.assert_array_equal(got[:2], f[:2])  # fewer than min_days errors known: unchanged
        assert np.abs(got[2:] - f[2:]).max() > 0, name  # then corrected ...
        np.testing.assert_allclose(got, correct_recent_bias(f, y, window=3, shrink=0.5, min_days=2))  # ... by its own past errors
        # day 2 by hand: half the median of the errors of days 0 and 1 (the mean of two values), hour by hour
        np.testing.assert_allclose(got[2], f[2] + 0.5 * np.median(y[:2] - f[:2], axis=0))


def test_the_cnn_lstm_is_fine_tuned_before_every_later_test_day(repro_repo):
    import numpy as np
    import xarray as xr
    from electricity_optimizer.cnn_lstm import CNNLSTMModel
    repo = repro_repo["repo"]
    m = json.loads((repo / "metrics/forecast.json").read_text())
    assert m["cnn_lstm_update_every"] == 1
    with xr.open_dataset(repo / "data/features/features.nc") as ds: ds = ds.load()
    with xr.open_dataset(repo / "data/forecasts/forecast.nc") as fc: fc = fc.load()
    got = fc["price_forecast"].sel(model="cnn_lstm").isel(zone=0).values.reshape(-1, 24)
    trained = CNNLSTMModel.load(repo / "data/models/cnn_lstm.pt")  # as registered: trained up to the first test day
    first, last = pd.Timestamp(m["test_start"]), pd.Timestamp(m["test_end"])
    np.testing.assert_allclose(got[0], trained.predict_days(ds, [first])[0], rtol=1e-5)
    assert np.abs(got[-1] - trained.predict_days(ds, [last])[0]).max() > 0.01  # the last day's network was fine-tuned


def test_lear_in_the_pipeline_is_recalibrated_before_every_day(repro_repo):
    import numpy as np
    import xarray as xr
    from electricity_optimizer.lear import LEAR
    repo = repro_repo["repo"]
    m = json.loads((repo / "metrics/forecast.json").read_text())
    with xr.open_dataset(repo / "data/features/features.nc") as ds: ds = ds.load()
    with xr.open_dataset(repo / "data/forecasts/forecast.nc") as fc: fc = fc.load()
    first, last = pd.Timestamp(m["test_start"]), pd.Timestamp(m["test_end"])
    got = fc["price_forecast"].sel(model="lear_84").isel(zone=0).values[-24:]
    np.testing.assert_allclose(got, LEAR(84).fit(ds, until=last).predict_days(ds, [last])[0])  # on the days up to the one before
    assert not np.allclose(got, LEAR(84).fit(ds, until=first).predict_days(ds, [last])[0])  # not once before the test period


def test_savings_are_consistent(repro_repo):
    m = json.loads((repro_repo["repo"] / "metrics/optimize.json").read_text())
    plan = pd.read_parquet(repro_repo["repo"] / "data/schedules/savings.parquet")
    total = plan[plan["device"] == "total"]
    assert m["days"] + m["days_skipped"] == len(total)
    total = total[total["status"] == "ok"]
    assert m["days"] == len(total) > 0
    assert m["cost_unmanaged"] == pytest.approx(total["unmanaged"].sum(), abs=0.01)
    assert m["savings_forecast"] == pytest.approx(m["cost_unmanaged"] - m["cost_forecast"], abs=0.01)
    # perfect foresight is the upper bound of any schedule paid at the same prices
    assert m["cost_perfect"] <= m["cost_forecast"] + 1e-6
    assert m["cost_perfect"] <= m["cost_unmanaged"] + 1e-6
    # every forecast model is priced on the same days: the chosen one as in the headline, none above perfect foresight
    fm = json.loads((repro_repo["repo"] / "metrics/forecast.json").read_text())
    by = m["by_forecast_model"]
    assert set(by) == set(fm["models"])
    assert by[m["forecast_model"]]["savings_forecast"] == m["savings_forecast"]
    for name, v in by.items():
        assert v["MAE"] == pytest.approx(fm["models"][name]["MAE"], abs=1e-3), name
        assert v["cost_forecast"] >= m["cost_perfect"] - 1e-6, name
        assert v["savings_forecast"] == pytest.approx(m["cost_unmanaged"] - v["cost_forecast"], abs=0.01), name
    assert len({v["cost_forecast"] for v in by.values()}) > 1  # different forecasts, different schedules


def test_planning_on_a_corrected_forecast_gives_what_the_comparison_reported(repro_repo, tmp_path):
    import shutil
    from electricity_optimizer.config import load_params
    from electricity_optimizer.pipeline import Paths, run_optimize
    repo = repro_repo["repo"]
    (tmp_path / "data/forecasts").mkdir(parents=True)
    shutil.copy(repo / "data/forecasts/forecast.nc", tmp_path / "data/forecasts/forecast.nc")
    text = (repo / "params.yaml").read_text().replace("model_for_optimization: cnn_lstm", "model_for_optimization: cnn_lstm_bc")
    text = text.replace("compare_forecasts: true", "compare_forecasts: false")
    text = text.replace("uri: sqlite:///mlruns/mlflow.db", f"uri: sqlite:///{tmp_path / 'mlflow.db'}")
    (tmp_path / "params.yaml").write_text(text)
    m = run_optimize(load_params(tmp_path / "params.yaml"), Paths(root=tmp_path))
    compared = json.loads((repo / "metrics/optimize.json").read_text())["by_forecast_model"]["cnn_lstm_bc"]
    assert (m["forecast_model"], m["forecasts_planned"]) == ("cnn_lstm_bc", 1)
    assert m["cost_forecast"] == pytest.approx(compared["cost_forecast"], abs=1e-6)
    assert m["savings_forecast"] == pytest.approx(compared["savings_forecast"], abs=1e-6)
    assert (tmp_path / "data/schedules/savings.parquet").exists()


def test_dvc_metrics_show_lists_mae_and_savings(repro_repo):
    out = run(["dvc", "metrics", "show"], repro_repo["repo"]).stdout
    assert "MAE" in out and "savings_forecast" in out, out


def test_mlflow_recorded_every_stage(repro_repo):
    db = repro_repo["repo"] / "mlruns" / "mlflow.db"
    with sqlite3.connect(db) as con:
        runs = {r[0] for r in con.execute("select name from runs")}
        metrics = {r[0] for r in con.execute("select distinct key from metrics")}
        aliases = {(r[0], r[1]) for r in con.execute("select name, alias from registered_model_aliases")}
    assert {"ingest", "quality", "train", "forecast", "optimize", "household", "switch", "report"} <= runs
    assert {"models.cnn_lstm.MAE", "models.cnn_lstm.sMAPE", "savings_forecast"} <= metrics
    assert ("price-forecaster", "production") in aliases
    fc = json.loads((repro_repo["repo"] / "metrics/forecast.json").read_text())
    assert fc["forecaster"].startswith("price-forecaster@production sha256:")


def test_forecast_run_keeps_its_file_and_the_registered_model_its_signature(repro_repo):
    import mlflow
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{repro_repo['repo'] / 'mlruns' / 'mlflow.db'}")
    exp = client.get_experiment_by_name("electricity-optimizer")
    run = client.search_runs([exp.experiment_id], "attributes.run_name = 'forecast'")[0]
    assert {"forecast.json", "forecast.nc"} <= {a.path for a in client.list_artifacts(run.info.run_id)}
    mv = client.get_model_version_by_alias("price-forecaster", "production")
    mlflow.set_tracking_uri(client.tracking_uri)
    sig = mlflow.models.get_model_info(f"models:/price-forecaster/{mv.version}").signature
    assert sig.inputs.input_names() == ["local_date", "local_hour", "price", "exog_0", "exog_1"]
    assert sig.outputs.input_names() == ["local_date", "local_hour", "forecast"]


def test_report_html_shows_the_savings(repro_repo):
    m = json.loads((repro_repo["repo"] / "metrics/optimize.json").read_text())
    html = (repro_repo["repo"] / "reports/build/savings.html").read_text()
    assert f'{m["savings_forecast"]:.2f}' in html
    assert "data:image/png;base64" in html


def test_household_report_html(repro_repo):
    html = (repro_repo["repo"] / "reports/build/household.html").read_text()
    assert "dynamic" in html and "tou" in html and "data:image/png;base64" in html


def test_nbval_on_the_executed_reports(repro_repo):
    build = repro_repo["repo"] / "reports/build"
    r = run(["python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
             *(str(build / f"{n}.ipynb") for n in ("savings", "household", "switching"))],
            repro_repo["repo"], check=False, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]


def test_household_study_on_real_data(repro_repo):
    m = json.loads((repro_repo["repo"] / "metrics/household.json").read_text())["tariffs"]
    assert set(m) == {"dynamic", "tou", "flat"}
    df = pd.read_parquet(repro_repo["repo"] / "data/household/savings.parquet")
    for tariff, s in m.items():
        assert s["days"] == 14, (tariff, s)
        # perfect foresight is the upper bound for every other schedule paid at the same prices
        assert s["cost_perfect"] <= min(s["cost_unmanaged"], s["cost_rule"], s["cost_forecast"]) + 0.01, (tariff, s)
        sub = df[(df["tariff"] == tariff) & (df["device"] != "total")]
        total = df[(df["tariff"] == tariff) & (df["device"] == "total")]
        assert sub["unmanaged"].sum() == pytest.approx(total["unmanaged"].sum(), rel=1e-6)


def test_switching_decision(repro_repo):
    m = json.loads((repro_repo["repo"] / "metrics/switching.json").read_text())
    ranking = pd.read_parquet(repro_repo["repo"] / "data/switching/ranking.parquet")
    assert m["action"] in {"switch", "wait", "stay"}
    assert m["current"] == "Contact BasicPlan (standard)" and m["currency"] == "NZD"
    assert m["candidates"] == len(ranking) - 1 == 37
    assert m["current_annual_cost"] > 0 and m["reasons"]
    if m["action"] == "switch":
        rec = ranking[ranking["recommended"]]
        assert len(rec) == 1 and rec["eligible"].iloc[0] and rec["tariff"].iloc[0] == m["recommended"]


def test_price_store_is_filled_and_idempotent(repro_repo):
    repo = repro_repo["repo"]
    m = json.loads((repo / "metrics/ingest.json").read_text())
    assert m["zone"] == "DE_LU" and m["sources"] == ["entsoe_csv"]
    assert m["missing_intervals"] == 0 and m["rows"] == 24 * 60  # 2023-05-01 .. 2023-06-29 (UTC), hourly
    store = repo / "data/store/prices.parquet"
    before = (store.stat().st_mtime_ns, store.read_bytes())
    out = run(["eo", "ingest"], repo).stdout
    assert "market=DE" in out
    assert (store.stat().st_mtime_ns, store.read_bytes()) == before
    assert json.loads((repo / "metrics/ingest.json").read_text()) == m


def test_switch_with_the_measured_household_reoptimized(repro_repo):
    "profile opsd: the household's devices re-optimized (MILP) for each German 2016 tariff."
    import yaml
    repo = repro_repo["repo"]
    p = yaml.safe_load((repo / "params.yaml").read_text())
    p["switch"].update(profile="opsd", opsd_current="flat", milp_start="2016-03-07", milp_end="2016-03-20")
    d = repo / "params-variants"
    d.mkdir(exist_ok=True)
    (d / "opsd.yaml").write_text(yaml.safe_dump(p))
    outs = ("metrics/switching.json", "data/switching/ranking.parquet")
    saved = {o: (repo / o).read_bytes() for o in outs}
    try:
        run(["eo", "switch", "--params", str(d / "opsd.yaml")], repo)
        m = json.loads((repo / "metrics/switching.json").read_text())
        ranking = pd.read_parquet(repo / "data/switching/ranking.parquet")
    finally:  # leave the copy as dvc repro left it
        for o, b in saved.items():
            (repo / o).write_bytes(b)
    assert m["current"] == "flat" and m["action"] in {"switch", "wait", "stay"}
    assert set(m["saving_shifting"]) == {"dynamic", "tou", "flat"}
    assert all(v >= -0.01 for v in m["saving_shifting"].values())  # re-optimizing never costs more
    assert set(ranking["tariff"]) == {"dynamic", "tou", "flat"}


def test_tuned_preset_trains_the_network_the_selection_took_first():
    import yaml
    from conftest import ROOT
    from electricity_optimizer.benchmark import CNN_PARAMS, tuned_network
    from electricity_optimizer.config import Params
    from electricity_optimizer.pipeline import Paths, _cnn_lstm
    p = yaml.safe_load((ROOT / "tests" / "params-ci.yaml").read_text())
    p["train"]["cnn_lstm"] = {"preset": "tuned", "val_days": 14}
    model, network = _cnn_lstm(Params.model_validate(p), Paths(ROOT))
    key, net = tuned_network("DE", ROOT / "reports/benchmarks/tuning")
    assert network == f"tuned: DE configuration {key}"
    assert model.params == {**model.params, **CNN_PARAMS, **net, "val_days": 14, "seed": 7, "num_threads": 1}
    assert model.params["train_days"] == json.loads((ROOT / "reports/benchmarks/tuning/DE.selection.json").read_text())[
        "selected"][0]["params"]["train_days"]  # its own window, not train.train_days
