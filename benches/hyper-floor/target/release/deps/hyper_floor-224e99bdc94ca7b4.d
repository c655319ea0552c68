/work/main/benches/hyper-floor/target/release/deps/hyper_floor-224e99bdc94ca7b4.d: src/main.rs Cargo.toml

/work/main/benches/hyper-floor/target/release/deps/libhyper_floor-224e99bdc94ca7b4.rmeta: src/main.rs Cargo.toml

src/main.rs:
Cargo.toml:

# env-dep:CLIPPY_ARGS=
# env-dep:CLIPPY_CONF_DIR
