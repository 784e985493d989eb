# Two set-up commands: `make run` (install + app on corpus/) and `make test` (install + tests).
PY ?= python3
INDEX_DIR ?= .index

.PHONY: install install-test run test

install:
	$(PY) -m pip install -q -r requirements.txt

install-test:
	$(PY) -m pip install -q -r requirements-test.txt
	@if [ "$$(id -u)" = "0" ] && ! command -v chromedriver >/dev/null; then \
		apt-get update -qq && apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null; fi

run: install
	$(PY) -m streamlit run app.py --server.headless true

test: install-test
	HF_HUB_OFFLINE=1 $(PY) -m pytest -q tests
