/work/main/benches/hyper-floor/target/release/deps/atomic_waker-7a9d26a2bb32f359.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/atomic-waker-1.1.2/src/lib.rs

/work/main/benches/hyper-floor/target/release/deps/libatomic_waker-7a9d26a2bb32f359.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/atomic-waker-1.1.2/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/atomic-waker-1.1.2/src/lib.rs:
