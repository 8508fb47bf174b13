# Two commands on a fresh machine:  `make run` (install + build León + app)  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
REGION ?= leon
PORT   ?= 8501
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run build test test-fast bench chromium clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## build the region's layers when missing or stale (inputs, config or code changed)
build: install
	$(VENV)/bin/atlas build --region $(REGION) --if-stale

## install everything, build León and open the app on http://localhost:$(PORT)
run: build
	$(VENV)/bin/streamlit run app.py --server.port $(PORT) --server.address localhost

## Debian's Chromium for the browser tests (never a downloaded browser)
chromium:
	@command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

## every test, the browser test included
test: install chromium
	$(VENV)/bin/pytest

## without the real-data and browser tests (a few seconds)
test-fast: install
	$(VENV)/bin/pytest -m "not slow"

## benchmarks (not tests): python -m benchmarks [name ...]
bench: install
	$(PY) -m benchmarks $(BENCH)

clean:
	rm -rf data/build data/cache .pytest_cache
