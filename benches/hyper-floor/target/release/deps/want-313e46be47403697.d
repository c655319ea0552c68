/work/main/benches/hyper-floor/target/release/deps/want-313e46be47403697.d: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/want-0.3.2/src/lib.rs

/work/main/benches/hyper-floor/target/release/deps/libwant-313e46be47403697.rmeta: /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/want-0.3.2/src/lib.rs

/root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/want-0.3.2/src/lib.rs:
