"""The savings report served by Voila on loopback, opened in headless Chromium."""
import json
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import run_env

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila(repro_repo):
    "`make serve`'s command (`eo serve`) on a free loopback port, from the repro copy."
    port = _free_port()
    proc = subprocess.Popen(["eo", "serve", "--port", str(port)], cwd=repro_repo["repo"], env=run_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"voila exited: {proc.stdout.read()[-3000:]}")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("voila did not answer within 90 s")
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_savings_page_in_a_real_browser(voila, repro_repo, tmp_path):
    from playwright.sync_api import sync_playwright
    m = json.loads((repro_repo["repo"] / "metrics/optimize.json").read_text())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS[1:], headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.goto(f"{voila}/voila/render/savings.ipynb", timeout=180_000)
        total = page.locator("#savings-total")
        total.wait_for(timeout=180_000)
        assert total.inner_text() == f'{m["savings_forecast"]:.2f} {m["currency"]}'
        figures = page.locator("img[src^='data:image/png']")
        figures.first.wait_for(timeout=60_000)
        assert figures.count() >= 2
        box = figures.first.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200
        assert "import" not in page.inner_text("body")  # no code on the page
        page.screenshot(path=str(tmp_path / "savings.png"), full_page=True)
        browser.close()


def test_switching_page_shows_the_advice(voila, repro_repo):
    from playwright.sync_api import sync_playwright
    m = json.loads((repro_repo["repo"] / "metrics/switching.json").read_text())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS[1:], headless=True)
        page = browser.new_page()
        page.goto(f"{voila}/voila/render/switching.ipynb", timeout=180_000)
        tariff = page.locator("#switch-tariff")
        tariff.wait_for(timeout=180_000)
        assert tariff.inner_text() == (m["current"] if m["action"] == "stay" else m["recommended"])
        assert page.locator("table").count() >= 1
        browser.close()
