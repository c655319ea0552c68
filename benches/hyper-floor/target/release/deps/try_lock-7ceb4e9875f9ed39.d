/work/main/benches/hyper-floor/target/release/deps/try_lock-7ceb4e9875f9ed39.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/try-lock-0.2.5/src/lib.rs

/work/main/benches/hyper-floor/target/release/deps/libtry_lock-7ceb4e9875f9ed39.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/try-lock-0.2.5/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/try-lock-0.2.5/src/lib.rs:
