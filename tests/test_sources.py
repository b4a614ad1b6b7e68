"""Price sources on the real data, and the API sources over loopback HTTP in the providers' formats."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from werkzeug import Response

from electricity_optimizer.config import EOError
from electricity_optimizer.ingest import DataError, read_epf
from electricity_optimizer.quality import check_prices
from electricity_optimizer.resilient import HttpPolicy
from electricity_optimizer.sources import (
    ENTSOE_TZ, EnergyChartsSource, EntsoeCsvSource, EPFSource, PriceSource, local_day, parse_unit, read_entsoe_csv,
    resample_prices, to_hourly, to_quarter_hourly, utc,
)
from electricity_optimizer.sources_more import (
    ENTSOE_EIC, EntsoeSource, OctopusSource, SOURCES, agile_rate, entsoe_price_xml, fetch_entsoe_forecast, fetch_urdb,
    list_sources, make_source, octopus_pages, parse_entsoe_xml, read_urdb,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FAST = HttpPolicy(timeout_s=2, attempts=3, backoff_s=0.005, max_wait_s=1, rate_per_s=1000, burst=100)
ZONES = ["DE_LU", "NL", "ES", "DK_1", "NO_1"]


@pytest.fixture(scope="module")
def entsoe():
    return {z: read_entsoe_csv(DATA / "entsoe" / f"{z}.csv") for z in ZONES}


def _day(df, day):
    a, b = local_day(day)
    return df[(df.timestamp >= a) & (df.timestamp < b)]


# --- the ENTSO-E CSV collection: caveats --------------------------------------------------

@pytest.mark.parametrize("zone", ZONES)
def test_entsoe_csv_dst_days_and_grid(entsoe, zone):
    df = entsoe[zone]
    assert str(df.timestamp.dtype) == "datetime64[ns, UTC]" and df.timestamp.is_unique
    local = df.timestamp.dt.tz_convert(ENTSOE_TZ)
    per_day = df.groupby(local.dt.date).size()
    full = per_day.iloc[1:-1]  # first/last days may be partial
    springs = [d for d in full.index if d.month == 3 and d.weekday() == 6 and d.day >= 25]
    autumns = [d for d in full.index if d.month == 10 and d.weekday() == 6 and d.day >= 25]
    assert springs and autumns
    assert all(full[d] == 23 for d in springs) and all(full[d] == 25 for d in autumns)
    assert set(full.drop(springs + autumns)) == {24}
    # every hour between first and last is present exactly once (gap-free UTC series)
    assert (df.timestamp.diff().dropna() == pd.Timedelta(hours=1)).all()


@pytest.mark.parametrize("zone", ZONES)
def test_entsoe_csv_zeros_are_missing(entsoe, zone):
    raw = pd.read_csv(DATA / "entsoe" / f"{zone}.csv").dropna(how="all")
    df = read_entsoe_csv(DATA / "entsoe" / f"{zone}.csv", fundamentals=True)
    assert not (df[["load_da", "wind_on_da"]] == 0).any().any()
    assert df.load_da.isna().sum() >= (raw.Load_DA == 0).sum() - 1  # a zero on a dropped 02:00 may vanish
    if raw.Sol_DA.max() == 0:  # NO_1 publishes no solar forecast: left out, not "missing everywhere"
        assert "solar_da" not in df
    else:  # solar: zero at night is real, so it is kept wherever the local day has sun
        assert (df.solar_da == 0).sum() > 0 and df.solar_da.isna().sum() < (raw.Sol_DA == 0).sum()
    # exog_1 (wind + solar) is missing exactly where one of its parts is
    parts = df[[c for c in ("solar_da", "wind_on_da", "wind_off_da") if c in df]]
    assert (df.exog_1.isna() == parts.isna().any(axis=1)).all()


def test_entsoe_csv_de_lu_blank_rows_and_start(entsoe):
    text = (DATA / "entsoe" / "DE_LU.csv").read_text().splitlines()
    blank = sum(1 for l in text if l.strip(",").strip() == "")
    df = entsoe["DE_LU"]
    assert blank > 0
    assert df.timestamp.iloc[0] == pd.Timestamp("2018-09-30 22:00", tz="UTC")  # 2018-10-01 00:00 CEST
    assert df.price.notna().all()
    # local hours kept = file rows (not blank) - spring rows dropped + autumn rows doubled
    rows = len(text) - 1 - blank
    assert len(df) == rows  # as many springs as autumns inside the file's span


def test_entsoe_csv_prices_match_the_file(entsoe):
    raw = pd.read_csv(DATA / "entsoe" / "NL.csv").dropna(how="all")
    local = pd.to_datetime(raw.iloc[:, 0], format="%m/%d/%Y %H:%M")
    df = entsoe["NL"]
    back = df.assign(local=df.timestamp.dt.tz_convert(ENTSOE_TZ).dt.tz_localize(None)).drop_duplicates("local").set_index("local").price
    got = back.reindex(local.to_numpy())
    keep = got.notna().to_numpy()
    assert keep.mean() > 0.999  # only the non-existent spring 02:00 rows are gone
    assert np.array_equal(got.to_numpy()[keep], raw.Price_DA.to_numpy()[keep])


def test_entsoe_csv_passes_quality_with_its_crisis_and_negative_prices(entsoe):
    _, m = check_prices(entsoe["DE_LU"].drop(columns=["price_orig", "unit_orig"]))
    assert m["passed"] and m["gaps"] == 0 and m["duplicates"] == 0
    assert m["negative_prices"] > 0 and entsoe["DE_LU"].price.max() > 500  # 2022 crisis prices, within the EU limits


def test_entsoe_csv_damaged_files(tmp_path):
    (tmp_path / "ES.csv").write_text(",Price_DA\n1/1/2015 0:00,1\n1/1/2015 1:00,abc\n1/1/2015 2:00,3\n")
    df = read_entsoe_csv(tmp_path / "ES.csv")
    assert df.price.tolist() == [1.0, 3.0]  # an unreadable price is a missing interval, which quality reports as a gap
    with pytest.raises(DataError, match="not found"):
        read_entsoe_csv(tmp_path / "FR.csv")
    with pytest.raises(DataError, match="no mirror folder|does not exist"):
        EntsoeCsvSource(mirror=tmp_path / "nowhere").fetch("ES", "2015-01-01", "2015-01-02")


# --- EPF behind the protocol ---------------------------------------------------------------

def test_epf_source_wraps_the_reader():
    src = EPFSource(mirror=DATA)
    assert isinstance(src, PriceSource)
    full = read_epf(DATA / "epf" / "PJM.csv", "PJM")
    got = src.fetch("PJM_COMED", full.timestamp.min(), full.timestamp.max() + pd.Timedelta(hours=1))
    assert len(got) == 52_416 and got.price.equals(full.price) and set(got.unit_orig) == {"USD/MWh"}
    assert src.fetch("NP", "2013-01-01", "2013-01-02").zone.iloc[0] == "NO_SYS"
    with pytest.raises(DataError, match="epf: unknown zone 'FR'"):
        src.fetch("FR", "2013-01-01", "2013-01-02")


# --- units and resolution ----------------------------------------------------------------------

@pytest.mark.parametrize("unit,expected", [("EUR / MWh", ("EUR", 1.0)), ("EUR/MWH", ("EUR", 1.0)), ("p/kWh", ("GBP", 10.0)),
                                           ("ct/kWh", ("EUR", 10.0)), ("GBP/MWh", ("GBP", 1.0)), ("USD/kWh", ("USD", 1000.0))])
def test_units(unit, expected):
    assert parse_unit(unit) == expected


@pytest.mark.parametrize("unit", ["MWh / EUR", "EUR", "EURO/MWh", "EUR/GWh", ""])
def test_wrong_units_are_refused(unit):
    with pytest.raises(DataError, match="unknown price unit"):
        parse_unit(unit)


def test_resampling_roundtrip_on_dst_days(entsoe):
    for day, hours in [("2021-03-28", 23), ("2021-10-31", 25)]:
        h = _day(entsoe["ES"], day)
        q = to_quarter_hourly(h)
        assert len(h) == hours and len(q) == 4 * hours and set(q.resolution) == {15}
        back = to_hourly(q)
        assert back.price.tolist() == h.price.tolist() and back.timestamp.tolist() == h.timestamp.tolist()
        half = resample_prices(q, 30)
        assert len(half) == 2 * hours and np.allclose(to_hourly(half).price, h.price)


def test_hourly_mean_of_real_quarter_hours(entsoe):
    h = _day(entsoe["DE_LU"], "2022-08-15")
    q = to_quarter_hourly(h)
    q.loc[q.index[::4], "price"] += 8.0  # a quarter-hour shape
    q.loc[q.index[1::4], "price"] -= 8.0
    assert np.allclose(to_hourly(q).price, h.price)


# --- ENTSO-E API over loopback -------------------------------------------------------------

def _entsoe_handler(frames: dict, token: str, resolution: int = 60):
    by_eic = {ENTSOE_EIC[z]: f for z, f in frames.items()}
    def handler(req):
        if req.args.get("securityToken") != token:
            return Response("<html>Unauthorized</html>", status=401)
        a, b = (pd.to_datetime(req.args[k], format="%Y%m%d%H%M", utc=True) for k in ("periodStart", "periodEnd"))
        f = by_eic[req.args["in_Domain"]]
        f = f[(f.timestamp >= a) & (f.timestamp < b)]
        if resolution != 60: f = resample_prices(f, resolution)
        return Response(entsoe_price_xml(f, eic=req.args["in_Domain"]), content_type="text/xml")
    return handler


def test_entsoe_api_prices_dst_and_15_min(httpserver, entsoe, monkeypatch):
    monkeypatch.setenv("ENTSOE_API_TOKEN", "tok-123")
    httpserver.expect_request("/api").respond_with_handler(_entsoe_handler(entsoe, "tok-123"))
    src = EntsoeSource(base_url=httpserver.url_for("/api"), policy=FAST, chunk_days=7, forecasts=False)
    day = src.fetch("DE_LU", *local_day("2019-10-27"))
    assert len(day) == 25 and day.price.tolist() == _day(entsoe["DE_LU"], "2019-10-27").price.tolist()
    assert set(day.currency) == {"EUR"} and set(day.unit_orig) == {"EUR/MWH"} and set(day.source) == {"entsoe"}
    httpserver.clear()
    httpserver.expect_request("/api").respond_with_handler(_entsoe_handler(entsoe, "tok-123", resolution=15))
    spring = src.fetch("NL", *local_day("2020-03-29"))
    assert len(spring) == 92 and set(spring.resolution) == {15}
    assert to_hourly(spring).price.tolist() == _day(entsoe["NL"], "2020-03-29").price.tolist()


def test_entsoe_api_token_handling(httpserver, entsoe, monkeypatch, tmp_path):
    monkeypatch.delenv("ENTSOE_API_TOKEN", raising=False)
    src = EntsoeSource(base_url=httpserver.url_for("/api"), policy=FAST, cache_dir=tmp_path, forecasts=False)
    with pytest.raises(EOError, match="ENTSOE_API_TOKEN is not set"):
        src.fetch("DE_LU", "2019-01-01", "2019-01-02")
    monkeypatch.setenv("ENTSOE_API_TOKEN", "wrong-token")
    httpserver.expect_request("/api").respond_with_handler(_entsoe_handler(entsoe, "right"))
    with pytest.raises(DataError, match="entsoe: HTTP 401") as e:
        src.fetch("DE_LU", "2019-01-01", "2019-01-02")
    assert "wrong-token" not in str(e.value)
    monkeypatch.setenv("ENTSOE_API_TOKEN", "right")
    assert len(src.fetch("DE_LU", "2019-01-01", "2019-01-02")) == 24
    files = list((tmp_path / "entsoe").iterdir())
    assert files and all(b"right" not in f.read_bytes() and "right" not in f.name for f in files)


def test_entsoe_no_data_and_refusals():
    ack = entsoe_price_xml(pd.DataFrame(columns=["timestamp", "price_orig", "resolution"]))
    assert parse_entsoe_xml(ack).empty
    bad = ack.replace(b"<code>999</code>", b"<code>998</code>")
    with pytest.raises(DataError, match="entsoe: request refused"):
        parse_entsoe_xml(bad)
    with pytest.raises(Exception):
        parse_entsoe_xml(b"<Publication_MarketDocument><TimeSeries><Period>")


def test_entsoe_a03_positions_left_out(entsoe):
    h = _day(entsoe["DK_1"], "2020-06-01")
    q = resample_prices(h, 15)
    xml = entsoe_price_xml(q, curve="A03")
    assert xml.count(b"<Point>") <= 24
    rows = parse_entsoe_xml(xml)
    assert rows.value.tolist() == q.price.tolist()
    full = parse_entsoe_xml(entsoe_price_xml(q, curve="A01"))
    assert full.value.tolist() == q.price.tolist()


def _gl_xml(start: pd.Timestamp, values: list[float], psr: str | None, res: str = "PT60M") -> str:
    mkt = f"<MktPSRType><psrType>{psr}</psrType></MktPSRType>" if psr else ""
    pts = "".join(f"<Point><position>{i + 1}</position><quantity>{v:g}</quantity></Point>" for i, v in enumerate(values))
    end = start + pd.Timedelta(minutes=len(values) * int(res[2:-1]))
    return (f"<TimeSeries><mRID>1</mRID><businessType>A93</businessType><quantity_Measure_Unit.name>MAW</quantity_Measure_Unit.name>"
            f"<curveType>A01</curveType>{mkt}<Period><timeInterval><start>{start:%Y-%m-%dT%H:%MZ}</start><end>{end:%Y-%m-%dT%H:%MZ}</end>"
            f"</timeInterval><resolution>{res}</resolution>{pts}</Period></TimeSeries>")


def test_entsoe_load_and_wind_solar_forecasts(httpserver, entsoe, monkeypatch):
    monkeypatch.setenv("ENTSOE_API_TOKEN", "t")
    f = read_entsoe_csv(DATA / "entsoe" / "NL.csv", fundamentals=True)
    ns = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"
    def handler(req):
        a, b = (pd.to_datetime(req.args[k], format="%Y%m%d%H%M", utc=True) for k in ("periodStart", "periodEnd"))
        g = f[(f.timestamp >= a) & (f.timestamp < b)]
        if req.args["documentType"] == "A65":
            assert req.args["outBiddingZone_Domain"] == ENTSOE_EIC["NL"] and req.args["processType"] == "A01"
            series = _gl_xml(a, g.load_da.tolist(), None)
        else:
            series = _gl_xml(a, g.solar_da.tolist(), "B16") + _gl_xml(a, g.wind_on_da.tolist(), "B19") + _gl_xml(a, g.wind_off_da.tolist(), "B18")
        return Response(f'<?xml version="1.0"?><GL_MarketDocument xmlns="{ns}"><type>{req.args["documentType"]}</type>{series}</GL_MarketDocument>',
                        content_type="text/xml")
    httpserver.expect_request("/api").respond_with_handler(handler)
    src = EntsoeSource(base_url=httpserver.url_for("/api"), policy=FAST, chunk_days=1)
    load = fetch_entsoe_forecast(src, "NL", "2020-01-01", "2020-01-02", "load")
    ref = f[(f.timestamp >= utc("2020-01-01")) & (f.timestamp < utc("2020-01-02"))]
    assert load.value.tolist() == ref.load_da.tolist() and set(load.unit) == {"MAW"}
    ws = fetch_entsoe_forecast(src, "NL", "2020-01-01", "2020-01-02", "wind_solar")
    assert sorted(ws.psr_type.unique()) == ["B16", "B18", "B19"] and len(ws) == 72
    assert ws[ws.psr_type == "B19"].value.tolist() == ref.wind_on_da.tolist()
    with pytest.raises(DataError, match="unknown forecast kind"):
        fetch_entsoe_forecast(src, "NL", "2020-01-01", "2020-01-02", "hydro")


def _entsoe_api_from_csv(f: pd.DataFrame, token: str):
    "A loopback ENTSO-E API serving one zone of the CSV collection: A44 prices hourly, A65 load and A69 wind/solar at 15 minutes."
    quarter = lambda v: np.repeat(np.asarray(v, float), 4).tolist()  # a 15-minute product of the hourly forecasts
    def handler(req):
        if req.args.get("securityToken") != token: return Response("<html>Unauthorized</html>", status=401)
        a, b = (pd.to_datetime(req.args[k], format="%Y%m%d%H%M", utc=True) for k in ("periodStart", "periodEnd"))
        g = f[(f.timestamp >= a) & (f.timestamp < b)]
        kind = req.args["documentType"]
        if kind == "A44":
            return Response(entsoe_price_xml(g, eic=req.args["in_Domain"]), content_type="text/xml")
        if kind == "A65": series = _gl_xml(a, quarter(g.load_da), None, "PT15M")
        else: series = _gl_xml(a, quarter(g.solar_da), "B16", "PT15M") + _gl_xml(a, quarter(g.wind_on_da), "B19", "PT15M")
        ns = "urn:iec62325.351:tc57wg16:451-6:generationloaddocument:3:0"
        return Response(f'<?xml version="1.0"?><GL_MarketDocument xmlns="{ns}"><type>{kind}</type>{series}</GL_MarketDocument>',
                        content_type="text/xml")
    return handler


def test_entsoe_api_fills_a_store_that_gives_the_csv_features(httpserver, monkeypatch, tmp_path):
    "Prices and forecasts from the API (forecasts at 15 minutes) build the same features as the CSV collection, DST week included."
    from electricity_optimizer.features import build_features, wall_clock_days
    from electricity_optimizer.sources_more import PricingService
    from electricity_optimizer.store import read_store, update
    import xarray as xr
    monkeypatch.setenv("ENTSOE_API_TOKEN", "t")
    csv = read_entsoe_csv(DATA / "entsoe" / "DE_LU.csv", fundamentals=True)
    assert "wind_off_da" not in csv  # DE_LU publishes no offshore forecast in the collection
    httpserver.expect_request("/api").respond_with_handler(_entsoe_api_from_csv(csv, "t"))
    src = EntsoeSource(base_url=httpserver.url_for("/api"), policy=FAST, chunk_days=3)
    got = PricingService([src]).fetch("DE_LU", "2022-10-24", "2022-11-03")
    assert len(got.missing) == 0 and set(got.frame.source) == {"entsoe"}
    ref = csv[(csv.timestamp >= utc("2022-10-24")) & (csv.timestamp < utc("2022-11-03"))]
    assert got.frame.exog_0.tolist() == ref.exog_0.tolist() and got.frame.exog_1.tolist() == pytest.approx(ref.exog_1.tolist())
    update(tmp_path / "store", got.frame)
    api = build_features(wall_clock_days(read_store(tmp_path / "store"), "DE_LU", "2022-10-25", "2022-11-02"), "DE_LU")
    base = build_features(wall_clock_days(csv, "DE_LU", "2022-10-25", "2022-11-02"), "DE_LU")
    xr.testing.assert_allclose(api, base)
    assert api.sizes["time"] == 8 * 24


def test_entsoe_forecast_missing_quarter_hours_are_missing():
    "An interval whose forecast lacks a quarter-hour, or one of its psr types, gets NaN rather than a partial value."
    from electricity_optimizer.sources_more import forecast_for_intervals
    t = pd.date_range("2023-01-01", periods=8, freq="15min", tz="UTC")
    rows = pd.DataFrame({"timestamp": t.append(t[:4]), "zone": "DE_LU", "value": [1.0] * 8 + [10.0] * 4, "resolution": 15,
                         "psr_type": ["B19"] * 8 + ["B16"] * 4})
    hours = pd.Series(pd.date_range("2023-01-01", periods=2, freq="h", tz="UTC"))
    out = forecast_for_intervals(rows, hours, pd.Series([60, 60]))
    assert out[0] == 11.0 and np.isnan(out[1])  # the second hour has no solar rows
    out = forecast_for_intervals(rows.iloc[1:], hours, pd.Series([60, 60]))
    assert np.isnan(out[0])  # a quarter-hour of wind is missing
    assert np.isnan(forecast_for_intervals(rows.iloc[:0], hours, pd.Series([60, 60]))).all()


# --- Energy-Charts over loopback -----------------------------------------------------------

def test_energy_charts_15_minute_dst_day(httpserver, entsoe):
    q = resample_prices(entsoe["DE_LU"], 15)
    def handler(req):
        a, b = utc(req.args["start"]), utc(req.args["end"])
        assert req.args["bzn"] == "DE-LU"
        g = q[(q.timestamp >= a) & (q.timestamp < b)]
        return Response(json.dumps({"unix_seconds": (g.timestamp.astype("int64") // 10**9).tolist(),
                                    "price": g.price_orig.tolist(), "unit": "EUR / MWh"}), content_type="application/json")
    httpserver.expect_request("/price").respond_with_handler(handler)
    src = EnergyChartsSource(base_url=httpserver.url_for("/"), policy=FAST, chunk_days=7)
    day = src.fetch("DE_LU", *local_day("2022-03-27"))
    assert len(day) == 92 and set(day.resolution) == {15}
    assert to_hourly(day).price.tolist() == _day(entsoe["DE_LU"], "2022-03-27").price.tolist()


# --- Octopus over loopback -----------------------------------------------------------------

def test_octopus_agile_from_real_prices(httpserver):
    path = "/v1/products/AGILE-FLEX-22-11-25/electricity-tariffs/E-1R-AGILE-FLEX-22-11-25-C/standard-unit-rates/"
    epf = EPFSource(DATA).fetch("NO_SYS", "2016-03-26", "2016-03-29")  # real prices across a DST change (Europe/London too)
    half = resample_prices(epf, 30)
    rate = agile_rate(half.price, half.timestamp)
    frame = half.assign(price_orig=rate.to_numpy(), resolution=30)
    def handler(req):
        a, b = utc(req.args["period_from"]), utc(req.args["period_to"])
        q = f"period_from={req.args['period_from']}&period_to={req.args['period_to']}"
        pages = octopus_pages(frame[(frame.timestamp >= a) & (frame.timestamp < b)], httpserver.url_for(path), per_page=50, query=q)
        return Response(pages[int(req.args.get("page", 1)) - 1], content_type="application/json")
    httpserver.expect_request(path).respond_with_handler(handler)
    src = OctopusSource(product="AGILE-FLEX-22-11-25", base_url=httpserver.url_for("/v1"), policy=FAST, chunk_days=7)
    got = src.fetch("GB_C", "2016-03-26", "2016-03-29")
    assert len(got) == 3 * 48 and got.timestamp.is_monotonic_increasing
    assert np.allclose(got.price, rate * 10) and np.allclose(got.price_orig, rate)
    assert set(got.currency) == {"GBP"} and set(got.unit_orig) == {"p/kWh"} and set(got.resolution) == {30}
    exc = OctopusSource(product="AGILE-FLEX-22-11-25", vat=False, base_url=httpserver.url_for("/v1"), policy=FAST).fetch("GB_C", "2016-03-26", "2016-03-27")
    assert np.allclose(exc.price_orig, (rate / 1.05).round(4)[:48])


# --- URDB ------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", sorted((DATA / "tariffs" / "urdb").glob("*.json")), ids=lambda p: p.stem)
def test_urdb_files(path):
    item = read_urdb(path)
    assert item["label"] and ("energyratestructure" in item or "demandratestructure" in item)


def test_urdb_fetch_over_loopback(httpserver, monkeypatch, tmp_path):
    body = (DATA / "tariffs" / "urdb" / "SCE_TOU_8_Option_D_Under_2_kV.json").read_bytes()
    label = json.loads(body)["items"][0]["label"]
    monkeypatch.setenv("NREL_API_KEY", "k-1")
    httpserver.expect_oneshot_request("/utility_rates", query_string={"version": "8", "format": "json", "detail": "full",
                                                                       "getpage": label, "api_key": "k-1"}).respond_with_data(body)
    item = fetch_urdb(label, base_url=httpserver.url_for("/utility_rates"), policy=FAST, cache_dir=tmp_path)
    assert item == json.loads(body)["items"][0]
    assert fetch_urdb(label, base_url=httpserver.url_for("/utility_rates"), policy=FAST, cache_dir=tmp_path) == item  # cached
    httpserver.expect_request("/utility_rates").respond_with_data(json.dumps({"items": []}))
    with pytest.raises(DataError, match="no tariff in the answer"):
        fetch_urdb("nope", base_url=httpserver.url_for("/utility_rates"), policy=FAST)


# --- registry ----------------------------------------------------------------------------------

def test_registry(monkeypatch):
    monkeypatch.delenv("ENTSOE_API_TOKEN", raising=False)
    t = list_sources()
    assert list(t.name) == list(SOURCES)
    assert t.set_index("name").loc["entsoe", "secret"] == "ENTSOE_API_TOKEN" and not t.set_index("name").loc["entsoe", "secret_set"]
    for name in SOURCES:
        src = make_source(name)
        assert isinstance(src, PriceSource) and src.name == name and src.zones()
    with pytest.raises(DataError, match="unknown price source"):
        make_source("iea")
