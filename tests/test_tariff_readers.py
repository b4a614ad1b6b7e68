"""Readers on the real tariff files; the URDB API client against a loopback server serving them."""
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from electricity_optimizer.config import EOError
from electricity_optimizer.resilient import HttpPolicy, ResilientClient
from electricity_optimizer.tariff_readers import (TariffReadError, fetch_urdb, nz_plan, read_nz_catalog, read_nz_file,
                                                  read_urdb, read_us_tou, urdb_tariff, us_tou_tariff)

TARIFFS = Path(__file__).resolve().parents[2] / "shared" / "data" / "tariffs"
URDB = sorted((TARIFFS / "urdb").glob("*.json"))


def test_nz_every_file_and_plan_is_read():
    files = sorted((TARIFFS / "nz_hamilton").glob("*.yml"))
    assert len(files) == 7
    for f in files:
        plans = yaml.safe_load(f.read_text())["plans"]
        got = read_nz_file(f)
        assert len(got) == sum(("low" in p) + ("standard" in p) for p in plans) == 2 * len(plans)
        for t in got:
            assert t.currency == "NZD" and t.timezone == "Pacific/Auckland" and t.standing_per_day > 0
            assert all(np.isfinite(t._c["energy"]).all() for _ in [0])
    assert len(read_nz_catalog(TARIFFS / "nz_hamilton")) == sum(len(read_nz_file(f)) for f in files)


def test_nz_details_monthly_rates_free_sunday_and_variants():
    cat = {t.name: t for t in read_nz_catalog(TARIFFS / "nz_hamilton")}
    gs = cat["Powershop GetShifty (low)"]
    assert gs._c["energy"][gs.periods.index("peak"), 6, 0] == 0.4186  # July peak, monthly rates
    assert gs.max_annual_kwh == 8000 and cat["Powershop GetShifty (standard)"].max_annual_kwh is None
    assert gs.signup_credit == 150 and gs.meta["incentives"]["percent_discount"] == 7
    ss = cat["Electrickiwi SundaySaver (standard)"]
    assert set(ss.schedule.table[:, 6].ravel()) == {ss.periods.index("free")}  # Sunday free all day
    assert ss.requirements == {"bundle": True}
    fr = cat["Meridian Freedom (standard)"]
    assert fr._c["export"][fr.periods.index("peak")].tolist() == [0.15] * 6 + [0.24] * 3 + [0.15] * 3
    assert fr.energy == {"default": 0.2708, "peak": 0.2708} and fr.meta["controlled"] == 0.2172
    ev = cat["Genesis EVHome (low)"]
    assert ev.requirements == {"ev_ownership": True} and ev.meta["interim"]["uncontrolled"] == 0.3195


def test_nz_errors_name_the_field(tmp_path):
    bad = tmp_path / "Bad.yml"
    bad.write_text("plans:\n  - name: P\n    low: {daily: 1.0, uncontrolled: {peak: 0.3}}\n    schedule: {weekday: [[peak, '23:00']], weekend: [[peak, '24:00']]}\n")
    with pytest.raises(TariffReadError, match=r"Bad.yml plan 'P' low: field 'schedule'.*not at 24:00") as e:
        read_nz_file(bad)
    assert isinstance(e.value, EOError) and "\n" not in str(e.value)
    bad.write_text("plans: []\n")
    with pytest.raises(TariffReadError, match="'plans' is empty"):
        read_nz_file(bad)
    with pytest.raises(TariffReadError, match="field 'uncontrolled' has no rate for period 'night'"):
        nz_plan({"name": "x", "low": {"daily": 1, "uncontrolled": {"day": 0.3}},
                 "schedule": {"everyday": [["night", "07:00"], ["day", "24:00"]]}}, "low", "S")


@pytest.mark.parametrize("path", URDB, ids=lambda p: p.stem)
def test_urdb_every_file_is_read(path):
    t = read_urdb(path, "America/Los_Angeles")
    it = json.loads(path.read_text())["items"][0]
    assert len(t.periods) == len(it["energyratestructure"])
    assert t.standing_per_month == it["fixedchargefirstmeter"]
    rates = sorted(p[0]["rate"] + p[0].get("adj", 0) for p in it["energyratestructure"])
    assert sorted(t._c["energy"][:, 0, 0]) == pytest.approx(rates)


def test_urdb_tiers_and_errors():
    doc = json.loads(URDB[0].read_text())
    it = doc["items"][0]
    it["energyratestructure"] = [[{"rate": 0.1, "max": 500, "unit": "kWh"}, {"rate": 0.2, "adj": 0.01, "unit": "kWh"}]]
    t = urdb_tariff(doc, "America/New_York")
    assert list(t.tier_limits) == [500.0] and t._c["energy"][0, 0].tolist() == pytest.approx([0.1, 0.21])
    it["energyweekdayschedule"] = it["energyweekdayschedule"][:11]
    with pytest.raises(TariffReadError, match="'energyweekdayschedule' is not 12 x 24"):
        urdb_tariff(doc, "America/New_York")
    with pytest.raises(TariffReadError, match="'fixedchargeunits'"):
        urdb_tariff({"items": [dict(json.loads(URDB[1].read_text())["items"][0], fixedchargeunits="$/year")]}, "UTC")
    with pytest.raises(TariffReadError, match="not a URDB rate"):
        urdb_tariff({"items": [{}]}, "UTC")


def test_us_tou_every_file_is_read():
    files = sorted((TARIFFS / "us_tou").glob("*.json"))
    assert len(files) == 5
    for f in files:
        t = read_us_tou(f)
        doc = json.loads(f.read_text())
        assert set(t._c["energy"][:, :, 0].ravel()) <= {r for e in doc["schedule"] for r in e["tariffs"]}
    ev8 = read_us_tou(TARIFFS / "us_tou/sce_tou_ev_8_june_2019.json")
    s = ev8.schedule
    assert ev8.energy[s.names[s.table[6, 2, 17 * 60]]] == 0.49619  # July Wednesday 17:00: summer weekday peak
    assert ev8.energy[s.names[s.table[0, 6, 9 * 60]]] == 0.07724  # January Sunday 09:00: winter 08-16


def test_us_tou_errors():
    with pytest.raises(TariffReadError, match=r"schedule\[0\]: field 'dow_mask' 'MONDAYS'"):
        us_tou_tariff({"schedule": [{"effective_start": "01-01", "effective_end": "12-31", "dow_mask": "MONDAYS", "times": [0], "tariffs": [0.1]}]})
    with pytest.raises(TariffReadError, match="'times'/'tariffs'"):
        us_tou_tariff({"schedule": [{"effective_start": "01-01", "effective_end": "12-31", "dow_mask": "ALL", "times": [0, 8], "tariffs": [0.1]}]})


def _client():
    return ResilientClient("urdb", HttpPolicy(attempts=2, backoff_s=0.01, max_wait_s=0.05, rate_per_s=100, burst=100))


def test_fetch_urdb_from_loopback(httpserver, monkeypatch):
    monkeypatch.setenv("NREL_API_KEY", "sekret-key-123")
    body = URDB[2].read_text()
    label = json.loads(body)["items"][0]["label"]
    httpserver.expect_request("/utility_rates", query_string={"version": "latest", "format": "json", "detail": "full",
                                                              "getpage": label, "api_key": "sekret-key-123"}).respond_with_data(body, content_type="application/json")
    with _client() as c:
        t = fetch_urdb(label, "America/Los_Angeles", base_url=httpserver.url_for("/utility_rates"), client=c)
    assert t.energy == read_urdb(URDB[2], "America/Los_Angeles").energy


def test_fetch_urdb_errors_never_show_the_key(httpserver, monkeypatch):
    monkeypatch.setenv("NREL_API_KEY", "sekret-key-123")
    httpserver.expect_request("/bad").respond_with_data("forbidden", status=403)
    httpserver.expect_request("/err").respond_with_json({"error": {"code": "API_KEY_INVALID", "message": "key sekret-key-123 invalid"}})
    httpserver.expect_request("/none").respond_with_json({"items": []})
    for path, match in [("/bad", "HTTP 403"), ("/err", "API_KEY_INVALID"), ("/none", "'items' is empty")]:
        with _client() as c, pytest.raises(EOError, match=match) as e:
            fetch_urdb("x", "UTC", base_url=httpserver.url_for(path), client=c)
        assert "sekret" not in str(e.value)
    monkeypatch.delenv("NREL_API_KEY")
    with pytest.raises(EOError, match="NREL_API_KEY is not set"):
        fetch_urdb("x", "UTC", base_url=httpserver.url_for("/bad"))
