# Two entry points for a fresh Debian machine (see README.md):
#   make run    install what is missing, build release, launch the workbench on the sample
#   make test   install what is missing, build the tests (release, testable), run them all
SHELL := /bin/bash
PKGS := pkg-config zlib1g-dev libncursesw5-dev libopenblas-dev libnifti-dev tmux
SWIFT ?= swift
# One build for everything: release with testing enabled (numeric tests run at real speed, @testable
# still works), compiler messages without colour (SwiftPM colours them only on a terminal, and the
# changed command line recompiled every module). `make run` after `make test`, or the reverse, or
# `make test > log` after either, then reuses the build; -enable-testing measured no slower
# (DECISIONS.md 2026-12-07).
BUILDFLAGS := -c release -Xswiftc -enable-testing --no-color-diagnostics
# OpenBLAS reads its kernel choice when it loads; the AVX2 kernel is faster on Zen 4 (notes/perf-anchors.md).
export OPENBLAS_CORETYPE ?= HASWELL
# Seconds per libFuzzer target in `make test` (tests/fuzz/run.sh); 0 builds the targets only.
FUZZ_SECONDS ?= 60

.PHONY: run test test-slurm deps build sample bench fuzz clean

deps:
	@missing=""; for p in $(PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  echo "installing:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build $(BUILDFLAGS)

run: build
	.build/release/c2fnas-tui

test: deps
	@tests/check-imports.sh; imports=$$?; \
	start=$$SECONDS; \
	$(SWIFT) build $(BUILDFLAGS) --build-tests || exit $$?; \
	echo "build wall time: $$((SECONDS-start)) s"; \
	start=$$SECONDS; \
	$(SWIFT) test $(BUILDFLAGS) --skip-build; rc=$$?; \
	echo "test wall time: $$((SECONDS-start)) s"; \
	start=$$SECONDS; \
	tests/e2e/tui-smoke.sh .build/release/c2fnas-tui || rc=1; \
	echo "workbench e2e wall time: $$((SECONDS-start)) s"; \
	if [ $$imports -ne 0 ]; then echo "check-imports failed (see its lines at the top)"; rc=1; fi; \
	start=$$SECONDS; \
	tests/fuzz/run.sh $(FUZZ_SECONDS) || rc=1; \
	echo "fuzz wall time: $$((SECONDS-start)) s"; \
	exit $$rc

# The scale-out test on a one-node Slurm cluster it installs, starts and stops (needs root; .ci/run runs it).
test-slurm: deps
	$(SWIFT) build $(BUILDFLAGS) --product c2fnas
	tests/slurm/run.sh .build/release/c2fnas

bench: deps
	$(SWIFT) build $(BUILDFLAGS) --product c2fnas
	.build/release/c2fnas bench conv

# Coverage-guided fuzzing of the NIfTI and JSON readers: make fuzz FUZZ_SECONDS=600
fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

clean:
	rm -rf .build
