# Two commands for a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Each installs what is missing (apt packages, then the Python package), then runs.
# `make test-fast` runs only tests/unit (no registry, no processes, no notebooks).

PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-fast deps apt pip lint bench

demo: deps
	$(PYTHON) -m registrykit demo

test: deps
	$(PYTHON) -m pytest

# addopts without --nbval: the notebooks are not collected.
test-fast: pip
	$(PYTHON) -m pytest -o addopts=-ra tests/unit

deps: apt pip

apt:
	@missing=""; \
	command -v docker-registry >/dev/null || command -v registry >/dev/null || missing="$$missing docker-registry"; \
	command -v skopeo >/dev/null || missing="$$missing skopeo"; \
	command -v podman >/dev/null || missing="$$missing podman"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends $$missing; \
	fi

pip:
	@$(PYTHON) -c "import registrykit, pytest, hypothesis, pandas, matplotlib, ipywidgets, nbval, jwt, bcrypt, playwright, jupyterlab, nbclient" 2>/dev/null \
		|| $(PYTHON) -m pip install -q -e ".[test]"

lint:
	ruff check registrykit tests benchmarks
	mypy

bench: deps
	$(PYTHON) -m pip install -q -e ".[bench]"
	$(PYTHON) benchmarks/bench_listing.py
	$(PYTHON) benchmarks/bench_copy.py
