# Everyday recipes. Nothing requires `just`: each line is plain cargo.

# Run gwsim on the bundled sample.
up dir="samples/helloworld":
    cargo run --release -- up {{dir}}

# Print every object of a manifest folder with its computed status.
check dir="samples/helloworld":
    cargo run -- check {{dir}}

# Run the whole test suite.
test:
    cargo test

# Format and lint the way CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# Rewrite the controller golden files after a reviewed change.
bless:
    GWSIM_BLESS=1 cargo test --test controller_golden

# Benchmarks: gwsim vs nginx/haproxy/Envoy, reload, start-up, scale (see BENCHMARKS.md).
bench what="all":
    bash benches/run.sh {{what}}
