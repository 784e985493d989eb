"""End to end: the real `streamlit run app.py` server on a free local port, driven in headless Chromium.

One server, one browser and one beacon for the module (the suite runs on 2 cores). The server starts as on
a fresh clone, with no index; the tests run in file order: the first page builds the index of corpus/ with
a progress bar; then the first open of every page is measured (reported, not asserted); staff ask the
Chỉ thị 16 question, open a document, use the research pages (screenshots for the README); the issue 16
page items are measured in the browser; the filters live in the address; bad ids get a message; sign-in
and roles; an administrator uploads documents (one restricted to a group, one full of markdown links and
images pointing at a local beacon server); the restricted one stays hidden from anonymous visitors and
readers outside its group; no view of the hostile one makes the browser fetch or link anything outside.
Screenshots go to tmp; set SCREENSHOT_DIR=docs to refresh the ones in the README.
"""
from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

import app_samples as S

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
QUESTION = "Văn bản nào trích dẫn Chỉ thị 16?"
SEARCH_BOX = 'input[aria-label="Câu hỏi, số hiệu hoặc tham chiếu"]'
NEW_PHRASE = "mô hình cà phê xanh gắn với dân vận khéo ở buôn Kô Siêr"
NEW_DOC = f"""ỦY BAN NHÂN DÂN
TỈNH ĐẮK LẮK

Số: 7777/UBND-KGVX
V/v nhân rộng mô hình dân vận khéo năm 2023

Đắk Lắk, ngày 9 tháng 3 năm 2023

Kính gửi: Các sở, ban, ngành.

Tiếp tục thực hiện Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh về đẩy mạnh phong trào thi đua “Dân vận khéo”, Ủy ban nhân dân tỉnh yêu cầu:

1. Nhân rộng {NEW_PHRASE} trong toàn tỉnh.

2. Báo cáo kết quả trước ngày 30/11/2023.

KT. CHỦ TỊCH
PHÓ CHỦ TỊCH

Nguyễn Văn Thử
"""

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="E2E cần /usr/bin/chromium và /usr/bin/chromedriver (Debian: apt-get install chromium chromium-driver)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f" (last error: {last})" if last else ""))


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = os.environ.get("SCREENSHOT_DIR")
    out = (REPO / d) if d and not os.path.isabs(d) else Path(d) if d else tmp_path_factory.mktemp("screenshots")
    out.mkdir(parents=True, exist_ok=True)
    return out


class Beacon(http.server.ThreadingHTTPServer):
    """A local HTTP server that only records what is asked of it: any request is a leak."""

    def __init__(self):
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def beacon():
    b = Beacon()
    thread = threading.Thread(target=b.serve_forever, daemon=True)
    thread.start()
    yield b
    b.shutdown()
    b.server_close()


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    """`streamlit run app.py` with an empty index directory; killed (process group) in a finalizer."""
    work = tmp_path_factory.mktemp("e2e")
    index_dir = work / "index"
    port = _free_port()
    env = {**os.environ, "VANBAN_INDEX_DIR": str(index_dir), "VANBAN_CORPUS_DIR": str(REPO / "corpus"),
           "VANBAN_UPLOAD_DIR": str(work / "uploads"), "HF_HUB_OFFLINE": "1"}
    env.pop("VANBAN_ANONYMOUS", None)
    log = open(work / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def stop():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        log.close()
    request.addfinalizer(stop)

    url = f"http://127.0.0.1:{port}"

    def healthy():
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {(work / 'server.log').read_text()[-2000:]}")
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
            return r.status == 200
    _wait(healthy, 30, "the Streamlit server to answer /_stcore/health")
    return {"url": url, "work": work, "index": index_dir, "uploads": work / "uploads", "log": work / "server.log"}


@pytest.fixture(scope="module")
def browser(server, tmp_path_factory, request):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--no-first-run", "--window-size=1400,1700", "--lang=vi-VN"):
        opts.add_argument(a)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    request.addfinalizer(driver.quit)
    driver.set_page_load_timeout(60)
    return driver


@pytest.fixture(scope="module")
def built(server, browser):
    """The index exists (the first test builds it through the page; alone, this waits for it)."""
    if not (server["index"] / "CURRENT").exists():
        browser.get(server["url"] + "/")
        _wait(lambda: (server["index"] / "CURRENT").exists(), 300, "the first build")
    return server


@pytest.fixture(scope="module")
def accounts(built):
    S.add_accounts(built["index"])
    return built


def _doc_id(server, number: str) -> int:
    from index.access import SYSTEM
    from index.library import Library
    lib = Library(server["index"])
    try:
        return lib.document_by_number(SYSTEM, number)["id"]
    finally:
        lib.close()


# --- helpers ----------------------------------------------------------------------------------------

def _page_text(driver) -> str:
    from selenium.webdriver.common.by import By
    return driver.find_element(By.TAG_NAME, "body").text


def _wait_text(driver, text: str, timeout: float = 60) -> None:
    _wait(lambda: text in _page_text(driver), timeout, f"“{text}” on the page")


def _wait_idle(driver, timeout: float = 90, quiet: float = 0.8) -> None:
    """The script run is over: the app's root has said "notRunning" for ``quiet`` seconds."""
    since = [None]

    def calm():
        state = driver.execute_script(
            "const a = document.querySelector('[data-testid=\"stApp\"]'); return a && a.getAttribute('data-test-script-state')")
        if state != "notRunning":
            since[0] = None
            return False
        since[0] = since[0] or time.monotonic()
        return time.monotonic() - since[0] >= quiet
    time.sleep(0.3)
    _wait(calm, timeout, "the script run to finish", interval=0.1)


def _open(driver, server, path: str, ready: str | tuple[str, ...], timeout: float = 120) -> float:
    """Load ``path`` (a full page load: a new session) and wait for ``ready`` (one of them) and the end of
    the run; the seconds it took."""
    t0 = time.monotonic()
    driver.get(server["url"] + path)
    ready = (ready,) if isinstance(ready, str) else ready
    _wait(lambda: any(r in _page_text(driver) for r in ready), timeout, f"one of {ready} on the page")
    _wait_idle(driver, timeout)
    return round(time.monotonic() - t0, 1)


def _search(driver, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    box = _wait(lambda: driver.find_element(By.CSS_SELECTOR, SEARCH_BOX), 60, "the search box")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text + Keys.ENTER)


def _choose(driver, label: str, option: str) -> None:
    """Pick ``option`` in the select box labelled ``label``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    box = _wait(lambda: driver.find_element(By.CSS_SELECTOR, f'input[role="combobox"][aria-label="{label}"]'), 30,
                f"the “{label}” box")
    box.click()
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(option[:20])
    _wait(lambda: next(o for o in driver.find_elements(By.CSS_SELECTOR, '[role="option"]') if option in o.text),
          20, f"the option “{option}”").click()


def _nav(driver) -> list[str]:
    from selenium.webdriver.common.by import By
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, '[data-testid="stTopNavLink"]')]


def _sign_in(driver, server, account) -> None:
    from selenium.webdriver.common.by import By
    driver.delete_all_cookies()
    _open(driver, server, "/dang-nhap", "Mật khẩu")
    driver.find_element(By.CSS_SELECTOR, 'input[aria-label="Tên đăng nhập"]').send_keys(account[0])
    driver.find_element(By.CSS_SELECTOR, 'input[aria-label="Mật khẩu"]').send_keys(account[1])
    next(b for b in driver.find_elements(By.TAG_NAME, "button") if b.text == "Đăng nhập").click()
    _wait(lambda: "Tài khoản" in _nav(driver), 60, f"{account[0]} signed in")
    _wait(lambda: driver.get_cookie("vanban_phien"), 20, "the sign-in cookie")
    _wait_idle(driver)


def _anonymous(driver, server) -> None:
    driver.delete_all_cookies()
    _open(driver, server, "/", "Câu hỏi, số hiệu hoặc tham chiếu")


def _outside(driver) -> list[str]:
    """Every address the page links to or loads that is not the app's own."""
    return driver.execute_script("""
        const own = location.origin;
        const urls = [];
        for (const e of document.querySelectorAll('a[href], img, image, iframe, source, link[href], object, embed')) {
            for (const a of ['href', 'src', 'xlink:href', 'data', 'srcset']) {
                const v = e.getAttribute(a);
                if (!v || v.startsWith('#')) continue;
                let u; try { u = new URL(v, location.href); } catch (err) { urls.push(v); continue; }
                if (u.origin !== own && !['data:', 'blob:'].includes(u.protocol)) urls.push(u.href);
            }
        }
        return urls;""")


def _top(driver) -> None:
    driver.execute_script("window.scrollTo(0, 0); const m = document.querySelector('[data-testid=\"stMain\"]');"
                          "if (m) m.scrollTo(0, 0);")
    time.sleep(0.5)  # Vega draws the charts after the script run ends


def _drawn_charts(driver):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] svg.marks')


# --- a fresh start -----------------------------------------------------------------------------------------

def test_a_fresh_start_builds_the_index_with_a_progress_bar_and_no_english_stop_label(server, browser, shots):
    """Issue 16: an English "Stop" showed for ~2 s at start (the style sheet came after the slow imports)."""
    from selenium.webdriver.common.by import By
    browser.get(server["url"] + "/")
    stop_seen, shot, t0 = [], False, time.monotonic()
    while time.monotonic() - t0 < 300:
        for e in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"] button, '
                                                         '[data-testid="stStatusWidgetRunningIcon"]'):
            try:
                if e.is_displayed():
                    stop_seen.append((round(time.monotonic() - t0, 1), e.text or e.get_attribute("aria-label")))
            except Exception:  # noqa: BLE001 - the element went away meanwhile
                pass
        text = _page_text(browser)
        if not shot and any(f"Đang nạp tệp {i}/5" in text for i in (3, 4, 5)):
            browser.save_screenshot(str(shots / "khoi-dong.png"))     # a bar part-way along
            shot = True
        if browser.find_elements(By.CSS_SELECTOR, SEARCH_BOX):
            break
        time.sleep(0.05)
    assert browser.find_elements(By.CSS_SELECTOR, SEARCH_BOX), "no search page after the first build"
    assert "Lần chạy đầu tiên" not in _page_text(browser)
    assert stop_seen == []
    if not shot:  # the build was quicker than the polling: keep a picture of the first page all the same
        browser.save_screenshot(str(shots / "khoi-dong.png"))


FIRST_OPEN: dict[str, float] = {}


def test_the_first_open_of_every_page_is_measured(accounts, browser, request):
    """Issue 16: "So sánh tỉnh" took 28.7 s on first open (the others 2-5 s). Each page's first open in this
    server process, as a full page load until its content is there and the run is over (reported in the
    output and as the test's properties; not asserted: the machine's load decides). The sidebar (the
    search filters) shows on the search page only."""
    from selenium.webdriver.common.by import By
    server = accounts
    doc_5500 = _doc_id(server, "5500/UBND-KGVX")
    pages = [("Tra cứu", "/", "Gõ câu hỏi"),
             ("Tra cứu: câu hỏi đầu tiên", "/?" + urlencode({"q": QUESTION}), "2 văn bản trích dẫn"),
             ("Văn bản", f"/van-ban?doc={doc_5500}", "Toàn văn"),
             ("Mạng trích dẫn", "/mang-trich-dan", "Được 3 văn bản trích dẫn"),
             ("So sánh tỉnh", "/so-sanh", "Đoạn trích dẫn của"),
             ("Nhiệm vụ & thời hạn", "/nhiem-vu", "Các thời hạn"),
             ("Văn bản tương tự", "/tuong-tu", "độ tương đồng"),
             ("Đăng nhập", "/dang-nhap", "Mật khẩu")]
    sidebars = {}
    for name, path, ready in pages:
        FIRST_OPEN[name] = _open(browser, server, path, ready, timeout=180)
        sidebars[name] = any(e.is_displayed() for e in browser.find_elements(By.CSS_SELECTOR, '[data-testid="stSidebar"]'))
        assert "Traceback" not in _page_text(browser)
    _sign_in(browser, server, S.ADMIN)
    FIRST_OPEN["Quản trị"] = _open(browser, server, "/quan-tri", "Trạng thái chỉ mục", timeout=180)
    for name, seconds in FIRST_OPEN.items():
        request.node.user_properties.append((f"first open: {name}", seconds))
    print("\nfirst open (s): " + json.dumps(FIRST_OPEN, ensure_ascii=False))
    (server["work"] / "first-open.json").write_text(json.dumps(FIRST_OPEN, ensure_ascii=False, indent=1))
    assert [n for n, shown in sidebars.items() if shown] == ["Tra cứu", "Tra cứu: câu hỏi đầu tiên"]


# --- staff -------------------------------------------------------------------------------------------------

def test_staff_asks_who_cites_chi_thi_16_and_sees_both_documents_with_passages(accounts, browser, shots):
    from selenium.webdriver.common.by import By
    _anonymous(browser, accounts)
    _search(browser, QUESTION)
    _wait_text(browser, "2 văn bản trích dẫn Chỉ thị 16/CT-TTg", 60)
    _wait_idle(browser)
    text = _page_text(browser)
    assert "5500/UBND-KGVX" in text and "1321/UBND-KGVX" in text
    cards = browser.find_elements(By.CSS_SELECTOR, ".vb-card")
    assert len(cards) == 2
    quotes = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".vb-card mark.quote")]
    assert "Chỉ thị số 16-CT/TTg" in quotes and "Chỉ thị số 16/TC-TTg" in quotes  # as each document writes it
    assert browser.find_elements(By.CSS_SELECTOR, ".vb-card .ans")
    assert "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk" in text
    assert "Traceback" not in text
    assert "q=" in browser.current_url                # the question is in the address
    browser.save_screenshot(str(shots / "tra-cuu.png"))


def test_staff_opens_a_cited_document_from_its_passage(accounts, browser, shots):
    from selenium.webdriver.common.by import By
    link = _wait(lambda: next(a for a in browser.find_elements(By.CSS_SELECTOR, ".vb-card .vb-head a")
                              if "5500/UBND-KGVX" in a.text), 20, "the link to 5500/UBND-KGVX")
    link.click()
    _wait_text(browser, "Toàn văn", 60)
    _wait_idle(browser)
    assert "/van-ban?doc=" in browser.current_url and "p=" in browser.current_url
    text = _page_text(browser)
    assert "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk" in text
    assert "Võ Văn Cảnh" in text                       # signer in the metadata
    assert "Văn bản được trích dẫn" in text and "Chỉ thị 16/CT-TTg" in text
    assert "Tệp" not in [r.text.split("\n")[0] for r in browser.find_elements(By.CSS_SELECTOR, "table tr th, table tr td")]
    assert str(accounts["work"]) not in text                   # no server path for a visitor
    passage = "".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".vb-full .psg"))
    assert "Chỉ thị số 16-CT/TTg" in passage    # the passage in place in the full text
    time.sleep(0.6)  # the passage scrolls into view inside the full-text box; show the page from its top
    _top(browser)
    browser.save_screenshot(str(shots / "van-ban.png"))
    back = _wait(lambda: browser.find_element(By.PARTIAL_LINK_TEXT, "Quay lại tìm kiếm"), 10, "the back link")
    browser.execute_script("arguments[0].click()", back)
    _wait_text(browser, "2 văn bản trích dẫn Chỉ thị 16/CT-TTg", 60)


def test_researcher_views_show_the_network_the_comparison_and_the_deadlines(accounts, browser, shots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    server = accounts
    _open(browser, server, "/mang-trich-dan", "Được 3 văn bản trích dẫn")
    _wait(lambda: _drawn_charts(browser), 30, "the network chart to be drawn")
    text = _page_text(browser)
    assert "Kết luận 114-KL/TW" in text
    for number in ("1321/UBND-KGVX", "2071/UBND-NC", "307-CV/HU"):   # the three documents citing it
        assert number in text
    assert "Kết luận số 114-KL/TW" in "".join(m.text for m in browser.find_elements(By.CSS_SELECTOR, ".vb-card mark.quote"))
    assert "Tải mạng trích dẫn (GraphML)" in text and "Traceback" not in text
    _top(browser)
    browser.save_screenshot(str(shots / "mang-trich-dan.png"))
    # a click on a node opens it: the district-level (green) node is a document of the Huyện ủy
    green = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] path[fill="#27ae60"]'),
                  10, "a district-level node")
    ActionChains(browser).move_to_element(green[0]).click().perform()
    _wait_text(browser, "cấp huyện", 60)
    _wait_idle(browser)
    assert "Được 3 văn bản trích dẫn" not in _page_text(browser)

    _open(browser, server, "/so-sanh", "Đoạn trích dẫn của", timeout=120)
    _wait(lambda: len(_drawn_charts(browser)) >= 2, 30, "the timeline and theme charts to be drawn")
    text = _page_text(browser)
    assert "Quảng Trị" in text and "Đắk Lắk" in text
    quotes = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".vb-card mark.quote")]
    assert quotes.count("Quyết định số 290-QĐ/TW") == 2          # one citing passage per province
    cards = "\n".join(c.text for c in browser.find_elements(By.CSS_SELECTOR, ".vb-card"))
    assert "1225/UBND-NC" in cards and "1321/UBND-KGVX" in cards
    _top(browser)
    browser.save_screenshot(str(shots / "so-sanh.png"))

    _open(browser, server, "/nhiem-vu", "Các thời hạn")
    text = _page_text(browser)
    lines = [line for line in text.splitlines() if "5500/UBND-KGVX" in line]
    assert any(line.startswith("30/10/2017 — Thủ trưởng các Sở, ban, ngành") for line in lines)
    assert any(line.startswith("10/11/2017 — Sở Nội vụ") for line in lines)
    assert "Tải lịch các thời hạn (iCalendar)" in text and "Traceback" not in text
    _top(browser)
    browser.save_screenshot(str(shots / "nhiem-vu.png"))


# --- issue 16: the page items, measured in the browser ------------------------------------------------------

def _overlaps(a, b, tol: float = 0.5) -> bool:
    return a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol


def test_network_labels_overlap_no_other_label_and_no_node(accounts, browser):
    _open(browser, accounts, "/mang-trich-dan", "Được 3 văn bản trích dẫn")
    _wait(lambda: _drawn_charts(browser), 30, "the network chart to be drawn")
    time.sleep(0.5)
    labels = browser.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] g.mark-text.role-mark text')]"
        ".map(t => {const r = t.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, t.textContent]})")
    nodes = browser.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] g.mark-symbol.role-mark path')]"
        ".map(p => {const r = p.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]})")
    assert len(labels) >= 8 and len(nodes) >= 30
    assert "Kết luận 114-KL/TW" in [x[4] for x in labels]
    for i, a in enumerate(labels):
        for b in labels[i + 1:]:
            assert not _overlaps(a, b), (a[4], b[4])
        for n in nodes:   # a node is a circle or a square: its inscribed circle must stay clear of the label
            cx, cy, r = (n[0] + n[2]) / 2, (n[1] + n[3]) / 2, (n[2] - n[0]) / 2 - 1
            px, py = min(max(cx, a[0]), a[2]), min(max(cy, a[1]), a[3])
            assert (px - cx) ** 2 + (py - cy) ** 2 >= r * r, (a[4], n)


def test_theme_names_are_whole_in_the_comparison(accounts, browser):
    _open(browser, accounts, "/so-sanh", "Đoạn trích dẫn của")
    _wait(lambda: len(_drawn_charts(browser)) >= 2, 30, "the theme chart to be drawn")
    labels = browser.execute_script(
        "return [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"] g.role-axis-label text')]"
        ".map(t => t.textContent)")
    assert "Cải cách hành chính" in labels and "Tiếp công dân và khiếu nại tố cáo" in labels
    assert not [x for x in labels if x.endswith("…")]


def test_the_task_table_needs_no_horizontal_scrolling(accounts, browser):
    _open(browser, accounts, "/nhiem-vu", "Các thời hạn")
    fit = browser.execute_script("""
        const t = document.querySelector('table.vb-tasks'), main = document.querySelector('[data-testid="stMain"]');
        const heads = [...t.querySelectorAll('th')].map(h => [h.textContent, h.getBoundingClientRect().right]);
        let box = t.parentElement; while (box && box.scrollWidth <= box.clientWidth && box !== main) box = box.parentElement;
        return {heads, mainRight: main.getBoundingClientRect().right, scrolls: box !== main && box !== null,
                page: document.documentElement.scrollWidth <= document.documentElement.clientWidth};""")
    assert [h for h, _ in fit["heads"]][-2:] == ["Đoạn nguồn", "Mở"]
    assert all(right <= fit["mainRight"] for _, right in fit["heads"]), fit
    assert not fit["scrolls"] and fit["page"], fit


def test_an_unknown_number_is_not_sent_to_a_search_without_diacritics(accounts, browser):
    _open(browser, accounts, "/?" + urlencode({"q": "Ai ký công văn 9999/UBND-KGVX?"}), "Không tìm thấy văn bản")
    assert "Kiểm tra lại số hiệu" in _page_text(browser)
    assert "Tìm không dấu" not in _page_text(browser) and "không dấu" not in _page_text(browser)


# --- the address ---------------------------------------------------------------------------------------------

def test_search_filters_live_in_the_address_and_come_back_from_it(accounts, browser):
    from selenium.webdriver.common.by import By
    server = accounts
    _open(browser, server, "/?" + urlencode({"q": QUESTION, "tinh": "Quảng Trị"}), "Không có văn bản nào khớp bộ lọc")
    assert browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Tỉnh/thành"]').get_attribute("value") == "Quảng Trị"
    _choose(browser, "Tỉnh/thành", "Đắk Lắk")
    _wait_text(browser, "2 văn bản trích dẫn Chỉ thị 16/CT-TTg", 60)
    _wait_idle(browser)
    shared = browser.current_url
    assert "tinh=%C4%90%E1%BA%AFk" in shared or "tinh=Đắk" in shared, shared
    _anonymous(browser, server)                                          # someone else opens the link
    browser.get(shared)
    _wait_text(browser, "2 văn bản trích dẫn Chỉ thị 16/CT-TTg", 60)
    _wait_idle(browser)  # the answer shows before the script run has drawn the sidebar
    assert browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Tỉnh/thành"]').get_attribute("value") == "Đắk Lắk"
    assert browser.find_element(By.CSS_SELECTOR, SEARCH_BOX).get_attribute("value") == QUESTION


@pytest.mark.parametrize("path", ["/van-ban?doc=99999999999999999999", "/van-ban?doc=-5", "/?doc=-1",
                                  "/van-ban?doc=" + "9" * 3000], ids=["huge", "negative", "old-address", "3000-digits"])
def test_huge_and_negative_document_ids_get_a_message(accounts, browser, path):
    """Issue 15: ?doc=99999999999999999999 (or negative) showed a traceback with server paths."""
    _open(browser, accounts, path, ("văn bản mã", "không hợp lệ"))
    text = _page_text(browser)
    assert "Traceback" not in text and str(REPO) not in text and str(accounts["work"]) not in text
    assert "Không tìm thấy văn bản mã" in text or "không hợp lệ" in text


# --- sign-in and roles --------------------------------------------------------------------------------------------

def test_sign_in_lasts_across_page_loads_and_only_administrators_get_the_admin_page(accounts, browser, shots):
    server = accounts
    _anonymous(browser, server)
    assert "Quản trị" not in _nav(browser) and "Đăng nhập" in _nav(browser)
    _open(browser, server, "/quan-tri", "Câu hỏi, số hiệu hoặc tham chiếu")     # not a page of theirs
    assert "Trạng thái chỉ mục" not in _page_text(browser)

    _open(browser, server, "/dang-nhap", "Mật khẩu")
    browser.save_screenshot(str(shots / "dang-nhap.png"))
    _sign_in(browser, server, S.OUTSIDER)
    assert "Quản trị" not in _nav(browser)
    _open(browser, server, "/quan-tri", "Câu hỏi, số hiệu hoặc tham chiếu")
    assert "Trạng thái chỉ mục" not in _page_text(browser) and "Tài khoản" in _nav(browser)

    _sign_in(browser, server, S.ADMIN)
    assert "Quản trị" in _nav(browser)
    _open(browser, server, f"/van-ban?doc={_doc_id(server, '5500/UBND-KGVX')}", "Toàn văn")   # a full page load
    assert "Quản trị" in _nav(browser) and "Tài khoản" in _nav(browser)                      # still signed in
    _open(browser, server, "/tai-khoan", "Đăng xuất")
    from selenium.webdriver.common.by import By
    next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text == "Đăng xuất").click()
    _wait(lambda: "Đăng nhập" in _nav(browser), 30, "signed out")
    _open(browser, server, "/", "Câu hỏi, số hiệu hoặc tham chiếu")                         # and after a reload too
    assert "Quản trị" not in _nav(browser)


# --- administration, restricted documents, hostile documents ------------------------------------------------------

def _upload(browser, server, files: list[Path], expect: str, group: str = "") -> str:
    from selenium.webdriver.common.by import By
    _open(browser, server, "/quan-tri", "Trạng thái chỉ mục")
    _wait(lambda: browser.find_element(By.CSS_SELECTOR, 'input[type="file"]'), 20, "the file uploader").send_keys(
        "\n".join(str(f) for f in files))
    _wait_text(browser, files[-1].name, 30)
    if group:
        browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Nhóm được xem (để trống: văn bản công khai)"]') \
            .send_keys(group)
    _wait(lambda: next(b for b in browser.find_elements(By.TAG_NAME, "button")
                       if b.text == "Nạp các tệp đã chọn" and b.is_enabled()), 20, "the ingest button").click()
    _wait_text(browser, expect, 240)     # the report of this upload (the last one's shows until then)
    _wait_idle(browser)
    return _page_text(browser)


def test_admin_uploads_documents_a_refused_one_leaves_the_upload_folder(accounts, browser, beacon, shots):
    from selenium.webdriver.common.by import By
    server = accounts
    work = server["work"]
    (work / "cong-van-7777.txt").write_text(NEW_DOC, encoding="utf-8")
    (work / "ban-scan-hong.pdf").write_bytes(b"%PDF-1.4\n% not really a PDF\n")
    (work / "cong-van-6666.txt").write_text(S.hostile_doc(beacon.url), encoding="utf-8")
    (work / "cong-van-4321.txt").write_text(S.RESTRICTED_DOC, encoding="utf-8")
    _sign_in(browser, server, S.ADMIN)
    text = _upload(browser, server, [work / "cong-van-7777.txt", work / "ban-scan-hong.pdf", work / "cong-van-6666.txt"],
                   "Đã thêm 2, cập nhật 0, không đổi 0, xoá 0, lỗi 1.")
    assert "Kết quả lần nạp gần nhất" in text and "cong-van-7777.txt" in text
    row = next(r.text for r in browser.find_elements(By.CSS_SELECTOR, "table tr") if "ban-scan-hong.pdf" in r.text)
    assert "Lỗi" in row and len(row) > len("ban-scan-hong.pdf Lỗi") + 5   # with its reason
    assert sorted(p.name for p in server["uploads"].iterdir()) == ["cong-van-6666.txt", "cong-van-7777.txt"]
    _top(browser)
    browser.save_screenshot(str(shots / "quan-tri.png"))
    _upload(browser, server, [work / "cong-van-4321.txt"], "Đã thêm 1, cập nhật 0", group=S.GROUP)

    _open(browser, server, "/", "Câu hỏi, số hiệu hoặc tham chiếu")
    _search(browser, "cà phê xanh buôn Kô Siêr")
    _wait_text(browser, "7777/UBND-KGVX", 60)
    _wait_idle(browser)
    first = browser.find_elements(By.CSS_SELECTOR, ".vb-card")[0]
    assert "7777/UBND-KGVX" in first.text and "Kô Siêr" in first.text
    assert [m.text for m in first.find_elements(By.CSS_SELECTOR, "mark.hl")]  # matched words highlighted
    assert "Traceback" not in _page_text(browser)


def _finds_secret(browser, server) -> bool:
    _open(browser, server, "/?" + urlencode({"q": S.SECRET_PHRASE}), ("Trả lời", "Gợi ý"))
    return S.SECRET_NUMBER in _page_text(browser)


def test_a_restricted_document_is_invisible_to_anonymous_visitors_and_readers_outside_its_group(accounts, browser):
    server = accounts
    secret = _doc_id(server, S.SECRET_NUMBER)
    _sign_in(browser, server, S.ADMIN)
    assert _finds_secret(browser, server)
    for who in (None, S.OUTSIDER):
        if who:
            _sign_in(browser, server, who)
        else:
            _anonymous(browser, server)
        assert not _finds_secret(browser, server), who
        _open(browser, server, f"/van-ban?doc={secret}", "văn bản mã")
        assert "Không tìm thấy văn bản mã" in _page_text(browser) and S.SECRET_PHRASE not in _page_text(browser)
        _open(browser, server, "/nhiem-vu", "Các thời hạn")
        assert S.SECRET_NUMBER not in _page_text(browser)
    _sign_in(browser, server, S.INSIDER)
    assert _finds_secret(browser, server)


def test_no_view_of_a_document_full_of_markdown_links_and_images_reaches_outside(accounts, browser, beacon):
    """Issue 15: its title, addressees, items, signer's title and closing lines, and a ?q= carrying links,
    on every view: the beacon gets no request and the pages hold no outside link or image."""
    from selenium.webdriver.common.by import By
    server = accounts
    hostile = _doc_id(server, S.HOSTILE_NUMBER)
    found: dict[str, list[str]] = {}
    _sign_in(browser, server, S.ADMIN)                       # the administrator's views show the most (file row, report)

    def visit(name):
        _wait_idle(browser)
        time.sleep(0.5)
        found[name] = _outside(browser)

    _open(browser, server, "/?" + urlencode({"q": S.HOSTILE_WORDS}), S.HOSTILE_NUMBER)
    visit("tra cứu")
    _open(browser, server, f"/van-ban?doc={hostile}", "Toàn văn")
    assert "Tệp" in _page_text(browser)
    visit("văn bản")
    _open(browser, server, "/mang-trich-dan", "văn bản trích dẫn")
    browser.find_element(By.CSS_SELECTOR, 'input[aria-label="Văn bản được trích dẫn"]').send_keys("Chỉ thị 16\n")
    _wait_text(browser, S.HOSTILE_NUMBER, 60)
    visit("mạng trích dẫn")
    _choose(browser, "Văn bản đang xem (hoặc bấm vào nút trên mạng)", S.HOSTILE_NUMBER)
    _wait_text(browser, "Mở văn bản", 60)
    visit("mạng trích dẫn: nút")
    _open(browser, server, "/so-sanh", "Đoạn trích dẫn của")
    _choose(browser, "Đoạn trích dẫn của", "Chỉ thị 16/CT-TTg")
    _wait(lambda: S.HOSTILE_NUMBER in _page_text(browser), 60, "the hostile document's citing passage")
    visit("so sánh")
    _open(browser, server, "/nhiem-vu", "Các thời hạn")
    assert S.HOSTILE_NUMBER in _page_text(browser)
    visit("nhiệm vụ")
    _open(browser, server, "/tuong-tu", "độ tương đồng")
    _choose(browser, "Văn bản", S.HOSTILE_NUMBER)
    _wait_text(browser, "Văn bản đang xem", 60)
    visit("tương tự")
    _open(browser, server, "/quan-tri", "Trạng thái chỉ mục")
    visit("quản trị")
    q = f"Văn bản nào trích dẫn Chỉ thị 999 [Phiên làm việc hết hạn, đăng nhập lại]({beacon.url}/phish)?"
    _open(browser, server, "/?q=" + quote(q), "Gợi ý")
    visit("?q=")
    time.sleep(1.0)
    assert beacon.hits == []
    assert {k: v for k, v in found.items() if v} == {}
    assert browser.find_element(By.CSS_SELECTOR, SEARCH_BOX).get_attribute("value") == q      # the query did arrive
