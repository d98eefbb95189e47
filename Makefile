# Ringside: two commands do all the set-up on a fresh Debian or Ubuntu machine.
#   make run   installs what is missing, builds, and opens the desktop app with its embedded
#              hub (with no display: runs the hub alone)
#   make test  installs what is missing and runs every test: Rust, UI, the real app
#              under Xvfb, the hub's and the app's Debian packages installed for real, the
#              API against its description, the release workflow's lint, the dependency
#              policy, and a short run of every fuzz target
#   make fuzz  runs every fuzz target for FUZZ_SECONDS seconds (see docs/fuzzing.md)
.PHONY: run test deps ui ui-test build lint lint-build rust-test bindings-check deny api-test hub bench bench-nodes \
	package package-hub package-test workflow-lint \
	bench-desktop fuzz-smoke fuzz

CARGO ?= cargo
CONFIG ?= ringside.toml

run: deps
	@scripts/run.sh "$(CONFIG)"

test: deps ui-test ui lint-build workflow-lint rust-test package-test bindings-check deny api-test fuzz-smoke

deps:
	@scripts/deps.sh

# The UI's static files, which the app embeds when it is compiled.
ui:
	cd ui && npm ci --no-audit --no-fund && npm run build

ui-test: ui
	cd ui && npm run check && npm test

build: deps ui
	$(CARGO) build --workspace --locked

lint: ui
	scripts/check-rust-version.sh
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

# The tests' builds are linted as they compile, so that nothing is compiled twice (a
# separate `cargo clippy` checks every dependency again): clippy-driver wraps rustc for the
# workspace's own crates, as `cargo clippy` does, with its lints as errors. lint-build is
# make lint with clippy's checks in the build of every target.
CLIPPY_DRIVER = $(shell rustc --print sysroot)/bin/clippy-driver
lint-build rust-test package-test api-test: export RUSTC_WORKSPACE_WRAPPER = $(CLIPPY_DRIVER)
lint-build rust-test package-test api-test: export CLIPPY_ARGS = -D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__

lint-build: ui
	scripts/check-rust-version.sh
	$(CARGO) fmt --all -- --check
	$(CARGO) build --workspace --all-targets --locked

# Every Rust test, the desktop ones in a headless session of their own (Xvfb, D-Bus,
# keyring, notifications) against the app binary built first (with the test targets, so
# that its dependencies have the test pass's features and are compiled once); then the hub's integration
# tests a second time on the PostgreSQL store, against a throw-away server (in /tmp: as
# root the server runs as the postgres user, who must reach its directory). The second pass
# names the hub's test targets under --workspace, so that the features are the first pass's
# and nothing is compiled again (the client's `stream` test, of the same name, runs again).
rust-test: ui
	$(CARGO) build --workspace --locked --bin ringside --tests
	E2E=1 scripts/headless-session.sh $(CARGO) test --workspace --locked
	@dir=/tmp/ringside-postgres-$$$$; \
	hub_tests=$$(for f in crates/ringside-hub/tests/*.rs; do t=$${f##*/}; printf -- '--test %s ' "$${t%.rs}"; done); \
	url=$$(scripts/postgres.sh start $$dir) || exit 1; \
	RINGSIDE_TEST_DATABASE_URL="$$url" $(CARGO) test --workspace --locked $$hub_tests -- --include-ignored; \
	status=$$?; scripts/postgres.sh stop $$dir; exit $$status

# The TypeScript bindings are written by the Rust tests: they must match what is committed.
bindings-check:
	@git diff --exit-code -- ui/src/bindings || { echo "ui/src/bindings is stale: commit the regenerated files" >&2; exit 1; }
	@test -z "$$(git status --porcelain -- ui/src/bindings)" || { echo "new files in ui/src/bindings: commit them" >&2; exit 1; }

# The GitHub Actions workflows (the release), with zizmor.
workflow-lint: deps
	scripts/lint-workflows.sh

# The dependency policy (deny.toml): banned crates, licenses, sources. The advisories check
# needs the RustSec database online and runs in the release workflow.
deny: deps
	$(CARGO) deny check bans licenses sources

# The hub's answers against its OpenAPI description, with Schemathesis.
api-test: deps
	CARGO="$(CARGO)" scripts/api-fuzz.sh

# Every fuzz target from its seeds for a fixed number of inputs (about a minute in all).
fuzz-smoke: deps
	scripts/fuzz.sh smoke

# Every fuzz target for FUZZ_SECONDS seconds (default 300); record the runs in docs/fuzzing.md.
fuzz: deps
	scripts/fuzz.sh long

hub: deps
	$(CARGO) build --release --locked -p ringside-hub

# The hub's Debian package (target/package-hub/ringside-hub_VERSION_ARCH.deb).
package-hub: hub
	scripts/package-hub.sh release

# The desktop app's Debian package (target/release/bundle/deb/Ringside_VERSION_ARCH.deb),
# built in release by the Tauri bundler.
package: deps ui
	scripts/package-app.sh release

# The hub's and the app's packages made from the binaries the tests use (built beside the
# test targets, with their features, so nothing is compiled again), installed on this
# machine with dpkg as root, checked and removed (scripts/test-hub-package.sh,
# scripts/test-app-package.sh: the app in a headless session of its own).
package-test: deps ui
	$(CARGO) build --workspace --locked --bin ringside --bin ringside-hub --tests
	scripts/test-hub-package.sh "$$(scripts/package-hub.sh debug)"
	scripts/headless-session.sh scripts/test-app-package.sh "$$(scripts/package-app.sh debug)"

bench: deps
	$(CARGO) bench --locked -p ringside-hub --bench hub

# The several-nodes scenario (SQLite, one and two PostgreSQL nodes, failover) against a
# throw-away PostgreSQL server.
bench-nodes: deps
	@dir=/tmp/ringside-postgres-bench-$$$$; \
	url=$$(scripts/postgres.sh start $$dir) || exit 1; \
	RINGSIDE_BENCH_DATABASE_URL="$$url" $(CARGO) bench --locked -p ringside-hub --bench hub -- nodes; \
	status=$$?; scripts/postgres.sh stop $$dir; exit $$status

bench-desktop: deps ui
	$(CARGO) build --release --locked -p ringside -p ringside-empty-app
	scripts/headless-session.sh $(CARGO) run --release --locked -p ringside-e2e --bin desktop-bench
