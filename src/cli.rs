//! The command line: `tocsin serve`, `tocsin migrate`, `tocsin check`, `tocsin backup`,
//! `tocsin healthcheck`, and the monitors-as-code commands `apply`, `export` and `import`.

mod backup;
pub mod check;
pub mod documents;
mod healthcheck;
pub mod import;
mod references;
mod remote;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{self, App};
use crate::config::{CheckSettings, Overrides, Settings};
use crate::{store, telemetry};

/// tocsin: self-hosted HTTP endpoint monitoring.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// A TOML file of settings (keys as in the README's table, in lower case without TOCSIN_).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Overrides TOCSIN_LISTEN.
    #[arg(long, global = true, value_name = "ADDR")]
    listen: Option<String>,
    /// Overrides TOCSIN_DATABASE_URL.
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    #[command(subcommand)]
    command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve the API.
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Check one URL once and print the timings; exit 0 when up, 1 when down, 2 when the
    /// URL, a flag or a setting is invalid.
    Check(check::CheckArgs),
    /// Copy the live SQLite database to a new file, consistently, while `serve` runs.
    Backup(backup::BackupArgs),
    /// Ask the local server's /healthz (TOCSIN_LISTEN); exit 0 when it answers 200.
    Healthcheck,
    /// Make the account's monitors what a document says (TOCSIN_SERVER, TOCSIN_API_KEY);
    /// exit 0 when applied or nothing to do, 2 on invalid input, 1 on other failures.
    Apply(documents::ApplyArgs),
    /// Print the account's monitors as a document (TOCSIN_SERVER, TOCSIN_API_KEY).
    Export(documents::ExportArgs),
    /// Convert another tool's configuration into a tocsin document on standard output,
    /// naming on standard error each setting not carried over.
    Import(import::ImportArgs),
}

/// Runs the command the user asked for; the exit code carries a check's verdict.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Check(args) = cli.command {
        return Ok(match CheckSettings::load(cli.config.as_deref()) {
            Ok(settings) => {
                telemetry::init(&settings.log);
                check::run(args, &settings).await
            }
            Err(error) => {
                eprintln!("tocsin: {error}");
                ExitCode::from(check::USAGE)
            }
        });
    }
    // Client commands: they talk to a server or read files, not the server's settings.
    let command = match cli.command {
        Command::Apply(args) => return Ok(documents::apply(args).await),
        Command::Export(args) => return Ok(documents::export(args).await),
        Command::Import(args) => return Ok(import::run(&args)),
        other => other,
    };
    let overrides = Overrides {
        listen: cli.listen,
        database_url: cli.database_url,
    };
    let settings = Settings::load(cli.config.as_deref(), &overrides)?;
    telemetry::init(&settings.log);
    match command {
        Command::Serve => {
            let app = App::build(&settings).await?;
            tracing::info!(address = %app.local_addr()?, database = %settings.database_url, "tocsin listening");
            app.run_until(app::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let store = store::open(&settings.database_url)
                .await
                .with_context(|| format!("opening {}", settings.database_url))?;
            store.migrate().await.context("migrating the database")?;
            println!("migrations applied to {}", settings.database_url);
            Ok(ExitCode::SUCCESS)
        }
        // Handled above, without the server's settings.
        Command::Check(_) => Ok(ExitCode::from(check::USAGE)),
        Command::Apply(_) | Command::Export(_) | Command::Import(_) => Ok(ExitCode::from(2)),
        Command::Backup(args) => backup::run(args, &settings).await,
        Command::Healthcheck => Ok(healthcheck::run(&settings)),
    }
}
