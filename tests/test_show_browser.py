"""gkllm show in a real browser: Debian's chromium, driven by selenium through Debian's chromedriver.

Clicks a table cell and checks that its source span becomes the highlighted one (and the way back), moves
between cells with the keyboard, takes screenshots at 1280×800 and at a phone's width (saved as test
artefacts in $GKLLM_ARTEFACTS, default eval/out/artefacts), and runs the service's upload form.
Skipped, with the reason, where chromium, chromedriver or selenium is absent (.ci/run installs them).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from gkllm.pipeline import extract_document, load
from gkllm.show import render_report

from .conftest import ROOT, SEEDS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTEFACTS = Path(os.environ.get("GKLLM_ARTEFACTS") or ROOT / "eval" / "out" / "artefacts")
SEED = next(p for p in SEEDS if p.name.startswith("003"))
REAL = ROOT / "eval" / "cases" / "real"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars")


def _why_no_browser() -> str | None:
    if not os.path.exists(CHROMIUM):
        return "Debian's chromium is not installed (apt-get install chromium chromium-driver; .ci/run does)"
    if not os.path.exists(CHROMEDRIVER):
        return "Debian's chromium-driver is not installed (apt-get install chromium-driver; .ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    return None


pytestmark = pytest.mark.skipif(_why_no_browser() is not None, reason=_why_no_browser() or "")


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="gkllm-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def viewport(driver, width: int, height: int) -> None:
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 700})


def open_page(driver, path: Path, tmp: Path):
    doc = load(path.read_bytes(), str(path.relative_to(ROOT)))
    report = extract_document(doc, mode="parser")
    page = tmp / (path.name + ".html")
    page.write_text(render_report(report, doc.text), encoding="utf-8")
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(page.as_uri())
    wait_for(driver, "return document.documentElement.getAttribute('data-ready')")
    return report


def wait_for(driver, script: str, timeout: float = 10.0):
    end = time.monotonic() + timeout
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for: {script}")
        time.sleep(0.05)


def settle(driver, timeout: float = 5.0) -> None:
    """Wait until smooth scrolling has stopped (the panes' and the window's offsets hold still)."""
    script = ("return [window.scrollY, document.getElementById('source').scrollTop,"
              " document.getElementById('tables').scrollTop].join()")
    end, last = time.monotonic() + timeout, None
    while time.monotonic() < end:
        now = driver.execute_script(script)
        if now == last:
            return
        last = now
        time.sleep(0.15)


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def cell(driver, key: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f'td[data-key="{key}"]')


HIGHLIGHTED = """
const marks = document.querySelectorAll('#source mark.current');
if (marks.length !== 1) return null;
const m = marks[0], pane = document.getElementById('source');
const mr = m.getBoundingClientRect(), pr = pane.getBoundingClientRect();
const visible = mr.top >= pr.top && mr.bottom <= pr.bottom && mr.top >= 0 && mr.bottom <= window.innerHeight;
return visible ? m.getAttribute('data-key') : null;
"""


def test_click_a_cell_highlights_its_source_span_and_back(browser, tmp_path):
    viewport(browser, 1280, 800)
    report = open_page(browser, REAL / "pingtan-dept-02-text.txt", tmp_path)
    key = "requests.partial.total"
    cell(browser, key).click()
    assert wait_for(browser, HIGHLIGHTED) == key  # the one highlighted span, scrolled into view
    mark = browser.execute_script("return document.querySelector('#source mark.current')")
    p = report.provenance[key]
    assert mark.text == p.text and "failed" in mark.get_attribute("class")
    assert cell(browser, key).get_attribute("aria-selected") == "true"
    # another cell: the highlight moves
    cell(browser, "review.reconsideration.total").click()
    assert wait_for(browser, HIGHLIGHTED) == "review.reconsideration.total"
    assert browser.execute_script("return document.querySelectorAll('.current').length") == 2  # span + cell
    # source → cell: clicking a number in the text selects (and focuses) its cell
    browser.execute_script("document.querySelector('#source mark[data-key=\"active.licensing\"]').click()")
    wait_for(browser, "return document.body.getAttribute('data-current') === 'active.licensing'")
    assert browser.execute_script("return document.activeElement.getAttribute('data-key')") == "active.licensing"
    # hovering shows the key, its method, line and rules
    from selenium.webdriver import ActionChains
    from selenium.webdriver.common.keys import Keys

    settle(browser)
    ActionChains(browser).move_to_element(cell(browser, key)).perform()
    tip = wait_for(browser, "const t = document.getElementById('gk-tip'); return t.hidden ? null : t.innerText")
    assert key in tip and "read by: parser" in tip and "✗ R3 partial failed: 8 ≠ 9" in tip
    # a link in the rules section selects both sides
    browser.execute_script("document.querySelector('#rules a[data-goto=\"requests.new.commercial\"]').click()")
    assert wait_for(browser, HIGHLIGHTED) == "requests.new.commercial"
    assert browser.execute_script("return document.activeElement.getAttribute('data-key')") == "requests.new.commercial"
    # the artefact: a failing report with one failing cell selected (README's docs/show.png is made from it)
    browser.execute_script("document.querySelector('#rules a[data-goto=\"%s\"]').click()" % key)
    settle(browser)
    ActionChains(browser).move_to_element(browser.find_element("css selector", "h1")).perform()
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    browser.execute_script("window.scrollTo(0, 0)")
    time.sleep(1.5)  # let the flash fade
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(ARTEFACTS / "show-failing-1280x800.png"))
    assert console_errors(browser) == []


def test_ambiguous_run_cycles_through_its_keys(browser, tmp_path):
    viewport(browser, 1280, 800)
    open_page(browser, REAL / "pingtan-dept-01-text.txt", tmp_path)
    keys = ["active.normative_docs.issued", "active.normative_docs.repealed", "active.normative_docs.in_force"]
    got = []
    for _ in range(4):  # the innermost mark takes the click; the same place again selects the next key of the run
        browser.execute_script("document.querySelector('#source mark[data-key=\"%s\"]').click()" % keys[-1])
        got.append(browser.execute_script("return document.body.getAttribute('data-current')"))
    assert got == [keys[2], keys[1], keys[0], keys[2]]
    tip = browser.execute_script("const t = document.getElementById('gk-tip'); return t.hidden ? null : t.innerText")
    assert tip is None or "candidates" in tip
    assert console_errors(browser) == []


def test_keyboard_moves_between_cells(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys

    viewport(browser, 1280, 800)
    open_page(browser, SEED, tmp_path)
    first = browser.execute_script(
        "return document.querySelector('#tables td[tabindex=\"0\"]').getAttribute('data-key')")
    assert first == "active.rules.issued"  # one tab stop for the whole grid
    c = cell(browser, "requests.new.natural_person")
    c.click()
    active = lambda: browser.execute_script("return document.activeElement.getAttribute('data-key')")  # noqa: E731
    assert active() == "requests.new.natural_person"
    browser.switch_to.active_element.send_keys(Keys.ARROW_RIGHT)
    assert active() == "requests.new.commercial"
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert active() == "requests.carried_over.commercial"
    browser.switch_to.active_element.send_keys(Keys.END)
    assert active() == "requests.carried_over.total"
    assert wait_for(browser, HIGHLIGHTED) == "requests.carried_over.total"  # moving selects: the source follows
    browser.switch_to.active_element.send_keys(Keys.HOME)
    assert active() == "requests.carried_over.natural_person"
    for _ in range(23):
        browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert active() == "requests.carried_forward.natural_person"  # the heading rows are skipped
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert active() == "review.reconsideration.upheld"  # on from part 3 into part 4
    tabindex = browser.execute_script("return [...document.querySelectorAll('#tables td[tabindex=\"0\"]')].length")
    assert tabindex == 1
    assert console_errors(browser) == []


def test_screenshots_at_1280x800_and_phone_width(browser, tmp_path):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    viewport(browser, 1280, 800)
    open_page(browser, SEED, tmp_path)
    # both panes side by side, the tables' cells readable
    panes = browser.execute_script(
        "return [...document.querySelectorAll('.pane')].map(p => { const r = p.getBoundingClientRect();"
        " return [r.left, r.width]; })")
    assert len(panes) == 2 and panes[1][0] > panes[0][0] + panes[0][1] - 1 and min(w for _, w in panes) > 500
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 1280
    cell(browser, "active.licensing").click()
    assert wait_for(browser, HIGHLIGHTED) == "active.licensing"
    time.sleep(1.5)  # let the flash fade
    browser.execute_script("window.scrollTo(0, 0)")
    shot = ARTEFACTS / "show-seed-1280x800.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 20_000
    # a phone: one column, no page-wide horizontal scrolling
    viewport(browser, 390, 844)
    browser.refresh()
    wait_for(browser, "return document.documentElement.getAttribute('data-ready')")
    panes = browser.execute_script(
        "return [...document.querySelectorAll('.pane')].map(p => p.getBoundingClientRect().left)")
    assert panes[0] == panes[1]  # stacked
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    shot = ARTEFACTS / "show-seed-390x844.png"
    assert browser.save_screenshot(str(shot))
    viewport(browser, 1280, 800)
    assert console_errors(browser) == []


def test_service_form_shows_the_page(browser, tmp_path):
    """GET /v1/show in the browser: choose a file, type the token, and the page comes back and works."""
    from selenium.webdriver.common.by import By

    from gkllm.service import Settings

    from .test_service import Server

    viewport(browser, 1280, 800)
    with Server(Settings(token="s3cret", mode="parser")) as srv:
        browser.get_log("browser")
        browser.get(srv.url + "/v1/show")
        browser.find_element(By.ID, "file").send_keys(str(REAL / "pingtan-dept-02-text.txt"))
        browser.find_element(By.ID, "mode").send_keys("parser")
        browser.find_element(By.ID, "token").send_keys("wrong")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        msg = wait_for(browser, "const r = document.getElementById('result'); "
                                "return r.textContent.startsWith('Error') ? r.textContent : null")
        assert "401" in msg and "unauthorized" in msg
        token = browser.find_element(By.ID, "token")
        token.clear()
        token.send_keys("s3cret")
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait_for(browser, "return location.protocol === 'blob:' && document.documentElement.getAttribute('data-ready')",
                 timeout=30)
        cell(browser, "requests.partial.total").click()
        assert wait_for(browser, HIGHLIGHTED) == "requests.partial.total"
        errors = [e for e in console_errors(browser) if "401" not in e]
        assert errors == []


def test_index_sorts_and_links(browser, tmp_path):
    from selenium.webdriver.common.by import By

    from gkllm.show import show_folder

    src = tmp_path / "in"
    src.mkdir()
    for name in ("pingtan-dept-01-text.txt", "pingtan-dept-02-text.txt", "pingtan-dept-01-page.html"):
        shutil.copy(REAL / name, src / name)
    shutil.copy(SEED, src / SEED.name)
    res = show_folder([src], tmp_path / "out", mode="parser")
    viewport(browser, 1280, 800)
    browser.get_log("browser")
    browser.get(res.index.as_uri())
    wait_for(browser, "return document.documentElement.getAttribute('data-ready')")
    column = lambda i: browser.execute_script(  # noqa: E731
        f"return [...document.querySelectorAll('#reports tbody tr')].map(r => r.cells[{i}].textContent)")
    header = browser.find_elements(By.CSS_SELECTOR, "#reports thead th button")
    header[6].click()  # rules failed
    assert column(6) == ["0", "0", "0", "3"]
    assert header[6].find_element(By.XPATH, "..").get_attribute("aria-sort") == "ascending"
    header[6].click()
    assert column(6) == ["3", "0", "0", "0"] and column(0)[0] == "pingtan-dept-02-text.txt"
    header[2].click()  # year, as numbers
    assert column(2) == sorted(column(2))
    browser.find_element(By.LINK_TEXT, "pingtan-dept-02-text.txt").click()
    wait_for(browser, "return document.documentElement.getAttribute('data-ready')")
    assert browser.execute_script("return document.querySelectorAll('#tables td.failed').length") == 17
    browser.find_element(By.CSS_SELECTOR, "a.back").click()
    wait_for(browser,
             "return document.getElementById('reports') && document.documentElement.getAttribute('data-ready')")
    assert console_errors(browser) == []
