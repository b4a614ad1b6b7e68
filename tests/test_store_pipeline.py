"""The forecasting stages on the price store (`data.source: store`): ENTSO-E DE_LU prices on local delivery days."""
import csv
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from conftest import _copy_repo, run


@pytest.fixture(scope="module")
def store_repo(tmp_path_factory, shared_data):
    "A copy of the repo whose CI params forecast DE_LU's last week of June 2023 from the price store; `dvc repro forecast`."
    repo = _copy_repo(tmp_path_factory.mktemp("store") / "electricity-optimizer")
    p = yaml.safe_load((repo / "tests" / "params-ci.yaml").read_text())
    p["data"].update(source="store", since="2023-01-02", until="2023-06-30")
    p["prices"].update(since="2023-01-01", until="2023-06-30")
    (repo / "params.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=ci", "-c", "user.email=ci@localhost", "commit", "-qm", "ci copy"]):
        run(cmd, repo)
    out = run(["dvc", "repro", "forecast"], repo, timeout=900)
    return {"repo": repo, "log": out.stdout + out.stderr}


def _csv_prices(path) -> dict:
    "Price_DA by wall-clock time, read straight from the published CSV (M/D/YYYY H:MM, CET/CEST)."
    with open(path, newline="") as f:
        rows = csv.reader(f)
        head = next(rows)
        i = head.index("Price_DA")
        return {pd.to_datetime(r[0], format="%m/%d/%Y %H:%M"): float(r[i]) for r in rows if r and r[0].strip()}


def test_forecasts_cover_the_last_local_days_of_the_store(store_repo):
    m = json.loads((store_repo["repo"] / "metrics" / "forecast.json").read_text())
    assert (m["market"], m["test_days"], m["test_start"], m["test_end"]) == ("DE_LU", 7, "2023-06-23", "2023-06-29")
    assert set(m["models"]) == {"naive_daily", "naive_weekly", "cnn_lstm", "lear_84", "cnn_lstm_bc", "lear_84_bc"}
    # the daily recalibrated lasso beats the weekly naive on this summer week, as everywhere in the benchmark
    assert m["models"]["lear_84"]["MAE"] < m["models"]["naive_weekly"]["MAE"]


def test_forecast_days_are_the_auction_days_on_the_local_clock(store_repo, shared_data):
    "Each forecast hour's actual price is the CSV's price at its local wall-clock hour (CEST in June), not an hour off."
    with xr.open_dataset(store_repo["repo"] / "data" / "forecasts" / "forecast.nc") as fc:
        actual = fc["price"].isel(zone=0).to_pandas()
        hours = pd.DataFrame({"date": fc["local_date"].values, "hour": fc["local_hour"].values}, index=actual.index)
    published = _csv_prices(shared_data / "entsoe" / "DE_LU.csv")
    assert len(actual) == 7 * 24
    for t, price in actual.items():
        wall = hours.date[t] + pd.Timedelta(hours=int(hours.hour[t]))
        assert wall == t + pd.Timedelta(hours=1)  # stamped at the standard offset (CET), like the EPF files
        assert price == pytest.approx(published[wall]), t


def test_features_record_the_store_as_their_source(store_repo):
    with xr.open_dataset(store_repo["repo"] / "data" / "features" / "features.nc") as ds:
        assert (ds.attrs["source"], ds.attrs["market"], ds.attrs["zone"]) == ("store", "DE_LU", "DE_LU")
        assert str(ds.local_date.values[0])[:10] == "2023-01-02"


def _predictions(repo, day) -> pd.DataFrame:
    return pd.read_csv(repo / "data" / "predictions" / f"DE_LU_{day}.csv", parse_dates=["utc_start"])


def test_predict_on_a_test_day_replays_the_forecast_stage(store_repo):
    "`eo predict --day` inside the features is a backtest: every model gives what the forecast stage gave that day."
    repo = store_repo["repo"]
    out = run(["eo", "predict", "--day", "2023-06-29"], repo).stdout
    assert "exogenous_from=features" in out and "MAE" in out
    got = _predictions(repo, "2023-06-29")
    with xr.open_dataset(repo / "data" / "forecasts" / "forecast.nc") as fc:
        day = fc["price_forecast"].isel(zone=0).isel(time=slice(-24, None))
        for m in ("naive_daily", "naive_weekly", "lear_84", "cnn_lstm", "lear_84_bc", "cnn_lstm_bc"):
            assert got[m].to_numpy() == pytest.approx(day.sel(model=m).values, abs=6e-4), m
        assert got["actual"].to_numpy() == pytest.approx(fc["price"].isel(zone=0).values[-24:], abs=6e-4)


def test_predict_without_enough_recent_forecasts_gives_no_corrected_column(store_repo):
    "The first test day has no forecast stage days before it: nothing to correct with, and the command says so."
    repo = store_repo["repo"]
    out = run(["eo", "predict", "--day", "2023-06-23"], repo).stdout
    assert "corrected_by=not corrected: " in out and "holds 0 of the 3 days before 2023-06-23, fewer than 2" in out
    got = _predictions(repo, "2023-06-23")
    assert "cnn_lstm" in got and not [c for c in got if c.endswith("_bc")]
    # planning on the corrected forecast: the day has none, so the model it corrects names the cheapest hours
    bc = repo / "params-bc.yaml"
    bc.write_text((repo / "params.yaml").read_text().replace("model_for_optimization: cnn_lstm", "model_for_optimization: cnn_lstm_bc"))
    out = run(["eo", "predict", "--day", "2023-06-23", "--params", str(bc)], repo).stdout
    assert "cheapest_by=cnn_lstm," in out, out


def test_predict_the_day_after_the_features_from_its_published_forecasts(store_repo, shared_data):
    repo = store_repo["repo"]
    out = run(["eo", "predict"], repo).stdout
    assert "day=2023-06-30" in out and "exogenous_from=entsoe_csv" in out and "cheapest_hours=" in out
    assert "cheapest_by=cnn_lstm," in out
    assert "cnn_lstm_from=the forecast stage's fine-tuned network" in out
    got = _predictions(repo, "2023-06-30")
    # continuing from where the forecast stage left the network gives what replaying its fine-tuning gives
    meta = repo / "data" / "models" / "cnn_lstm_after_forecast.json"
    kept = meta.read_text()
    meta.unlink()
    try:
        assert "cnn_lstm_from=7 fine-tuning steps replayed" in run(["eo", "predict"], repo).stdout
        assert _predictions(repo, "2023-06-30").cnn_lstm.tolist() == got.cnn_lstm.tolist()
    finally:
        meta.write_text(kept)
    assert len(got) == 24 and got.local_time.iloc[0] == "2023-06-30 00:00+0200" and "actual" not in got
    assert got[["naive_daily", "naive_weekly", "lear_84", "cnn_lstm", "lear_84_bc", "cnn_lstm_bc"]].notna().all().all()
    # corrected by half the median error of each hour over the forecast stage's last 3 days (params-ci: window 3)
    with xr.open_dataset(repo / "data" / "forecasts" / "forecast.nc") as fc:
        y = fc["price"].isel(zone=0).values.reshape(-1, 24)[-3:]
        for m in ("cnn_lstm", "lear_84"):
            f = fc["price_forecast"].sel(model=m).isel(zone=0).values.reshape(-1, 24)[-3:]
            want = got[m].to_numpy() + 0.5 * np.median(y - f, axis=0)  # in the CSV's clock order, as the day is 24 CEST hours
            assert got[f"{m}_bc"].to_numpy() == pytest.approx(want, abs=2e-3), m
    # a Friday: the daily naive forecast is Thursday's price at the same local hour, read straight from the CSV
    published = _csv_prices(shared_data / "entsoe" / "DE_LU.csv")
    thursday = [published[pd.Timestamp("2023-06-29") + pd.Timedelta(hours=h)] for h in range(24)]
    assert got["naive_daily"].tolist() == pytest.approx(thursday, abs=6e-4)


def test_predict_refuses_days_it_cannot_forecast(store_repo):
    repo = store_repo["repo"]
    r = run(["eo", "predict", "--day", "2023-07-05"], repo, check=False)
    assert r.returncode == 2 and "the features end on 2023-06-29, so 2023-07-05 cannot be forecast yet" in r.stderr
    p = yaml.safe_load((repo / "params.yaml").read_text())
    p["data"]["source"] = "epf"
    (repo / "params-epf.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    r = run(["eo", "predict", "-p", "params-epf.yaml"], repo, check=False)
    assert r.returncode == 2 and "eo predict forecasts from the price store: set data.source: store" in r.stderr
    p["data"]["source"], p["prices"]["sources"] = "store", ["energy_charts"]
    (repo / "params-ec.yaml").write_text(yaml.safe_dump(p, sort_keys=False))
    r = run(["eo", "predict", "-p", "params-ec.yaml"], repo, check=False)
    assert r.returncode == 2 and "no load and wind/solar forecasts of DE_LU for 2023-06-30 (energy_charts publishes no load" in r.stderr


def test_next_day_forecasts_come_from_the_entsoe_api(httpserver, monkeypatch, shared_data):
    "For the day after the store, the load and wind/solar forecasts come from the API (A65, A69 at 15 minutes), hour by hour."
    from electricity_optimizer import pipeline
    from electricity_optimizer.config import Params
    from electricity_optimizer.sources import read_entsoe_csv, utc
    from electricity_optimizer.sources_more import EntsoeSource
    from test_sources import FAST, _entsoe_api_from_csv
    csv = read_entsoe_csv(shared_data / "entsoe" / "DE_LU.csv", fundamentals=True)
    monkeypatch.setenv("ENTSOE_API_TOKEN", "t")
    httpserver.expect_request("/api").respond_with_handler(_entsoe_api_from_csv(csv, "t"))
    api = EntsoeSource(base_url=httpserver.url_for("/api"), policy=FAST)
    monkeypatch.setattr(pipeline, "_price_source", lambda name, p: api)
    p = Params.model_validate({"prices": {"sources": ["octopus", "entsoe"], "since": "2023-01-01"},
                               "data": {"source": "store", "since": "2023-01-02"}})
    rows, source = pipeline._day_exog(p, "DE_LU", pd.Timestamp("2023-03-26"))  # the spring DST day: 23 hours
    ref = csv[(csv.timestamp >= utc("2023-03-25 23:00")) & (csv.timestamp < utc("2023-03-26 22:00"))]
    assert source == "entsoe" and len(rows) == 23
    assert rows.exog_0.tolist() == ref.exog_0.tolist() and rows.exog_1.tolist() == pytest.approx(ref.exog_1.tolist())


def test_ingest_refetches_the_forecasts_stored_rows_lack(tmp_path, shared_data):
    "Rows stored without day-ahead forecasts (from a price-only source) get them from the CSV collection; prices and provenance stay."
    import numpy as np
    from electricity_optimizer.config import Params
    from electricity_optimizer.pipeline import Paths, update_store
    from electricity_optimizer.sources_more import make_source
    from electricity_optimizer.store import read_revisions, read_store, update
    csv = make_source("entsoe_csv", mirror=str(shared_data)).fetch(
        "DE_LU", pd.Timestamp("2023-03-01", tz="UTC"), pd.Timestamp("2023-03-08", tz="UTC"))
    assert len(csv) == 7 * 24 and csv[["exog_0", "exog_1"]].notna().all().all()
    bare = csv.assign(exog_0=np.nan, exog_1=np.nan, price=csv.price + 1.0, source="energy_charts")
    bare.loc[bare.index[:24], ["exog_0", "exog_1"]] = csv.loc[csv.index[:24], ["exog_0", "exog_1"]].to_numpy()  # day 1 has them
    bare.loc[bare.index[100:110], ["exog_0", "exog_1"]] = csv.loc[csv.index[100:110], ["exog_0", "exog_1"]].to_numpy()
    update(tmp_path / "data/store", bare)
    p = Params.model_validate({"data": {"source": "store", "since": "2023-03-02", "until": "2023-03-08", "mirror": str(shared_data)},
                               "prices": {"sources": ["entsoe_csv"], "since": "2023-03-01", "until": "2023-03-08"}})
    out = update_store(p, paths=Paths(tmp_path))
    assert (out["forecasts_filled"], out["added"]) == (7 * 24 - 34, 0)
    got = read_store(tmp_path / "data/store")
    assert got.price.tolist() == bare.price.tolist() and set(got.source) == {"energy_charts"}  # only the forecasts changed
    np.testing.assert_allclose(got[["exog_0", "exog_1"]].to_numpy(), csv[["exog_0", "exog_1"]].to_numpy())
    assert read_revisions(tmp_path / "data/store").empty  # filling what was missing revises nothing
    assert update_store(p, paths=Paths(tmp_path))["forecasts_filled"] == 0  # nothing left to fill
    # with the EPF file as the forecasting source the store is not touched for forecasts
    p_epf = Params.model_validate({"prices": {"sources": ["entsoe_csv"], "since": "2023-03-01", "until": "2023-03-08"}})
    assert update_store(p_epf, paths=Paths(tmp_path))["forecasts_filled"] == 0
