//! The `tocsin` binary: parses the command line and hands over to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = tocsin::cli::Cli::parse();
    match tocsin::cli::run(cli).await {
        Ok(code) => code,
        Err(error) => {
            // `{:#}` prints the whole chain of causes on one line, e.g. which setting was bad.
            eprintln!("tocsin: {error:#}");
            ExitCode::FAILURE
        }
    }
}
