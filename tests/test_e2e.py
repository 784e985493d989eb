"""End to end: the real `streamlit run app.py` server on a free local port, driven in headless Chromium.

One server and one browser for the module (the suite runs on 2 cores). The server starts as on a fresh
clone, with no index: the tests run in file order: the first page builds the index of corpus/ with a
progress bar, then ask the Chỉ thị 16 question, open a document, upload a new document and find it by
a phrase only it contains. Screenshots go to tmp; set SCREENSHOT_DIR=docs to refresh the ones in the README.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
QUESTION = "Văn bản nào trích dẫn Chỉ thị 16?"
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


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    """`streamlit run app.py` with an empty index directory; killed (process group) in a finalizer."""
    work = tmp_path_factory.mktemp("e2e")
    index_dir = work / "index"
    port = _free_port()
    env = {**os.environ, "VANBAN_INDEX_DIR": str(index_dir), "VANBAN_CORPUS_DIR": str(REPO / "corpus"),
           "VANBAN_UPLOAD_DIR": str(work / "uploads"), "HF_HUB_OFFLINE": "1"}
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
    return {"url": url, "work": work, "log": work / "server.log"}


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
    driver.set_page_load_timeout(30)
    return driver


# --- helpers ----------------------------------------------------------------------------------------

def _page_text(driver) -> str:
    from selenium.webdriver.common.by import By
    return driver.find_element(By.TAG_NAME, "body").text


def _wait_text(driver, text: str, timeout: float = 30) -> None:
    _wait(lambda: text in _page_text(driver), timeout, f"“{text}” on the page")


def _wait_idle(driver, timeout: float = 30) -> None:
    """Streamlit shows a "running" status widget while a script runs."""
    from selenium.webdriver.common.by import By
    time.sleep(0.3)
    _wait(lambda: not driver.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'), timeout,
          "the script run to finish")


def _search(driver, text: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    box = _wait(lambda: driver.find_element(By.CSS_SELECTOR, 'input[aria-label="Câu hỏi, số hiệu hoặc tham chiếu"]'),
                30, "the search box")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text + Keys.ENTER)


def _tab(driver, name: str):
    from selenium.webdriver.common.by import By
    tab = _wait(lambda: next(t for t in driver.find_elements(By.CSS_SELECTOR, '[role="tab"]') if t.text == name),
                20, f"the “{name}” tab")
    tab.click()


# --- tests ------------------------------------------------------------------------------------------------

def test_a_fresh_start_builds_the_index_of_the_corpus_with_a_progress_bar(server, browser, shots):
    from selenium.webdriver.common.by import By
    browser.get(server["url"] + "/")
    _wait_text(browser, "Lần chạy đầu tiên", 30)
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, '[data-testid="stProgress"]'), 30, "the progress bar")
    try:  # a bar part-way along makes a better picture; the build may also be quicker than that
        _wait(lambda: any(f"Đang nạp tệp {i}/5" in _page_text(browser) for i in (3, 4, 5)), 20, "file 3 of 5")
    except AssertionError:
        pass
    browser.save_screenshot(str(shots / "khoi-dong.png"))
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, 'input[aria-label="Câu hỏi, số hiệu hoặc tham chiếu"]'),
          90, "the search page after the first build")
    assert "Lần chạy đầu tiên" not in _page_text(browser)


def test_staff_asks_who_cites_chi_thi_16_and_sees_both_documents_with_passages(server, browser, shots):
    from selenium.webdriver.common.by import By
    browser.get(server["url"] + "/")
    _search(browser, QUESTION)
    _wait_text(browser, "2 văn bản trích dẫn Chỉ thị 16/CT-TTg", 45)
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
    browser.save_screenshot(str(shots / "tra-cuu.png"))


def test_staff_opens_a_cited_document_from_its_passage(server, browser, shots):
    from selenium.webdriver.common.by import By
    link = _wait(lambda: next(a for a in browser.find_elements(By.CSS_SELECTOR, ".vb-card .vb-head a")
                              if "5500/UBND-KGVX" in a.text), 20, "the link to 5500/UBND-KGVX")
    link.click()
    _wait_text(browser, "Toàn văn", 30)
    _wait_idle(browser)
    assert "doc=" in browser.current_url and "p=" in browser.current_url
    text = _page_text(browser)
    assert "Công văn số 5500/UBND-KGVX ngày 14/7/2017 của UBND tỉnh Đắk Lắk" in text
    assert "Võ Văn Cảnh" in text                       # signer in the metadata
    assert "Văn bản được trích dẫn" in text and "Chỉ thị 16/CT-TTg" in text
    passage = "".join(e.text for e in browser.find_elements(By.CSS_SELECTOR, ".vb-full .psg"))
    assert "Chỉ thị số 16-CT/TTg" in passage    # the passage in place in the full text
    time.sleep(0.6)  # the passage scrolls into view inside the full-text box; show the page from its top
    browser.execute_script("window.scrollTo(0, 0); const m = document.querySelector('[data-testid=\"stMain\"]');"
                           "if (m) m.scrollTo(0, 0);")
    time.sleep(0.2)
    browser.save_screenshot(str(shots / "van-ban.png"))
    back = _wait(lambda: browser.find_element(By.PARTIAL_LINK_TEXT, "Quay lại tìm kiếm"), 10, "the back link")
    browser.execute_script("arguments[0].click()", back)  # the page is scrolled to the passage
    _wait_text(browser, "2 văn bản trích dẫn Chỉ thị 16/CT-TTg", 30)


def test_admin_uploads_a_document_and_staff_find_it_by_its_own_phrase(server, browser, shots):
    from selenium.webdriver.common.by import By
    upload = server["work"] / "cong-van-7777.txt"
    upload.write_text(NEW_DOC, encoding="utf-8")
    broken = server["work"] / "ban-scan-hong.pdf"
    broken.write_bytes(b"%PDF-1.4\n% not really a PDF\n")
    browser.get(server["url"] + "/")
    _tab(browser, "Quản trị")
    _wait_text(browser, "Trạng thái chỉ mục", 30)
    _wait_idle(browser)  # tabs run lazily: the admin page is drawn by the rerun the click starts
    _wait(lambda: browser.find_element(By.CSS_SELECTOR, 'input[type="file"]'), 20, "the file uploader").send_keys(
        f"{upload}\n{broken}")
    _wait_text(browser, "ban-scan-hong.pdf", 20)
    _wait(lambda: next(b for b in browser.find_elements(By.TAG_NAME, "button")
                       if b.text == "Nạp các tệp đã chọn" and b.is_enabled()), 20, "the ingest button").click()
    _wait_text(browser, "Đã thêm 1", 60)
    _wait_idle(browser)
    text = _page_text(browser)
    assert "Kết quả lần nạp gần nhất" in text and "cong-van-7777.txt" in text
    assert "Đã thêm 1, cập nhật 0, không đổi 0, xoá 0, lỗi 1." in text
    row = next(r.text for r in browser.find_elements(By.CSS_SELECTOR, "table tr") if "ban-scan-hong.pdf" in r.text)
    assert "Lỗi" in row and len(row) > len("ban-scan-hong.pdf Lỗi") + 5   # with its reason
    browser.execute_script("window.scrollTo(0, 0)")
    browser.save_screenshot(str(shots / "quan-tri.png"))

    _tab(browser, "Tra cứu")
    _search(browser, "cà phê xanh buôn Kô Siêr")
    _wait_text(browser, "7777/UBND-KGVX", 30)
    _wait_idle(browser)
    first = browser.find_elements(By.CSS_SELECTOR, ".vb-card")[0]
    assert "7777/UBND-KGVX" in first.text and "Kô Siêr" in first.text
    assert [m.text for m in first.find_elements(By.CSS_SELECTOR, "mark.hl")]  # matched words highlighted
    assert "Traceback" not in _page_text(browser)


def test_researcher_views_show_the_network_the_comparison_and_the_deadlines(server, browser, shots):
    from selenium.webdriver.common.by import By

    def top():
        browser.execute_script("window.scrollTo(0, 0); const m = document.querySelector('[data-testid=\"stMain\"]');"
                               "if (m) m.scrollTo(0, 0);")
        time.sleep(0.5)  # Vega draws the chart after the script run ends

    def drawn_charts():
        return browser.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] canvas, '
                                                      '[data-testid="stVegaLiteChart"] svg.marks')

    browser.get(server["url"] + "/")
    _tab(browser, "Mạng trích dẫn")
    _wait_text(browser, "Được 3 văn bản trích dẫn", 60)
    _wait_idle(browser)
    _wait(drawn_charts, 20, "the network chart to be drawn")
    text = _page_text(browser)
    assert "Kết luận 114-KL/TW" in text
    for number in ("1321/UBND-KGVX", "2071/UBND-NC", "307-CV/HU"):   # the three documents citing it
        assert number in text
    assert "Kết luận số 114-KL/TW" in "".join(m.text for m in browser.find_elements(By.CSS_SELECTOR, ".vb-card mark.quote"))
    assert "Tải mạng trích dẫn (GraphML)" in text and "Traceback" not in text
    top()
    browser.save_screenshot(str(shots / "mang-trich-dan.png"))
    # a click on a node opens it: the district-level (green) node is a document of the Huyện ủy
    from selenium.webdriver.common.action_chains import ActionChains
    green = _wait(lambda: browser.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] path[fill="#27ae60"]'),
                  10, "a district-level node")
    ActionChains(browser).move_to_element(green[0]).click().perform()
    _wait_text(browser, "cấp huyện", 30)
    _wait_idle(browser)
    assert "Được 3 văn bản trích dẫn" not in _page_text(browser)

    _tab(browser, "So sánh tỉnh")
    _wait_text(browser, "Đoạn trích dẫn của", 90)   # the comparison embeds the themes on its first run
    _wait_idle(browser, 90)
    _wait(lambda: len(drawn_charts()) >= 2, 20, "the timeline and theme charts to be drawn")
    text = _page_text(browser)
    assert "Quảng Trị" in text and "Đắk Lắk" in text
    quotes = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".vb-card mark.quote")]
    assert quotes.count("Quyết định số 290-QĐ/TW") == 2          # one citing passage per province
    cards = "\n".join(c.text for c in browser.find_elements(By.CSS_SELECTOR, ".vb-card"))
    assert "1225/UBND-NC" in cards and "1321/UBND-KGVX" in cards
    top()
    browser.save_screenshot(str(shots / "so-sanh.png"))

    _tab(browser, "Nhiệm vụ & thời hạn")
    _wait_text(browser, "Các thời hạn", 60)
    _wait_idle(browser)
    text = _page_text(browser)
    lines = [line for line in text.splitlines() if "5500/UBND-KGVX" in line]
    assert any(line.startswith("30/10/2017 — Thủ trưởng các Sở, ban, ngành") for line in lines)
    assert any(line.startswith("10/11/2017 — Sở Nội vụ") for line in lines)
    assert "Tải lịch các thời hạn (iCalendar)" in text and "Traceback" not in text
    top()
    browser.save_screenshot(str(shots / "nhiem-vu.png"))
