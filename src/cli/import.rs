//! `tocsin import --from gatus|uptime-kuma FILE`: another tool's configuration as a tocsin
//! document on standard output; each setting not carried over is named on standard error.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::document::Format;
use crate::document::import::{self, Imported};

/// Which tool wrote the file.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Source {
    /// A Gatus `config.yaml` (its `endpoints`).
    Gatus,
    /// An Uptime Kuma backup (`Settings → Backup → Export`, JSON with `monitorList`).
    UptimeKuma,
}

/// `tocsin import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Which tool wrote the file.
    #[arg(long, value_enum)]
    from: Source,
    /// Write JSON instead of YAML.
    #[arg(long)]
    json: bool,
    /// The file; `-` reads standard input.
    file: PathBuf,
}

/// Converts the file: exit 0 with the document printed, 2 when it cannot be read as the
/// tool's format.
pub fn run(args: &ImportArgs) -> ExitCode {
    let text = if args.file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(&args.file)
    };
    let converted = text
        .map_err(|e| e.to_string())
        .and_then(|text| match args.from {
            Source::Gatus => import::gatus(&text),
            Source::UptimeKuma => import::uptime_kuma(&text),
        });
    let Imported { document, notes } = match converted {
        Ok(imported) => imported,
        Err(why) => {
            eprintln!("tocsin: {}: {why}", args.file.display());
            return ExitCode::from(2);
        }
    };
    let format = if args.json {
        Format::Json
    } else {
        Format::Yaml
    };
    match document.render(format) {
        Ok(text) => {
            for note in &notes {
                eprintln!("not carried over: {note}");
            }
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tocsin: {e}");
            ExitCode::FAILURE
        }
    }
}
