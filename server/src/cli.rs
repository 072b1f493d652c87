//! The admin CLI: `hearth [serve|migrate|seed-demo|copy-data|backup]`, `serve` by default.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hearth::Hearth;

use crate::config::Config;
use crate::startup::{Application, BoxError, open_store};
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(name = "hearth", version, about = "Self-hosted team chat")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve the web app and API (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Create the demo accounts if missing (alice, bob and carol, password
    /// `secret123`) and exit.
    SeedDemo,
    /// Copy this instance's whole database into another, empty one (SQLite
    /// or Postgres, either way), check it, and commit it in one transaction.
    /// Stop the server first. `DATABASE_URL` is not used.
    CopyData {
        /// The database to copy: `sqlite://data/hearth.db` or `postgres://…`.
        #[arg(long, value_name = "URL")]
        from: String,
        /// The empty database to copy into (migrated first; a SQLite file is
        /// created if missing).
        #[arg(long, value_name = "URL")]
        to: String,
    },
    /// Write a consistent snapshot of the SQLite database to a new file,
    /// while the server goes on serving (`VACUUM INTO`). Never overwrites a
    /// file. On Postgres it says to use `pg_dump` instead.
    Backup {
        /// The snapshot file to create (it must not exist).
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
}

pub fn main() -> ExitCode {
    crate::startup::tune_allocator();
    let cli = Cli::parse();
    let serving = matches!(cli.command, None | Some(Command::Serve));
    if serving {
        telemetry::init(&cli.config.log);
    } else {
        // A one-off command's output is its own lines: Postgres notices
        // ("… already exists, skipping") stay out of it.
        telemetry::init(&format!("{},sqlx::postgres::notice=warn", cli.config.log));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("hearth: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The server's log is its record; a command's error is one line.
            if serving {
                tracing::error!(error = %err, "hearth failed");
            }
            eprintln!("hearth: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let leptos = config.leptos_options()?;
            crate::startup::raise_open_file_limit();
            Application::build(config, leptos).await?.run_until_stopped().await?;
        }
        Command::Migrate => {
            open_store(&config).await?;
            println!("migrations applied");
        }
        Command::SeedDemo => {
            let store = open_store(&config).await?;
            let hearth = Hearth::new(store, config.settings());
            let report = hearth.seed_demo().await?;
            println!("demo seed: {} user(s) created", report.users_created);
        }
        Command::CopyData { from, to } => crate::copy_data::run(&from, &to).await?,
        Command::Backup { file } => {
            let url = config.database_url()?;
            let started = std::time::Instant::now();
            let report = hearth::store::backup_sqlite(&url, &file).await?;
            println!(
                "backup written to {} ({} bytes in {:.1} s); to restore it, see docs/operations.md",
                file.display(),
                report.bytes,
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}
