//! `tocsin backup PATH`: a consistent copy of the embedded database, taken while `serve`
//! runs (see [`crate::store::backup_sqlite`]). PostgreSQL has `pg_dump` for this.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;

use crate::config::{DatabaseUrl, Settings};
use crate::store;

/// `tocsin backup` arguments.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write; it must not exist yet.
    #[arg(value_name = "PATH")]
    path: PathBuf,
}

/// Copies the configured SQLite database to `args.path` and says what the copy holds.
pub async fn run(args: BackupArgs, settings: &Settings) -> anyhow::Result<ExitCode> {
    let source = match &settings.database_url {
        DatabaseUrl::Sqlite { path } => path.clone(),
        DatabaseUrl::Postgres { .. } => bail!(
            "tocsin backup copies the embedded SQLite database; for PostgreSQL use pg_dump \
             (see the README's Backups section)"
        ),
    };
    let destination = args.path;
    let summary = {
        let (source, destination) = (source.clone(), destination.clone());
        tokio::task::spawn_blocking(move || store::backup_sqlite(&source, &destination))
            .await
            .context("the backup task failed")?
    }
    .with_context(|| {
        format!(
            "backing up {} to {}",
            source.display(),
            destination.display()
        )
    })?;
    println!(
        "backed up {} to {}: {} bytes, {} accounts, {} monitors",
        source.display(),
        destination.display(),
        summary.bytes,
        summary.accounts,
        summary.monitors
    );
    Ok(ExitCode::SUCCESS)
}
