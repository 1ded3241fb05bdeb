# Short names for the common commands; the README shows the plain cargo ones.

# Run the server on SQLite with no configuration.
run:
    cargo run --release -p tidings-server

# Run every test (PostgreSQL suites too when TIDINGS_TEST_DATABASE_URL is set).
test:
    cargo test --workspace

# Run every test against the local PostgreSQL and Redis as CI does.
test-all:
    TIDINGS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres TIDINGS_TEST_REDIS_URL=redis://127.0.0.1:6379 cargo test --workspace

# Formatting, lints and dependency policy.
check:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo deny check --hide-inclusion-graph licenses bans sources

# The official Engine.IO / Socket.IO protocol suites against the Socket.IO layer (needs Node and npm).
sio-conformance:
    bash .ci/sio-conformance

# What CI runs.
ci:
    bash .ci/run

# The quick benchmark (under 2 minutes); `just bench-full` for the table in docs/benchmarks.md.
bench:
    cargo run --release -p tidings-bench -- --quick

bench-full:
    TIDINGS_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres cargo run --release -p tidings-bench
