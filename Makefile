# The two commands (see README.md):
#   make demo   set up what running needs and run the main job on the bundled head and demo speech
#   make test   set up everything (test and docs extras too) and run the whole test suite on every
#               core; the suite includes the documentation's strict build (tests/test_docs.py)
# and
#   make docs   build the documentation site (mkdocs build --strict) into site/
.PHONY: demo test docs setup setup-test setup-docs bench clean

demo: setup
	.venv/bin/face3d demo

# -n auto: one pytest worker per core (pytest-xdist); --dist loadfile keeps each test file on one
# worker, so its module fixtures (synthesised speech, a private PulseAudio, a Dask cluster) run once
test: setup-test
	.venv/bin/python -m pytest -q -n auto --dist loadfile --durations=5

docs: setup-docs
	NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict --site-dir site

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

setup-docs:
	scripts/setup.sh --docs

bench: setup
	.venv/bin/python bench/render.py

clean:
	rm -rf .venv out build dist site
