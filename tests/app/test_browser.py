"""The real thing: `barlake app` served on a free port, every page opened in headless Chromium.

Debian's Chromium is driven through Playwright's Python package (`executable_path`, so no
`playwright install` download). Each page must render its key elements with no Streamlit
exception box (`stException`); screenshots go to the test's temp folder, and into docs/ as
docs/app_<page>.png when BARLAKE_SCREENSHOTS=docs (how the README screenshots are refreshed).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from app_support import build_app_lake
from run_fixtures import make_finished_run, write_walk_lake

from barlake.demo import SYNC_DAYS

CHROMIUM = Path("/usr/bin/chromium")
DOCS = Path(__file__).parents[2] / "docs"
STARTUP_S = 90.0
RENDER_MS = 60_000
TALLEST = "Math.max(...Array.from(document.querySelectorAll('div, section'), e => e.scrollHeight))"

playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")


def chromium() -> Path:
    """Debian's Chromium; installed with apt-get when missing and we are root, else a clear fail."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        wait = ["-o", "DPkg::Lock::Timeout=600"]  # the PostgreSQL test may be installing too
        subprocess.run(["apt-get", *wait, "update", "-q"], env=env, check=False, timeout=900)
        subprocess.run(
            ["apt-get", *wait, "install", "-y", "-q", "chromium"],
            env=env,
            check=False,
            timeout=900,
        )
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found and `apt-get install chromium` was not possible: "
            "install Debian's chromium package (as root) to run the browser test"
        )
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"`barlake app` exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"`barlake app` did not answer on {url} in {STARTUP_S:.0f} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`barlake app --lake … --runs …` on a free loopback port, over the app lake and one run."""
    root = tmp_path_factory.mktemp("browser")
    lake = build_app_lake(root / "lake", demo_sync_days=SYNC_DAYS)  # what `make demo` builds
    write_walk_lake(lake)
    make_finished_run(lake, root / "runs")
    port, log = free_port(), root / "app.log"
    command = [sys.executable, "-m", "barlake.cli.main", "app", "--lake", str(lake)]
    command += ["--runs", str(root / "runs"), "--port", str(port)]
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the CLI and its streamlit child: our own group
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@pytest.fixture(scope="module")
def browser_page(served_app: str) -> Iterator[object]:
    with playwright_api.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=str(chromium()), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(RENDER_MS)
        page.goto(served_app)
        yield page
        browser.close()


def settle(page) -> None:
    """Wait until Streamlit has finished running the script (its status widget disappears)."""
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")
    page.wait_for_timeout(500)  # plotly draws after the script ends


def no_exception(page) -> None:
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, boxes.first.inner_text()


def shoot(page, name: str, folder: Path) -> None:
    """Full-page screenshot into the test folder, copied to docs/ with BARLAKE_SCREENSHOTS=docs."""
    path = folder / f"app_{name}.png"
    size = page.viewport_size
    height = page.evaluate(TALLEST)  # Streamlit scrolls an inner element, not the page
    page.set_viewport_size({"width": size["width"], "height": min(max(height, 600), 4000)})
    page.wait_for_timeout(800)  # plotly re-lays out to the new size
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    target = os.environ.get("BARLAKE_SCREENSHOTS")
    if target:
        out = DOCS if target == "docs" else Path(target)
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, out / path.name)


def open_from_sidebar(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=title).click()
    page.get_by_role("heading", name=title, level=1).wait_for()
    settle(page)


def pick(page, label: str, option: str) -> None:
    page.locator('[data-testid="stSelectbox"]').filter(has_text=label).click()
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)


def test_data_page_shows_chart_coverage_and_selectors(browser_page, tmp_path):
    page = browser_page
    open_from_sidebar(page, "Data")
    for label in ("Source", "Instrument", "Timeframe"):
        page.get_by_label(label, exact=True).first.wait_for()
    page.locator(".js-plotly-plot").nth(1).wait_for()  # price chart and coverage chart
    pick(page, "Source", "sample")  # the demo lake also holds the synced venues
    page.get_by_text("1m aggregated to 5m: 864 candles").wait_for()
    pick(page, "Instrument", "SOLUSDT")
    page.get_by_text("sample / SOLUSDT — 1m aggregated to 5m: 720 candles").wait_for()
    page.get_by_role("heading", name="Coverage").wait_for()
    page.get_by_text("1 partly missing").wait_for()
    no_exception(page)
    shoot(page, "data", tmp_path)


def test_scan_page_ranks_and_a_clicked_row_opens_its_chart(browser_page, tmp_path):
    page = browser_page
    open_from_sidebar(page, "Scan")
    pick(page, "Universe", "sample (3 instruments)")
    page.get_by_role("button", name="Scan").click()
    settle(page)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    page.get_by_text("3 passed, 0 filtered out, 0 skipped").wait_for()
    no_exception(page)
    shoot(page, "scan", tmp_path)
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(grid["x"] + 15, grid["y"] + 35 + 17)  # first row's checkbox (canvas grid)
    page.get_by_role("heading", name="Data", level=1).wait_for()
    settle(page)
    page.get_by_text("sample / SOLUSDT — 1h: 60 candles").wait_for()
    no_exception(page)


def test_backtest_page_runs_a_backtest(browser_page, tmp_path):
    page = browser_page
    open_from_sidebar(page, "Backtest")
    page.get_by_role("button", name="Run backtest").click()
    settle(page)
    page.get_by_role("heading", name="Price and trades").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    no_exception(page)
    shoot(page, "backtest", tmp_path)


def test_optimize_page_shows_the_finished_run(browser_page, tmp_path):
    page = browser_page
    open_from_sidebar(page, "Optimize")
    page.get_by_role("heading", name="Runs").wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    no_exception(page)
    shoot(page, "optimize", tmp_path)
