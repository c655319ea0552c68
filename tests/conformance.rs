//! Runs the shared Gateway API conformance cases against in-process simulations and
//! requires every test of a supported feature to pass (the few it cannot run are in the skip file).

use gwsim::conformance::{report, runner};
use std::path::Path;

const SUITE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/conformance");
const SKIP_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance-skip.txt");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supported_features_pass() {
    if !Path::new(SUITE).join("cases").is_dir() {
        eprintln!(
            "skipping: no conformance cases at {SUITE} (the shared folder is not beside the repo)"
        );
        return;
    }
    let options = runner::Options {
        suite: SUITE.into(),
        skip: runner::read_skip_file(Path::new(SKIP_FILE)).expect("skip file"),
        filter: None,
        seed: 1,
        pool: 201,
    };
    let results = runner::run_suite(&options, |r| eprintln!("{}", report::line(r)))
        .await
        .expect("suite loads");
    let failed: Vec<String> = results
        .iter()
        .filter(|r| matches!(r.outcome, runner::Outcome::Fail(_)))
        .map(report::line)
        .collect();
    eprintln!("{}", report::summary(&results));
    assert!(results.len() > 1, "no cases found under {SUITE}");
    assert!(
        failed.is_empty(),
        "failing conformance tests:\n{}",
        failed.join("\n")
    );
}

#[test]
fn every_skip_file_entry_is_a_known_test() {
    if !Path::new(SUITE).join("cases").is_dir() {
        eprintln!("skipping: no conformance cases at {SUITE}");
        return;
    }
    let skip = runner::read_skip_file(Path::new(SKIP_FILE)).expect("skip file");
    let names: Vec<String> = runner::load_cases(Path::new(SUITE))
        .expect("cases")
        .into_iter()
        .map(|c| match c {
            Ok(c) => c.name,
            Err((name, _)) => name,
        })
        .collect();
    for name in skip.keys() {
        assert!(names.contains(name), "skip file names unknown test {name}");
    }
}
