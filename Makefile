# Makefile: the README's two commands and a few conveniences.
#   make demo   build and run the demo pipeline
#   make test   the whole suite (release + ASan/UBSan + short fuzz)
# Both install missing Debian packages first (scripts/install-deps.sh).
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build test demo format clean

all: build

deps:
	@sh scripts/install-deps.sh

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS)

test: deps
	@sh scripts/run-tests.sh

demo: build
	@sh scripts/demo.sh

format:
	@sh scripts/check-format.sh --fix

clean:
	rm -rf build build-asan build-fuzz build*.log
