"""The forecasting stages on the price store (`data.source: store`): ENTSO-E DE_LU prices on local delivery days."""
import csv
import json
import shutil

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
    assert set(m["models"]) == {"naive_daily", "naive_weekly", "cnn_lstm", "lear_84"}
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
