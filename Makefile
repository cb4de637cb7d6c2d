# SoukCheck — two commands: `make run` and `make test`. Everything else is set up on the way.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HTMX_VERSION := 2.0.11
HTMX := compliance/static/vendor/htmx.min.js
export FLASK_APP := compliance:create_app

.PHONY: run test setup venv htmx translations db redis lint format bench clean messages

# The web server and, beside it, the job worker that prepares large exports (stopped with it).
run: setup db redis
	@$(BIN)/flask jobs worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# Redis on 127.0.0.1:6379 holds the job queue (and shared rate limits); start it if it is down.
redis:
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || \
	  { command -v redis-server >/dev/null 2>&1 && \
	    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
	      --dir /tmp --logfile /tmp/soukcheck-redis.log; } || \
	  echo "Redis is not running and redis-server is missing (apt-get install redis-server): large exports will wait for it."

# One test process per core (pytest-xdist), each on its own database; PYTEST_ARGS="-n 0" for one.
test: setup
	$(BIN)/pytest -q -n auto $(PYTEST_ARGS)

setup: venv htmx translations

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "SoukCheck needs Python 3.11 or newer ($(PYTHON) is older)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# htmx comes from the npm registry at a pinned version, never from a CDN, never committed.
# Without npm the app still works: every flow is plain HTML first.
htmx: $(HTMX)
$(HTMX):
	@if command -v npm >/dev/null 2>&1; then \
	  rm -rf build/npm && mkdir -p build/npm compliance/static/vendor && \
	  npm install --silent --no-audit --no-fund --prefix build/npm htmx.org@$(HTMX_VERSION) && \
	  cp build/npm/node_modules/htmx.org/dist/htmx.min.js $@ ; \
	else \
	  echo "npm not found: serving without htmx (pages still work as plain forms). Install Node.js/npm for the faster version."; \
	fi

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d compliance/translations >/dev/null

db: setup
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask reference load
	$(BIN)/flask checklist load
	$(BIN)/flask seed

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Benchmarks run on demand, never in the suite; each prints its figures on its last line.
bench: setup
	$(BIN)/python bench/photos.py
	$(BIN)/python bench/pageweight.py
	DATABASE_URL=$${DATABASE_URL:-sqlite:///$(CURDIR)/build/bench.db} $(BIN)/python bench/dashboard.py
	DATABASE_URL=$${DATABASE_URL:-sqlite:///$(CURDIR)/build/bench.db} $(BIN)/python bench/exports.py --reuse

clean:
	rm -rf $(VENV) build compliance/static/vendor instance/soukcheck.db

# Translators: `make messages` refreshes the catalogues from the code and templates.
messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k N_ -k plural_forms:1,2 --no-location --sort-output -o build/messages.pot .
	@for lang in ar fr en; do \
	  if [ -f compliance/translations/$$lang/LC_MESSAGES/messages.po ]; then \
	    $(BIN)/pybabel update --no-fuzzy-matching -i build/messages.pot -d compliance/translations -l $$lang; \
	  else \
	    $(BIN)/pybabel init -i build/messages.pot -d compliance/translations -l $$lang; \
	  fi; \
	done
