"""EPF ingestion on the real benchmark files and over real HTTP on loopback."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
from werkzeug import Response

from electricity_optimizer.ingest import (
    EPF_MARKETS, DataError, download, epf_url, fetch_epf, ingest, mirror_from_env, read_epf,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NP_BYTES = (DATA / "epf" / "NP.csv").read_bytes()
FAST = dict(backoff_s=0.01, max_wait_s=5)  # quick retries for tests (Retry-After is still honoured)


def base(httpserver) -> str:
    return httpserver.url_for("/").rstrip("/")


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the real files --------------------------------------------------------------------

@pytest.mark.parametrize("market,currency,first_utc", [
    ("NP", "EUR", "2012-12-31 23:00"), ("PJM", "USD", "2013-01-01 05:00"), ("DE", "EUR", "2012-01-08 23:00"),
])
def test_real_epf_files(market, currency, first_utc):
    df = read_epf(DATA / "epf" / f"{market}.csv", market)
    assert len(df) == 52_416
    assert list(df.columns) == ["timestamp", "zone", "price", "currency", "resolution", "source", "exog_0", "exog_1"]
    assert str(df.timestamp.dtype) == "datetime64[ns, UTC]"
    assert not df.duplicated(["timestamp", "zone"]).any()
    assert (df.timestamp.diff().dropna() == pd.Timedelta(hours=1)).all()  # hourly, gap-free in UTC
    assert df.timestamp.iloc[0] == pd.Timestamp(first_utc, tz="UTC")
    assert set(df.currency) == {currency} and set(df.zone) == {EPF_MARKETS[market]["zone"]}
    assert set(df.resolution) == {60} and set(df.source) == {"epf"}
    assert df[["price", "exog_0", "exog_1"]].notna().all().all()


def test_real_values_match_the_csv():
    raw = pd.read_csv(DATA / "epf" / "PJM.csv")
    df = read_epf(DATA / "epf" / "PJM.csv", "PJM")
    assert df.price.tolist() == raw[" Zonal COMED price"].tolist()
    assert df.exog_1.tolist() == raw[" Zonal COMED load foecast"].tolist()


# --- download over loopback HTTP -------------------------------------------------------

def test_download_serves_identical_bytes(httpserver, tmp_path):
    httpserver.expect_request("/NP.csv", query_string="download=1").respond_with_data(NP_BYTES, content_type="text/csv")
    dest = download(epf_url("NP", base(httpserver)), tmp_path / "d" / "NP.csv", **FAST)
    assert dest.read_bytes() == NP_BYTES
    assert files_in(tmp_path / "d") == ["NP.csv"]


def test_500_then_200_is_retried(httpserver, tmp_path):
    httpserver.expect_ordered_request("/NP.csv").respond_with_data("upstream broke", status=500)
    httpserver.expect_ordered_request("/NP.csv").respond_with_data(NP_BYTES)
    df = fetch_epf("NP", cache_dir=tmp_path, base_url=base(httpserver))
    assert len(df) == 52_416
    assert [r.status_code for _, r in httpserver.log] == [500, 200]
    httpserver.check_assertions()


def test_429_retry_after_is_honoured(httpserver, tmp_path):
    httpserver.expect_ordered_request("/NP.csv").respond_with_data("slow down", status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/NP.csv").respond_with_data(NP_BYTES)
    t0 = time.monotonic()
    download(epf_url("NP", base(httpserver)), tmp_path / "NP.csv", **FAST)
    assert time.monotonic() - t0 >= 1.0  # waited for Retry-After, not the 10 ms backoff
    assert (tmp_path / "NP.csv").read_bytes() == NP_BYTES
    assert len(httpserver.log) == 2


def test_retries_exhausted_give_one_line_error(httpserver, tmp_path):
    httpserver.expect_request("/NP.csv").respond_with_data("down", status=503)
    with pytest.raises(DataError) as e:
        download(epf_url("NP", base(httpserver)), tmp_path / "NP.csv", attempts=3, **FAST)
    msg = str(e.value)
    assert "failed after 3 attempts (last: HTTP 503)" in msg and "EO_DATA_MIRROR" in msg and "\n" not in msg
    assert len(httpserver.log) == 3
    assert files_in(tmp_path) == []


def test_404_is_not_retried(httpserver, tmp_path):
    httpserver.expect_request("/FR.csv").respond_with_data("no such file", status=404)
    with pytest.raises(DataError, match="failed with HTTP 404"):
        download(f"{base(httpserver)}/FR.csv", tmp_path / "FR.csv", **FAST)
    assert len(httpserver.log) == 1 and files_in(tmp_path) == []


def test_connection_refused_is_retried_then_fails(tmp_path):
    with pytest.raises(DataError, match=r"failed after 2 attempts \(last: ConnectError"):
        download("http://127.0.0.1:9/NP.csv", tmp_path / "NP.csv", attempts=2, timeout_s=2, **FAST)
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("body", [
    NP_BYTES[:100_000],  # truncated mid-file (cuts a line and a day)
    NP_BYTES[: NP_BYTES.index(b"\n", 100_000) + 1],  # truncated at a line end, inside a day
    b"<html><body>Service temporarily unavailable</body></html>",  # an error page sent with 200
    NP_BYTES.replace(b"2013-01-01 05:00:00,", b"2013-01-01 05:00:00,n/a", 1),  # a damaged value
])
def test_damaged_body_leaves_no_file(httpserver, tmp_path, body):
    httpserver.expect_request("/NP.csv").respond_with_data(body)
    with pytest.raises(DataError) as e:
        fetch_epf("NP", cache_dir=tmp_path / "cache", base_url=base(httpserver))
    assert epf_url("NP", base(httpserver)) in str(e.value) and "\n" not in str(e.value)
    assert files_in(tmp_path / "cache") == []  # neither the file nor a temporary one


def test_body_shorter_than_content_length_is_retried(httpserver, tmp_path):
    short = Response(iter([NP_BYTES[:50_000]]), headers={"Content-Length": str(len(NP_BYTES))})
    httpserver.expect_ordered_request("/NP.csv").respond_with_response(short)
    httpserver.expect_ordered_request("/NP.csv").respond_with_data(NP_BYTES)
    download(epf_url("NP", base(httpserver)), tmp_path / "NP.csv", **FAST)
    assert (tmp_path / "NP.csv").read_bytes() == NP_BYTES
    assert len(httpserver.log) == 2


def test_cached_download_is_not_fetched_again(httpserver, tmp_path):
    httpserver.expect_oneshot_request("/DE.csv").respond_with_data((DATA / "epf" / "DE.csv").read_bytes())
    a = fetch_epf("DE", cache_dir=tmp_path, base_url=base(httpserver))
    b = fetch_epf("DE", cache_dir=tmp_path, base_url=base(httpserver))
    assert a.equals(b) and len(httpserver.log) == 1


# --- mirror ------------------------------------------------------------------------------

def test_mirror_makes_no_network_call(tmp_path):
    df = fetch_epf("NP", mirror=DATA, cache_dir=tmp_path, base_url="http://127.0.0.1:9")
    assert len(df) == 52_416 and files_in(tmp_path) == []


def test_missing_mirror_file_is_one_line(tmp_path):
    (tmp_path / "epf").mkdir()
    with pytest.raises(DataError) as e:
        fetch_epf("NP", mirror=tmp_path)
    assert str(e.value) == (f"epf mirror file {tmp_path}/epf/NP.csv not found: set EO_DATA_MIRROR to a folder "
                            "laid out as epf/<MARKET>.csv or unset it to download")


def test_mirror_from_env(monkeypatch, tmp_path):
    monkeypatch.delenv("EO_DATA_MIRROR", raising=False)
    assert mirror_from_env() is None
    monkeypatch.setenv("EO_DATA_MIRROR", str(DATA))
    assert mirror_from_env() == DATA
    assert mirror_from_env(tmp_path) == tmp_path
    monkeypatch.setenv("EO_DATA_MIRROR", str(tmp_path / "missing"))
    with pytest.raises(DataError, match="does not exist"):
        mirror_from_env()


# --- the ingest stage ----------------------------------------------------------------------

def test_ingest_is_idempotent_and_merges(monkeypatch, tmp_path):
    monkeypatch.setenv("EO_DATA_MIRROR", str(DATA))  # ingest resolves the mirror from the environment
    out = tmp_path / "raw" / "prices.parquet"
    s1 = ingest("NP", out, since="2018-01-01", until="2018-01-08")
    assert (s1["rows"], s1["added"], s1["written"]) == (168, 168, True)
    assert s1["first"] == "2017-12-31T23:00:00+00:00" and s1["last"] == "2018-01-07T22:00:00+00:00"
    before = out.stat().st_mtime_ns
    time.sleep(0.01)
    s2 = ingest("NP", out, since="2018-01-01", until="2018-01-08")
    assert (s2["written"], s2["added"], s2["revised"]) == (False, 0, 0)
    assert out.stat().st_mtime_ns == before
    s3 = ingest("NP", out, since="2018-01-05", until="2018-01-10")  # overlaps 3 days, adds 2
    assert (s3["rows"], s3["added"], s3["revised"], s3["written"]) == (216, 48, 0, True)
    assert files_in(out.parent) == ["prices.parquet"]
