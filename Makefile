# Holdpoint: the two commands of the README and a few helpers.
#
#   make build         install missing packages, build into build/
#   make run           build, start PostgreSQL + Redis under .run/, migrate,
#                      bootstrap a demo team once, run the API and workers
#   make test          ASan+UBSan build in build-test/, throwaway services on
#                      spare ports, every test suite; non-zero on any failure
#   make bench         build, then run the benchmarks of docs/performance.md
#                      (each against its ceiling or peer in the same run) and
#                      write their results there
#   make format        clang-format the C sources in place
#   make format-check  fail when a C source is not formatted
#   make clean         remove the build trees
#   make distclean     also stop and remove the `make run` services in .run/

SHELL := /bin/bash
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# make test ends with scripts/format.sh check unless FORMAT_CHECK=0.
FORMAT_CHECK ?= 1

.PHONY: all deps build run test bench format format-check clean distclean

all: build

deps:
	@scripts/deps.sh

build: deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build build -j$(JOBS)

run: build
	scripts/run.sh

test: deps
	FORMAT_CHECK=$(FORMAT_CHECK) JOBS=$(JOBS) scripts/test.sh

bench: build
	bench/create.sh
	bench/create_rows.sh
	bench/get.sh
	bench/expiry.sh
	bench/expiry_lag.sh
	bench/delivery.sh
	bench/wake.sh
	bench/waiters.sh

format:
	scripts/format.sh fix

format-check:
	scripts/format.sh check

clean:
	rm -rf build build-test

distclean: clean
	@if [ -d .run ]; then scripts/services.sh stop .run; fi
	rm -rf .run
