# The two commands of the README. Each installs what it needs first:
# the Python packages here, the Kafka jars (Maven) and Debian's ClickHouse
# server (apt) on first `gridflow stack up`, which both commands run.
PYTHON ?= python3
STAMP := .gridflow/.installed

.PHONY: demo test test-slow install

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install --disable-pip-version-check -q -e '.[test]'
	mkdir -p .gridflow && touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PYTHON) -m gridflow demo

test: $(STAMP)
	$(PYTHON) -m pytest

# The fault tests (tests/faults, marked slow): minutes each, left out of `make test`.
test-slow: $(STAMP)
	$(PYTHON) -m pytest -m slow
