//! The `gwsim` binary: parses the command line and hands over to the library.

use clap::Parser;

fn main() {
    let cli = gwsim::cli::Cli::parse();
    std::process::exit(gwsim::cli::run(cli));
}
