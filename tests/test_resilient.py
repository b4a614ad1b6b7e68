"""Resilient HTTP and the pricing service over real loopback HTTP with injected faults."""
from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from werkzeug import Response

from electricity_optimizer.resilient import CircuitOpenError, FetchError, HttpPolicy, ResilientClient
from electricity_optimizer.sources import EnergyChartsSource, EntsoeCsvSource, local_day, read_entsoe_csv, utc
from electricity_optimizer.sources_more import PricingService
from electricity_optimizer.store import missing_intervals, read_store, update

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FAST = HttpPolicy(timeout_s=2, attempts=4, backoff_s=0.005, max_wait_s=3, rate_per_s=1000, burst=100, fail_max=3, reset_s=0.5)
DE = read_entsoe_csv(DATA / "entsoe" / "DE_LU.csv")


def ec_body(a, b, unit="EUR / MWh") -> bytes:
    g = DE[(DE.timestamp >= a) & (DE.timestamp < b)]
    return json.dumps({"unix_seconds": (g.timestamp.astype("int64") // 10**9).tolist(), "price": g.price_orig.tolist(), "unit": unit}).encode()


def ec_handler(req):
    return Response(ec_body(utc(req.args["start"]), utc(req.args["end"])), content_type="application/json")


def test_retry_after_is_honoured(httpserver):
    httpserver.expect_ordered_request("/p").respond_with_data("wait", status=429, headers={"Retry-After": "1"})
    httpserver.expect_ordered_request("/p").respond_with_data("ok")
    with ResilientClient("t", FAST) as c:
        t0 = time.perf_counter()
        assert c.get(httpserver.url_for("/p")) == b"ok"
        assert time.perf_counter() - t0 >= 1.0  # the backoff alone would be ~10 ms
        assert (c.stats["requests"], c.stats["retries"]) == (2, 1)


def test_retry_after_is_capped(httpserver):
    httpserver.expect_ordered_request("/p").respond_with_data("wait", status=429, headers={"Retry-After": "3600"})
    httpserver.expect_ordered_request("/p").respond_with_data("ok")
    with ResilientClient("t", HttpPolicy(backoff_s=0.005, max_wait_s=0.2)) as c:
        t0 = time.perf_counter()
        assert c.get(httpserver.url_for("/p")) == b"ok"
        assert time.perf_counter() - t0 < 1.0


def test_500s_exhaust_attempts_and_open_the_breaker(httpserver):
    httpserver.expect_request("/p").respond_with_data("boom", status=500)
    with ResilientClient("energy_charts", FAST) as c:
        for _ in range(FAST.fail_max):
            with pytest.raises(FetchError, match=r"^energy_charts: HTTP 500 after 4 attempts"):
                c.get(httpserver.url_for("/p"))
        made = c.stats["requests"]
        assert made == FAST.fail_max * FAST.attempts
        with pytest.raises(CircuitOpenError, match="^energy_charts: circuit open"):
            c.get(httpserver.url_for("/p"))
        assert c.stats["requests"] == made  # no request while open
        time.sleep(FAST.reset_s + 0.1)
        httpserver.clear()
        httpserver.expect_request("/p").respond_with_data("back")
        assert c.get(httpserver.url_for("/p")) == b"back"
        assert c.breaker.current_state == "closed"


def test_timeout_is_retried(httpserver):
    calls = []
    def slow_then_fast(req):
        calls.append(1)
        if len(calls) == 1: time.sleep(0.5)
        return Response("ok")
    httpserver.expect_request("/p").respond_with_handler(slow_then_fast)
    with ResilientClient("t", HttpPolicy(timeout_s=0.2, attempts=3, backoff_s=0.005)) as c:
        assert c.get(httpserver.url_for("/p")) == b"ok"
        assert c.stats["retries"] >= 1  # the fixture server is single-threaded: the slow answer may delay the next one too


def _truncating_server():
    "A raw socket server that announces 1000 bytes and sends 20, then a good answer."
    srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(4)
    hits = []
    def serve():
        while len(hits) < 2:
            conn, _ = srv.accept(); conn.recv(65536); hits.append(1)
            if len(hits) == 1:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: application/json\r\n\r\n" + b'{"unix_seconds": [1,')
            else:
                body = b'{"ok": true}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
            conn.close()
    threading.Thread(target=serve, daemon=True).start()
    return srv, hits


def test_truncated_body_is_retried():
    srv, hits = _truncating_server()
    try:
        with ResilientClient("t", FAST) as c:
            assert c.get(f"http://127.0.0.1:{srv.getsockname()[1]}/p", parse=json.loads) == {"ok": True}
            assert c.stats["retries"] == 1 and len(hits) == 2
    finally:
        srv.close()


def test_malformed_and_wrong_unit_bodies_are_not_cached(httpserver, tmp_path):
    httpserver.expect_ordered_request("/price").respond_with_data('{"unix_seconds": [1546300800], "price": [', content_type="application/json")
    httpserver.expect_ordered_request("/price").respond_with_data(ec_body(utc("2019-01-01"), utc("2019-01-02"), unit="MWh / EUR"))
    httpserver.expect_ordered_request("/price").respond_with_handler(ec_handler)
    src = EnergyChartsSource(base_url=httpserver.url_for("/"), policy=FAST, cache_dir=tmp_path / "cache", chunk_days=1)
    df = src.fetch("DE_LU", "2019-01-01", "2019-01-02")
    assert len(df) == 24 and src.client.stats["retries"] == 2
    cached = list((tmp_path / "cache" / "energy_charts").iterdir())
    assert len(cached) == 1 and json.loads(cached[0].read_bytes())["unit"] == "EUR / MWh"
    # served from the cache afterwards, with no server answer left
    assert src.fetch("DE_LU", "2019-01-01", "2019-01-02").equals(df)
    assert src.client.stats["cache_hits"] == 1


def test_wrong_unit_everywhere_fails_naming_the_unit(httpserver):
    httpserver.expect_request("/price").respond_with_data(ec_body(utc("2019-01-01"), utc("2019-01-02"), unit="EUR / GWh"))
    src = EnergyChartsSource(base_url=httpserver.url_for("/"), policy=FAST, chunk_days=1)
    with pytest.raises(FetchError, match="unknown price unit 'EUR / GWh'"):
        src.fetch("DE_LU", "2019-01-01", "2019-01-02")


def test_fallback_supplies_data_and_records_why(httpserver, tmp_path):
    "Energy-Charts fails (500s, then its breaker is open): the CSV mirror supplies every row, and nothing partial is stored."
    httpserver.expect_request("/price").respond_with_data("down", status=500)
    ec = EnergyChartsSource(base_url=httpserver.url_for("/"), policy=HttpPolicy(attempts=2, backoff_s=0.005, fail_max=1, reset_s=60), chunk_days=1)
    svc = PricingService([ec, EntsoeCsvSource(DATA)], resolution=60)
    first = svc.fetch("DE_LU", *local_day("2019-03-31"))
    assert len(first.frame) == 23 and set(first.frame.source) == {"entsoe_csv"} and first.missing.empty
    assert first.skipped[0].startswith("energy_charts: HTTP 500 after 2 attempts")
    second = svc.fetch("DE_LU", *local_day("2019-04-01"))
    assert second.skipped[0].startswith("energy_charts: circuit open")
    assert set(second.frame.source) == {"entsoe_csv"} and len(second.frame) == 24
    store = tmp_path / "store"
    update(store, first.frame); update(store, second.frame)
    assert missing_intervals(store, "DE_LU", local_day("2019-03-31")[0], local_day("2019-04-02")[0]).empty


def test_partial_day_is_completed_by_the_next_source(httpserver):
    "An empty day from the first source and a day with missing hours: the second source fills exactly what is missing."
    def holes(req):
        a, b = utc(req.args["start"]), utc(req.args["end"])
        doc = json.loads(ec_body(a, b))
        if a == utc("2019-10-27"): doc["unix_seconds"], doc["price"] = [], []  # an empty day
        else: doc["price"][5] = None  # one missing hour
        return Response(json.dumps(doc), content_type="application/json")
    httpserver.expect_request("/price").respond_with_handler(holes)
    ec = EnergyChartsSource(base_url=httpserver.url_for("/"), policy=FAST, chunk_days=1)
    out = PricingService([ec, EntsoeCsvSource(DATA)], resolution=15).fetch("DE_LU", utc("2019-10-26"), utc("2019-10-28"))
    assert out.missing.empty and len(out.frame) == 48 * 4
    by = out.frame.groupby("source").size().to_dict()
    assert by == {"energy_charts": (24 - 1) * 4, "entsoe_csv": (24 + 1) * 4}
    ref = DE.set_index("timestamp").price
    assert (out.frame.price.to_numpy() == ref.reindex(out.frame.timestamp.dt.floor("h")).to_numpy()).all()
    assert any("intervals still missing" in s for s in out.skipped)


def test_no_source_has_the_day(httpserver):
    httpserver.expect_request("/price").respond_with_data(json.dumps({"unix_seconds": [], "price": [], "unit": "EUR / MWh"}))
    ec = EnergyChartsSource(base_url=httpserver.url_for("/"), policy=FAST, chunk_days=1)
    out = PricingService([ec, EntsoeCsvSource(DATA)]).fetch("DE_LU", "2024-01-01", "2024-01-02")  # after the CSV ends
    assert out.frame.empty and len(out.missing) == 24
    assert [s.split(":")[0] for s in out.skipped] == ["energy_charts", "entsoe_csv"]


def test_rate_limit_spaces_requests(httpserver):
    httpserver.expect_request("/p").respond_with_data("x")
    with ResilientClient("t", HttpPolicy(rate_per_s=50, burst=2)) as c:
        t0 = time.perf_counter()
        for _ in range(12): c.get(httpserver.url_for("/p"))
        assert time.perf_counter() - t0 >= (12 - 2) / 50 * 0.9
