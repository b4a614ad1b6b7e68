"""Forecast metrics, seasonal naive baselines and the CNN-LSTM on real EPF data (DE)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from electricity_optimizer.cnn_lstm import CNNLSTMModel, PriceDataModule
from electricity_optimizer.forecast import (DayAheadModel, SeasonalNaive, daily_view, evaluate, forecast_dataset,
                                            forecast_days, forecast_metrics, mae, mape, rmae, rmse, smape)
from electricity_optimizer.storage import write_netcdf

torch.set_num_threads(2)
EPF = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "epf"


def _features(market="DE", start=None, days=None) -> xr.Dataset:
    "The features layout built straight from an EPF benchmark CSV (local time = UTC + 1 h, DST smoothed)."
    f = EPF / f"{market}.csv"
    if not f.exists():
        pytest.skip(f"real data not found: {f}")
    df = pd.read_csv(f, index_col=0, parse_dates=True)
    df.columns = df.columns.str.strip()
    if start is not None:
        df = df[df.index >= pd.Timestamp(start)]
    if days is not None:
        df = df.iloc[: 24 * days]
    local, v = df.index, df.to_numpy(float)[:, :, None]
    return xr.Dataset(
        {"price": (("time", "zone"), v[:, 0]), "exog_0": (("time", "zone"), v[:, 1]),
         "exog_1": (("time", "zone"), v[:, 2])},
        coords={"time": (local - pd.Timedelta(hours=1)).as_unit("ns"), "zone": [market],
                "local_date": ("time", local.normalize().as_unit("ns")), "local_hour": ("time", local.hour),
                "dayofweek": ("time", local.day_of_week)})


@pytest.fixture(scope="module")
def de() -> xr.Dataset:
    return _features()


@pytest.fixture(scope="module")
def short(de) -> xr.Dataset:
    "150 real days of DE (2016-06-01 ..)."
    return de.where(de.local_date >= pd.Timestamp("2016-06-01"), drop=True).isel(time=slice(0, 150 * 24))


def _days(ds):
    return pd.DatetimeIndex(daily_view(ds)[0])


TINY = dict(epochs=2, hidden=8, channels=4, mlp_hidden=16, train_days=100, val_days=14, batch_size=16, num_threads=2)


@pytest.fixture(scope="module")
def fitted(short):
    days = _days(short)
    t0 = time.perf_counter()
    m = CNNLSTMModel(**TINY).fit(short, until=days[120])
    return m, time.perf_counter() - t0


# --- metrics ---------------------------------------------------------------------------------------

def test_metrics_by_hand():
    y = np.array([10.0, 20.0, 30.0, np.nan, 40.0])
    yhat = np.array([11.0, 18.0, 30.0, 5.0, np.nan])
    assert mae(y, yhat) == pytest.approx(1.0)
    assert rmse(y, yhat) == pytest.approx(np.sqrt(5 / 3))
    assert smape(y, yhat) == pytest.approx(100 * (2 * 1 / 21 + 2 * 2 / 38) / 3)
    assert mape(y, yhat) == pytest.approx(100 * (1 / 10 + 2 / 20) / 3)
    naive = np.array([12.0, 24.0, 27.0, 0.0, 1.0])
    assert rmae(y, yhat, naive) == pytest.approx(1.0 / 3.0)
    # MAPE ignores |y| <= 1; sMAPE counts 0/0 as a perfect forecast
    assert mape([0.5, -1.0, 10.0], [9.0, 9.0, 11.0]) == pytest.approx(10.0)
    assert smape([0.0, 10.0], [0.0, 30.0]) == pytest.approx(50.0)


def test_forecast_metrics_keys_and_rounding():
    r = forecast_metrics([10.0, 20.0, 30.0], [11.0, 18.0, 30.0], [12.0, 24.0, 27.0])
    assert list(r) == ["MAE", "rMAE", "sMAPE", "RMSE", "MAPE"]
    assert all(isinstance(v, float) for v in r.values())
    assert r["MAE"] == 1.0 and r["rMAE"] == 0.3333 and r["RMSE"] == 1.291
    assert np.isnan(forecast_metrics([1.0], [2.0])["rMAE"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(-500, 3000), st.floats(-500, 3000)), min_size=1, max_size=50))
def test_metric_properties(pairs):
    y, yhat = np.array(pairs).T
    assert 0 <= smape(y, yhat) <= 200 + 1e-9
    assert mae(y, yhat) <= rmse(y, yhat) + 1e-9
    assert mae(y, yhat) == pytest.approx(mae(yhat, y))
    assert mae(y, y) == 0 and smape(y, y) == 0


# --- naive baselines on real data -------------------------------------------------------------------

def test_weekly_naive_is_the_price_168_hours_earlier(de):
    days = _days(de)[-60:]
    fc = forecast_days(SeasonalNaive("weekly"), de, days, progress=False)
    s = de.price.isel(zone=0).to_series()
    expected = s.reindex(pd.DatetimeIndex(fc.time.values) - pd.Timedelta(hours=168)).to_numpy()
    np.testing.assert_array_equal(fc.isel(zone=0).values, expected)
    assert fc.name == "naive_weekly" and fc.dims == ("time", "zone")


def test_daily_naive_follows_the_benchmark(de):
    days = _days(de)[-21:]
    fc = forecast_days(SeasonalNaive("daily"), de, days, progress=False).isel(zone=0)
    s = de.price.isel(zone=0).to_series()
    for d in days:
        lag = 7 if d.day_of_week in (0, 5, 6) else 1
        t = pd.DatetimeIndex(de.time.values[de.local_date.values == d.to_datetime64()])
        np.testing.assert_array_equal(fc.sel(time=t).values, s.loc[t - pd.Timedelta(days=lag)].to_numpy())


def test_forecast_dataset_and_evaluate(de, tmp_path):
    days = _days(de)[-28:]
    fc = forecast_dataset({"naive_daily": SeasonalNaive("daily"), "naive_weekly": SeasonalNaive("weekly")},
                          de, days, progress=False)
    assert fc.price_forecast.dims == ("model", "time", "zone")
    assert fc.attrs["test_start"] == str(days[0].date()) and fc.attrs["test_days"] == 28
    np.testing.assert_array_equal(fc.price.values, de.price.sel(time=fc.time).values)
    scores = evaluate(fc)
    assert scores["naive_weekly"]["rMAE"] == 1.0
    only = fc.sel(model=["naive_daily"])
    assert evaluate(only, de) == {"naive_daily": scores["naive_daily"]}
    write_netcdf(fc, tmp_path / "fc.nc")
    with xr.open_dataset(tmp_path / "fc.nc") as back:
        assert evaluate(back) == scores


def test_base_model_loops_predict(short):
    class Const(DayAheadModel):
        name = "const"
        def predict(self, ds, day):
            return np.arange(24.0)
    days = _days(short)[10:13]
    fc = forecast_days(Const(), short, days, progress=False)
    np.testing.assert_array_equal(fc.values[:, 0], np.tile(np.arange(24.0), 3))


# --- CNN-LSTM ---------------------------------------------------------------------------------------

def test_datamodule_windows_are_chronological(short):
    days = _days(short)
    dm = PriceDataModule(short, train_until=days[120], train_days=100, val_days=14)
    dm.setup("fit")
    assert len(dm.train_set) == 86 and len(dm.val_set) == 14
    assert dm.train_dates.max() < dm.val_dates.min() and dm.val_dates.max() == days[119]
    seq, static, y = dm.train_set[0]
    assert seq.shape == (168, 3) and static.shape == (55,) and y.shape == (24,)


def test_cnn_lstm_trains_fast_and_forecasts(fitted, short):
    m, seconds = fitted
    assert seconds < 60
    days = _days(short)[120:150]
    pred = m.predict_days(short, days)
    assert pred.shape == (30, 24) and np.isfinite(pred).all()
    assert m.predict(short, days[3]).shape == (24,)
    actual = daily_view(short)[1][120:150, :, 0]
    assert np.isfinite(mae(actual, pred))
    assert len(m.history) == TINY["epochs"] and {"train_loss", "val_loss"} <= set(m.history[-1])


def test_no_leakage(fitted, short):
    m, _ = fitted
    day = _days(short)[130]
    base = m.predict(short, day)
    later = (short.local_date >= day.to_datetime64()).broadcast_like(short.price)
    tampered = short.assign(price=short.price.where(~later, -short.price * 5 + 300.0))
    np.testing.assert_array_equal(m.predict(tampered, day), base)
    # earlier prices do matter
    before = (short.local_date == (day - pd.Timedelta(days=1)).to_datetime64()).broadcast_like(short.price)
    assert not np.array_equal(m.predict(short.assign(price=short.price.where(~before, 500.0)), day), base)


def test_save_load_round_trip(fitted, short, tmp_path):
    m, _ = fitted
    days = _days(short)[120:150]
    m.save(tmp_path / "m.pt")
    assert [p.name for p in tmp_path.iterdir()] == ["m.pt"]
    back = CNNLSTMModel.load(tmp_path / "m.pt")
    np.testing.assert_array_equal(back.predict_days(short, days), m.predict_days(short, days))
    assert back.params == m.params and back.fit_until == m.fit_until


def test_seeded_fit_is_reproducible_and_writes_nothing(short, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    days = _days(short)
    kw = dict(TINY, epochs=1, train_days=40, val_days=7)
    a = CNNLSTMModel(**kw).fit(short, days[60]).predict_days(short, days[60:65])
    b = CNNLSTMModel(**kw).fit(short, days[60]).predict_days(short, days[60:65])
    np.testing.assert_array_equal(a, b)
    assert list(tmp_path.iterdir()) == []  # no lightning_logs, no checkpoints


def test_training_uses_only_days_before_until(short):
    days = _days(short)
    kw = dict(TINY, epochs=1, train_days=40, val_days=7)
    after = (short.local_date >= days[60].to_datetime64()).broadcast_like(short.price)
    tampered = short.assign(price=short.price.where(~after, 1000.0))
    a = CNNLSTMModel(**kw).fit(short, days[60]).predict_days(short, days[60:62])
    b = CNNLSTMModel(**kw).fit(tampered, days[60]).predict_days(short, days[60:62])
    np.testing.assert_array_equal(a, b)


def test_quantiles(short):
    days = _days(short)
    m = CNNLSTMModel(**dict(TINY, epochs=1, train_days=40, val_days=0), quantiles=(0.1, 0.5, 0.9)).fit(short, days[60])
    q = m.predict_quantiles(short, days[60:63])
    assert q.shape == (3, 24, 3) and (np.diff(q, axis=-1) >= 0).all()
    np.testing.assert_array_equal(m.predict_days(short, days[60:63]), q[..., 1])


def test_unfitted_model_refuses(short):
    with pytest.raises(RuntimeError, match="not fitted"):
        CNNLSTMModel().predict(short, _days(short)[20])


def _running(pid: int) -> bool:
    "Whether process `pid` exists and is not a zombie."
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_pool_workers_end_when_their_parent_is_killed(tmp_path):
    import subprocess
    import sys
    import time
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, sys, time\n"
        "from electricity_optimizer.forecast import process_pool\n"
        "def busy(_):\n"
        "    time.sleep(1)\n"
        "    return os.getpid()\n"
        "if __name__ == '__main__':\n"
        "    pool = process_pool(2)\n"
        "    print(*sorted(set(pool.map(busy, range(4)))), flush=True)\n"
        "    [pool.submit(time.sleep, 120) for _ in range(2)]  # both workers busy when the parent dies\n"
        "    time.sleep(120)\n")
    p = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    try:
        pids = [int(x) for x in p.stdout.readline().split()]
        assert pids and all(_running(x) for x in pids)
    finally:
        p.kill()
        p.wait()
    deadline = time.monotonic() + 15
    while any(_running(x) for x in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_running(x) for x in pids), "pool workers outlived their killed parent"
