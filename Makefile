# The two commands (see README.md):
#   make demo   set up everything and run the main job on the bundled head and demo speech
#   make test   set up everything and run the whole test suite
.PHONY: demo test setup setup-test bench clean

demo: setup
	.venv/bin/face3d demo

test: setup-test
	.venv/bin/python -m pytest -q

setup:
	scripts/setup.sh

setup-test:
	scripts/setup.sh --test

bench: setup
	.venv/bin/python bench/render.py

clean:
	rm -rf .venv out build dist
