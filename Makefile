# Ringside: two commands do all the set-up on a fresh Debian or Ubuntu machine.
#   make run   installs what is missing, builds, and runs Ringside
#   make test  installs what is missing and runs every test
.PHONY: run test deps build lint hub bench

CARGO ?= cargo
CONFIG ?= ringside.toml

run: deps
	@scripts/run.sh "$(CONFIG)"

test: deps lint
	$(CARGO) test --workspace --locked

deps:
	@scripts/deps.sh

build: deps
	$(CARGO) build --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

hub: deps
	$(CARGO) build --release --locked -p ringside-hub

bench: deps
	$(CARGO) bench --locked -p ringside-hub --bench hub
