# fedlite: the two commands in README.md are `make lab` and `make test`; the rest are for authors.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Jupyter refuses to start as root unless told; containers and CI often run as root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test unit nbtest student student-test test-browser chromium notebooks bench bench-fl bench-binder bench-goals data clean

# Install into .venv, again only when pyproject.toml changed (the stamp is older).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,flower]'
	touch $@

lab: $(STAMP)  ## install (if needed) and open the course in JupyterLab
	$(VENV)/bin/jupyter lab $(ROOT_FLAG) --notebook-dir=notebooks 00_start_here.ipynb

test: unit nbtest student-test  ## install (if needed) and run every test, notebooks included

unit: $(STAMP)
	$(PY) -m pytest tests -m "not slow"

# nbval re-runs every notebook (and every solution notebook) top to bottom, as a learner would.
# --nbval-lax: only cells marked `# NBVAL_CHECK_OUTPUT` must reproduce their stored output.
nbtest: $(STAMP)
	$(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks

# The newcomer offline (issue 11): no data directory and downloads impossible (FEDLITE_MIRROR is a
# closed port on 127.0.0.1, never sent to a proxy), so every notebook and solution must run on the
# announced synthetic twins. FEDLITE_DATA names a folder that does not exist, so neither the repo's
# data/ nor a shared copy can be read; afterwards it must still not exist (a failed fetch leaves no
# empty folder behind).
.PHONY: test-offline
test-offline: $(STAMP)  ## run every notebook and solution with no data and no network
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	env -u FEDLITE_REQUIRE_REAL_DATA FEDLITE_DATA="$$tmp/no-data" FEDLITE_MIRROR=http://127.0.0.1:9 \
	    no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost \
	    $(PY) -m pytest --nbval-lax --nbval-current-env -p no:cacheprovider notebooks && \
	{ test ! -e "$$tmp/no-data" || { echo "test-offline: a failed fetch left $$tmp/no-data behind"; exit 1; }; }

# The student copies (outputs cleared, solution cells removed, checks kept) must run with every exercise unsolved.
student-test: $(STAMP)
	$(PY) -m pytest tests -m slow

# The course in a real browser: JupyterLab on 127.0.0.1 driven through Debian's Chromium (tests/browser/).
CHROMIUM ?= /usr/bin/chromium
test-browser: chromium $(STAMP)  ## Run All and move every widget in JupyterLab, in headless Chromium
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,browser]'
	FEDLITE_CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests/browser -m browser -p no:cacheprovider

chromium:  # fail early, with the fix, when there is no browser to drive
	@test -x $(CHROMIUM) || { echo "make test-browser needs Chromium at $(CHROMIUM). On Debian/Ubuntu:"; \
	  echo "    sudo apt-get install -y chromium     # then run make test-browser again"; exit 1; }

student: $(STAMP)  ## clean copies for learners in student/ (no outputs, no solutions)
	$(PY) tools/student.py

notebooks: $(STAMP)  ## rebuild every .ipynb from its text twin, execute it, store fresh outputs
	$(PY) benchmarks/notebooks.py --write

bench: $(STAMP)  ## time and peak memory of every notebook (nothing is written)
	$(PY) benchmarks/notebooks.py

bench-fl: $(STAMP)  ## one FedAvg round vs one centralized epoch
	$(PY) benchmarks/round_vs_epoch.py

# Binder gives 1 CPU and 2 GB: run every notebook inside a cgroup with those limits (needs root).
bench-binder: $(STAMP)  ## time and peak memory of every notebook inside 1 CPU / 2 GB (root: creates a cgroup)
	$(PY) benchmarks/binder.py --cpus 1 --memory-gb 2 -- $(PY) benchmarks/notebooks.py

bench-goals: $(STAMP)  ## issue 13's speed goals, old and new figures side by side (add ARGS=--notebooks for goal 5)
	$(PY) benchmarks/goals.py $(ARGS)

data: $(STAMP)  ## pre-fetch every dataset (before a workshop with bad Wi-Fi)
	$(PY) -m fedlite.datasets fetch all

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
