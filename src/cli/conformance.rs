//! `gwsim conformance`: runs the conformance cases and prints a line per test, the feature
//! table and the closing count; exits non-zero when a test failed.

use crate::conformance::{report, runner};
use std::path::PathBuf;

/// Arguments of `gwsim conformance`.
#[derive(Debug, clap::Args)]
pub struct ConformanceArgs {
    /// The conformance folder (with `cases/`, `base/`, `tests/`).
    #[arg(long)]
    pub suite: PathBuf,
    /// Write the report as YAML to this file.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Tests to skip: one name per line with a `# reason`.
    #[arg(long)]
    pub skip_file: Option<PathBuf>,
    /// Only run tests whose name matches this regular expression.
    #[arg(long)]
    pub run: Option<String>,
    /// Seed for weighted picks, pod names and request ids.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Gateways get addresses from 127.0.<pool>.0/24.
    #[arg(long, default_value_t = 200)]
    pub pool: u8,
}

/// Runs the command; returns the exit code.
pub fn run(args: ConformanceArgs) -> i32 {
    let skip = match &args.skip_file {
        Some(p) => match runner::read_skip_file(p) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("gwsim conformance: {e}");
                return 2;
            }
        },
        None => Default::default(),
    };
    let filter = match args.run.as_deref().map(regex::Regex::new).transpose() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("gwsim conformance: --run: {e}");
            return 2;
        }
    };
    let options = runner::Options {
        suite: args.suite.clone(),
        skip,
        filter,
        seed: args.seed,
        pool: args.pool,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("gwsim conformance: cannot start the runtime: {e}");
            return 2;
        }
    };
    let results = match runtime.block_on(runner::run_suite(&options, |r| {
        println!("{}", report::line(r))
    })) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gwsim conformance: {e}");
            return 2;
        }
    };
    println!();
    print!("{}", report::feature_table(&results));
    if let Some(path) = &args.output {
        match report::yaml(&results).map(|y| std::fs::write(path, y)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("gwsim conformance: {}: {e}", path.display()),
            Err(e) => eprintln!("gwsim conformance: report: {e}"),
        }
    }
    println!("{}", report::summary(&results));
    let (_, failed, _) = report::counts(&results);
    i32::from(failed > 0)
}
