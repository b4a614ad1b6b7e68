"""LEAR (lasso-estimated autoregressive model) and the ARX baseline on the real NP series of the EPF benchmark."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Lasso, LassoLarsIC
from statsmodels.robust import mad

from electricity_optimizer.features import build_features
from electricity_optimizer.forecast import SeasonalNaive, forecast_days, mae
from electricity_optimizer.ingest import read_epf
from electricity_optimizer.lear import LEAR, _Invariant, _lasso_aic, lear_design
from electricity_optimizer.stats_models import ARX, MeanEnsemble, combine

EPF = Path(__file__).resolve().parents[2] / "shared" / "data" / "epf"


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    f = EPF / "NP.csv"
    if not f.exists():
        pytest.skip(f"real data not found: {f}")
    df = pd.read_csv(f, index_col=0, parse_dates=True)
    df.columns = df.columns.str.strip()
    return df


@pytest.fixture(scope="module")
def ds(raw):
    return build_features(read_epf(EPF / "NP.csv", "NP"), "NP")


def _scaled(design, rows):
    sx, sy = _Invariant(design.X[rows, :-7]), _Invariant(design.Y[rows])
    return np.hstack([sx.transform(design.X[rows, :-7]), design.X[rows, -7:]]), sy.transform(design.Y[rows])


def test_design_matches_the_toolbox_layout(ds, raw):
    "Each column is the price / exogenous value the benchmark's definition names, read straight from the CSV."
    D = lear_design(ds)
    assert D.X.shape == (2184, 96 + 2 * 72 + 7)
    price, ex = raw["Price"], [raw["Grid load forecast"], raw["Wind power forecast"]]
    rng = np.random.default_rng(1)
    for day in pd.DatetimeIndex(raw.index[::24][rng.integers(7, 2184, 6)]):
        r = D.rows([day])[0]
        for h in (0, 7, 23):
            t = day + pd.Timedelta(hours=h)
            want = [price[t - pd.Timedelta(days=k)] for k in (1, 2, 3, 7)]
            got = [D.X[r, 24 * j + h] for j in range(4)]
            assert got == want
            for i, e in enumerate(ex):
                got = [D.X[r, 96 + 72 * i + 24 * j + h] for j in range(3)]
                assert np.allclose(got, [e[t - pd.Timedelta(days=k)] for k in (0, 1, 7)]), (day, h, i)
            assert D.Y[r, h] == price[t]
        assert D.X[r, 247 - 7 + day.day_of_week] == 1 and D.X[r, -7:].sum() == 1


def test_invariant_scaler_is_median_mad_asinh(ds):
    y = lear_design(ds).Y[300:500]
    s = _Invariant(y)
    np.testing.assert_allclose(s.mad, mad(y, axis=0))  # statsmodels' MAD, as the toolbox uses
    np.testing.assert_allclose(s.transform(y), np.arcsinh((y - np.median(y, 0)) / mad(y, axis=0)))


@pytest.mark.parametrize("normalize", [True, False])
def test_alpha_and_coefficients_match_scikit_learn(ds, normalize):
    "AIC penalty = LassoLarsIC's (legacy normalised criterion or not); coefficients = Lasso(alpha) on the same data."
    D = lear_design(ds)
    Z, V = _scaled(D, np.arange(1000, 1364))
    coef, b, alpha = _lasso_aic(Z, V, lars_normalize=normalize)
    Zn = Z - Z.mean(0)
    if normalize:
        Zn = Zn / np.linalg.norm(Zn, axis=0)
    for h in (0, 5, 12, 19):
        ref = LassoLarsIC(criterion="aic", max_iter=2500, noise_variance=np.var(V[:, h])).fit(Zn, V[:, h])
        assert alpha[h] == pytest.approx(ref.alpha_, rel=1e-9)
        las = Lasso(alpha=alpha[h], max_iter=20000, tol=1e-10).fit(Z, V[:, h])
        np.testing.assert_allclose(Z @ coef[h] + b[h], las.predict(Z), atol=0.02)


def test_calibration_window_and_no_leakage(ds):
    day = pd.Timestamp("2017-06-14")
    m = LEAR(84).fit(ds, day)
    assert m.n_samples_ == 84 - 7 and m.fit_until == "2017-06-14"
    f = m.predict_days(ds, [day, day + pd.Timedelta(days=1)])
    later = (ds.local_date >= day).broadcast_like(ds.price)
    tampered = ds.assign(price=ds.price.where(~later, -ds.price * 5))
    g = LEAR(84).fit(tampered, day).predict(tampered, day)
    np.testing.assert_allclose(g, f[0], rtol=1e-9)  # equal up to BLAS rounding
    # the next day's forecast uses day's price (D-1 lag): tampering it must change the forecast
    assert not np.allclose(LEAR(84).fit(tampered, day).predict(tampered, day + pd.Timedelta(days=1)), f[1])


def test_daily_recalibration_beats_the_naive(ds):
    days = pd.date_range("2017-01-09", periods=7)
    lear = forecast_days(LEAR(1092), ds, days, progress=False, refit_every=1)
    arx = forecast_days(ARX(), ds, days, progress=False, refit_every=1)
    naive = forecast_days(SeasonalNaive("weekly"), ds, days, progress=False)
    y = ds.price.sel(time=lear.time)
    assert np.isfinite(lear).all() and np.isfinite(arx).all()
    assert mae(y, lear) < 0.8 * mae(y, naive)
    assert mae(y, arx) < mae(y, naive)


def test_ensemble_is_the_mean_and_inverse_mae_prefers_the_better(ds):
    day = pd.Timestamp("2017-02-01")
    a, b = LEAR(56), LEAR(84)
    e = MeanEnsemble([a, b]).fit(ds, day).predict(ds, day)
    np.testing.assert_allclose(e, (a.predict(ds, day) + b.predict(ds, day)) / 2)
    y = np.full((40, 24), 10.0)
    good, bad = y + 1, y - 4
    w = combine({"good": good, "bad": bad}, y, "inverse_mae", window=28)
    np.testing.assert_allclose(w[0], 10 - 1.5)  # no history: plain mean
    np.testing.assert_allclose(w[5:], 10 + (4 * 1 + 1 * -4) / 5)  # weights 1/1 : 1/4


def test_errors_name_the_problem(ds):
    with pytest.raises(ValueError, match="at least 14"):
        LEAR(7)
    with pytest.raises(RuntimeError, match="not fitted"):
        LEAR(56).predict(ds, "2017-01-01")
    with pytest.raises(ValueError, match="complete days"):
        LEAR(56).fit(ds, "2013-01-05")
    with pytest.raises(ValueError, match="not in the features"):
        LEAR(56).fit(ds, "2017-01-01").predict(ds, "2031-01-01")
