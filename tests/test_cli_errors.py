"""Bad input ends with one clear line and exit code 2, and a failed stage leaves its previous outputs intact."""
import hashlib

import pytest
import yaml

from conftest import run


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _params(repo, name, **overrides):
    "A params file beside the repro copy's params.yaml, with some sections replaced."
    p = yaml.safe_load((repo / "params.yaml").read_text())
    for section, values in overrides.items():
        p.setdefault(section, {}).update(values)
    d = repo / "params-variants"
    d.mkdir(exist_ok=True)
    (d / name).write_text(yaml.safe_dump(p))
    return d / name


def _one_line_error(r, *needles):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    err = r.stderr.strip().splitlines()[-1]  # progress bars may come before it
    assert err.startswith("eo: error:") and err.count("eo: error:") == 1, r.stderr
    for n in needles:
        assert n in err, err
    return err


def test_broken_params_yaml(repro_repo):
    repo = repro_repo["repo"]
    d = repo / "params-variants"
    d.mkdir(exist_ok=True)
    (d / "broken.yaml").write_text("data:\n  market: [DE\n")
    _one_line_error(run(["eo", "quality", "--params", str(d / "broken.yaml")], repo, check=False), "not valid YAML")


def test_wrong_value_names_key_value_and_allowed(repro_repo):
    repo = repro_repo["repo"]
    f = _params(repo, "badsolver.yaml", optimize={"solver": "gurobi"})
    _one_line_error(run(["eo", "optimize", "--params", str(f)], repo, check=False),
                    "optimize.solver = 'gurobi'", "'highs', 'glpk' or 'cbc'")


def test_missing_data_file_keeps_previous_prices(repro_repo, tmp_path):
    repo = repro_repo["repo"]
    before = _digest(repo / "data/raw/prices.parquet")
    r = run(["eo", "ingest"], repo, check=False, EO_DATA_MIRROR=str(tmp_path))
    _one_line_error(r, "DE.csv", "EO_DATA_MIRROR")
    assert _digest(repo / "data/raw/prices.parquet") == before


def test_long_exogenous_gap_stops_features_and_keeps_them(repro_repo):
    "Three days without a load forecast are not bridged by a straight line: one line names the gap, features.nc stays."
    import pandas as pd
    repo = repro_repo["repo"]
    prices, features = repo / "data/raw/prices.parquet", repo / "data/features/features.nc"
    raw, built, before = prices.read_bytes(), features.read_bytes(), _digest(features)
    try:
        df = pd.read_parquet(prices)
        df.loc[df.index[240:312], "exog_0"] = float("nan")  # local days 11-13
        df.to_parquet(prices)
        start = df.timestamp.iloc[240].strftime("%Y-%m-%d %H:%M")
        _one_line_error(run(["eo", "features"], repo, check=False),
                        f"exog_0 (Ampirion Load Forecast) is missing for 72 hours from {start} UTC",
                        "longer than the 48 hours", "quality.max_exog_gap_h")
        assert _digest(features) == before
        f = _params(repo, "longgap.yaml", quality={"max_exog_gap_h": 72})
        run(["eo", "features", "--params", str(f)], repo)  # a limit raised on purpose bridges it
        assert _digest(features) != before
    finally:  # the module's other tests see the repro's files again
        prices.write_bytes(raw)
        features.write_bytes(built)


def test_infeasible_household_names_device_and_numbers(repro_repo):
    repo = repro_repo["repo"]
    before = _digest(repo / "data/schedules/savings.parquet")
    devices = yaml.safe_load((repo / "params.yaml").read_text()).get("optimize", {}).get("devices") or {
        "ev": {"kind": "ev", "arrival": "18:00", "departure": "07:00", "max_power_kw": 7.4, "efficiency": 0.9}}
    devices["ev"] = {**devices.get("ev", {}), "kind": "ev", "energy_kwh": 150.0}
    f = _params(repo, "infeasible.yaml", optimize={"devices": devices})
    err = _one_line_error(run(["eo", "optimize", "--params", str(f)], repo, check=False), "EV 'ev'", "150.0 kWh")
    assert "kW x" in err
    assert _digest(repo / "data/schedules/savings.parquet") == before


def test_missing_solver(repro_repo, monkeypatch, capsys):
    from electricity_optimizer import cli, optimize
    repo = repro_repo["repo"]
    before = _digest(repo / "data/schedules/savings.parquet")
    f = _params(repo, "glpk.yaml", optimize={"solver": "glpk"})
    monkeypatch.setattr(optimize, "_glpsol_path", lambda: None)
    monkeypatch.chdir(repo)
    with pytest.raises(SystemExit) as e:
        cli.main(["optimize", "--params", str(f)])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("eo: error: solver 'glpk' is not available"), err
    assert _digest(repo / "data/schedules/savings.parquet") == before


def test_glpk_gives_the_same_savings_as_highs(repro_repo, tmp_path):
    "The design's second solver, on the same forecast: same costs within the MIP gap."
    import json
    repo = repro_repo["repo"]
    f = _params(repo, "glpk-run.yaml", optimize={"solver": "glpk"})
    highs = json.loads((repo / "metrics/optimize.json").read_text())
    saved = {p: (repo / p).read_bytes() for p in ("metrics/optimize.json", "metrics/plots/savings.csv",
                                                    "data/schedules/savings.parquet")}
    try:
        run(["eo", "optimize", "--params", str(f)], repo)
        glpk = json.loads((repo / "metrics/optimize.json").read_text())
    finally:  # leave the copy as dvc repro left it
        for p, b in saved.items():
            (repo / p).write_bytes(b)
    assert glpk["solver"] == "glpk"
    for k in ("cost_unmanaged", "cost_forecast", "cost_perfect"):
        assert glpk[k] == pytest.approx(highs[k], rel=2e-3, abs=1e-3), k


def test_bench_forecast_unknown_market(repro_repo):
    _one_line_error(run(["eo", "bench", "forecast", "--market", "FR", "--report-only"], repro_repo["repo"], check=False),
                    "--market 'FR'", "NP, PJM or DE")


def test_bench_tune_bad_training_windows(repro_repo):
    "Refused before any search runs."
    _one_line_error(run(["eo", "bench", "tune", "--market", "NP", "--trials", "0", "--select", "--hand-days", "364;1092"],
                        repro_repo["repo"], check=False), "--hand-days takes positive whole days", "364,1092")


def test_bench_tune_bad_extra_seeds(repro_repo):
    "Refused before any search runs."
    _one_line_error(run(["eo", "bench", "tune", "--market", "NP", "--trials", "0", "--select", "--extra-seeds", "3 4"],
                        repro_repo["repo"], check=False), "--extra-seeds takes positive whole seeds", "3,4")


def test_bench_tune_bad_variant(repro_repo):
    "Refused before any search runs, naming the setting that does not exist."
    _one_line_error(run(["eo", "bench", "tune", "--market", "NP", "--trials", "0", "--variant", 'lags={"price_lag": [1, 2]}'],
                        repro_repo["repo"], check=False), "--variant lags: unknown CNN-LSTM settings ['price_lag']", "price_lags")


def test_tuned_network_on_too_short_data_keeps_the_trained_model(repro_repo):
    repo = repro_repo["repo"]
    before = _digest(repo / "data/models/cnn_lstm.pt")
    f = _params(repo, "tuned.yaml", train={"cnn_lstm": {"preset": "tuned", "val_days": 14}})
    err = _one_line_error(run(["eo", "train", "--params", str(f)], repo, check=False),
                          "tuned: DE configuration", "trains on 1092 days", "set data.since at least")
    assert "train.cnn_lstm.preset: hand" in err
    assert _digest(repo / "data/models/cnn_lstm.pt") == before
