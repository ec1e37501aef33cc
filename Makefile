# Deflect — `make demo` sets up, builds and serves the demo; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup build demo bootstrap-demo test lint typecheck eval-demo report load-benchmark clean

# Debian's Chromium for the browser tests (Playwright drives it; no browser is ever downloaded), and a Korean font
# so its screenshots show Hangul.
BROWSER := /usr/bin/chromium /usr/share/fonts/truetype/nanum

setup: $(STAMP) $(BROWSER)

$(BROWSER):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-nanum

# torch first, pinned to the local CPU wheel: any other spec pulls gigabytes of CUDA packages.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev,benchmark]"
	touch $(STAMP)

build: setup
	$(BIN)/deflect train --data src/deflect/demo --out models/demo --conversations data/benchmarks/conversations
	$(BIN)/deflect optimize --model models/demo --data src/deflect/demo
	$(BIN)/deflect index --articles src/deflect/demo/articles --model models/demo --out indexes/demo

demo: build
	$(BIN)/deflect serve --model models/demo --index indexes/demo --demo-keys

# A bot from a help center alone, no labelled messages: an intent model bootstrapped from the articles (one intent
# per article group), their index, and the server, which answers with each article's lead and link.
ARTICLES ?= src/deflect/demo/articles
BOOTSTRAPPED ?= bootstrapped

bootstrap-demo: setup
	$(BIN)/deflect bootstrap --articles $(ARTICLES) --out models/$(BOOTSTRAPPED)
	$(BIN)/deflect index --articles $(ARTICLES) --model models/$(BOOTSTRAPPED) --out indexes/$(BOOTSTRAPPED)
	DEFLECT_ANSWERS_FILE=models/$(BOOTSTRAPPED)/answers.json $(BIN)/deflect serve --model models/$(BOOTSTRAPPED) \
		--index indexes/$(BOOTSTRAPPED) --demo-keys

eval-demo: build
	$(BIN)/deflect eval --model models/demo --data src/deflect/demo --split test --output benchmarks/results/demo_intents.json

report: build
	$(BIN)/deflect eval --model models/demo --data src/deflect/demo --index indexes/demo --report reports/demo

# wrk, the load benchmark's second client: a C load generator on one thread, which leaves the cores to the server.
/usr/bin/wrk:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk

load-benchmark: build /usr/bin/wrk
	$(BIN)/python -m benchmarks.load_benchmark

test: setup
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy src benchmarks

clean:
	rm -rf models indexes .pytest_cache
