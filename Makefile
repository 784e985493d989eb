# Two set-up commands: `make run` (install + app on corpus/) and `make test` (install + tests).
PY ?= python3
# test files run on this many workers (pytest-xdist; a file stays on one worker: its fixtures are shared)
TEST_WORKERS ?= 2

.PHONY: install install-test run test

install:
	$(PY) -m pip install -q -r requirements.txt

# Debian packages: Chromium for the browser tests, Tesseract (Vietnamese) for OCR, DejaVu fonts for test PDFs,
# PostgreSQL for the catalogue tests (tests/servers.py runs its own throw-away cluster on 127.0.0.1)
APT_PACKAGES = chromium chromium-driver fonts-dejavu-core tesseract-ocr tesseract-ocr-vie postgresql

install-test:
	$(PY) -m pip install -q -r requirements-test.txt
	@if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null && \
		{ ! command -v chromedriver >/dev/null || ! command -v tesseract >/dev/null || \
		  ! tesseract --list-langs 2>/dev/null | grep -qx vie || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; fi

run: install
	$(PY) -m streamlit run app.py --server.headless true

test: install-test
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15 tests
