//! The admin CLI: `hearth [serve|migrate|seed-demo|copy-data|backup|create-user|set-role|deactivate|invite|
//! reset-password|sign-up-policy]`, `serve` by default.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hearth::admin::Actor;
use hearth::model::RoomId;
use hearth::{AppError, Hearth};

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
    /// Create an account, whatever the sign-up policy (on a fresh database
    /// too). The password comes from `HEARTH_NEW_PASSWORD`, or `--password`.
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, env = "HEARTH_NEW_PASSWORD", hide_env_values = true)]
        password: String,
        /// Make the account an admin.
        #[arg(long)]
        admin: bool,
    },
    /// Make an account (email or username) an admin or a member.
    SetRole {
        #[arg(value_name = "USER")]
        user: String,
        #[arg(value_name = "ROLE")]
        role: hearth::model::Role,
    },
    /// Deactivate an account (email or username): its sessions end and its
    /// sockets close. `--reactivate` lets it sign in again.
    Deactivate {
        #[arg(value_name = "USER")]
        user: String,
        #[arg(long)]
        reactivate: bool,
    },
    /// Make an invitation link and print it.
    Invite {
        /// Hours until the link expires.
        #[arg(long, default_value_t = hearth::admin::INVITATION_DEFAULT_HOURS)]
        hours: i64,
        /// How many accounts may be created with it.
        #[arg(long, default_value_t = 1)]
        uses: i64,
        /// The instance's public address, printed before the link's path
        /// (e.g. `https://chat.example.com`).
        #[arg(long, env = "HEARTH_PUBLIC_URL", default_value = "")]
        url: String,
    },
    /// Make a one-time password reset link for an account (email or
    /// username), valid for an hour, and print it.
    ResetPassword {
        #[arg(value_name = "USER")]
        user: String,
        /// The instance's public address, printed before the link's path.
        #[arg(long, env = "HEARTH_PUBLIC_URL", default_value = "")]
        url: String,
    },
    /// Print the sign-up policy, or set it (`open`, `invite` or `closed`).
    SignUpPolicy {
        #[arg(value_name = "POLICY")]
        policy: Option<hearth::model::SignUpPolicy>,
    },
    /// Print the open rooms every new account joins (id and title), after
    /// adding or removing one. Accounts that exist are not added.
    DefaultRooms {
        /// An open room's id, for new accounts to join.
        #[arg(long, value_name = "ROOM_ID")]
        add: Option<i64>,
        /// A room's id, for new accounts no longer to join.
        #[arg(long, value_name = "ROOM_ID", conflicts_with = "add")]
        remove: Option<i64>,
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
            let report = hearth.seed_demo().await.map_err(one_line)?;
            println!("demo seed: {} user(s) created", report.users_created);
        }
        Command::CreateUser { email, username, name, password, admin } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let registration = hearth::accounts::Registration { email, username, password, name, invitation: None };
            let profile = hearth.create_account(registration, None, admin).await.map_err(one_line)?;
            let role = hearth.user_by_login(&profile.username).await.map_err(one_line)?.role;
            hearth
                .store()
                .audit(hearth::store::Audit {
                    action: "user.create",
                    target_user: Some(profile.id),
                    detail: Some(role.clone()),
                    ..Default::default()
                })
                .await?;
            println!("created {} (id {}, {role})", profile.username, profile.id);
        }
        Command::SetRole { user, role } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let target = hearth.user_by_login(&user).await.map_err(|e| not_found(e, &user))?;
            let changed = hearth.set_role(Actor::Cli, target.id, role).await.map_err(one_line)?;
            println!("{} is now {}", changed.username, changed.role);
        }
        Command::Deactivate { user, reactivate } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let target = hearth.user_by_login(&user).await.map_err(|e| not_found(e, &user))?;
            if reactivate {
                let changed = hearth.reactivate(Actor::Cli, target.id).await.map_err(one_line)?;
                println!("{} is active", changed.username);
            } else {
                let changed = hearth.deactivate(Actor::Cli, target.id).await.map_err(one_line)?;
                println!("{} is deactivated (running servers close their sockets within 2 s)", changed.username);
            }
        }
        Command::Invite { hours, uses, url } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let request = hearth::admin::InvitationRequest { expires_in_hours: Some(hours), max_uses: Some(uses) };
            let created = hearth.create_invitation(Actor::Cli, request).await.map_err(one_line)?;
            println!("{}{}", url.trim_end_matches('/'), created.path);
            eprintln!("expires {}, {} use(s)", created.invitation.expires_at, created.invitation.max_uses);
        }
        Command::ResetPassword { user, url } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let target = hearth.user_by_login(&user).await.map_err(|e| not_found(e, &user))?;
            let link = hearth.create_reset_link(Actor::Cli, target.id).await.map_err(one_line)?;
            println!("{}{}", url.trim_end_matches('/'), link.path);
            eprintln!("expires {}, once", link.expires_at);
        }
        Command::SignUpPolicy { policy } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let policy = match policy {
                Some(policy) => hearth.set_sign_up_policy(Actor::Cli, policy).await.map_err(one_line)?,
                None => hearth.sign_up_policy().await.map_err(one_line)?,
            };
            println!("{}", policy.as_str());
        }
        Command::DefaultRooms { add, remove } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let rooms = match (add, remove) {
                (Some(room), _) => hearth.set_default_room(Actor::Cli, RoomId(room), true).await.map_err(one_line)?,
                (_, Some(room)) => hearth.set_default_room(Actor::Cli, RoomId(room), false).await.map_err(one_line)?,
                (None, None) => hearth.default_rooms(Actor::Cli).await.map_err(one_line)?,
            };
            for room in rooms {
                println!("{}\t{}", room.id.0, room.title.as_deref().unwrap_or("(untitled)"));
            }
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

/// A core error as one line: every message, joined.
fn one_line(err: AppError) -> BoxError {
    err.messages().join("; ").into()
}

/// "no user <login>" for a login that names nobody.
fn not_found(err: AppError, login: &str) -> BoxError {
    match err {
        AppError::NotFound(_) => format!("no user {login:?}").into(),
        other => one_line(other),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Cli;

    #[test]
    fn postgres_writers_have_a_default_and_bounds() {
        let parsed = |args: &[&str]| Cli::try_parse_from(["hearth"].iter().chain(args)).map(|cli| cli.config);
        let default = parsed(&["serve"]).expect("no flags");
        assert_eq!(default.postgres_writers, hearth::POSTGRES_WRITERS);
        assert_eq!(default.settings().postgres_writers, hearth::POSTGRES_WRITERS);
        let four = parsed(&["--postgres-writers", "4", "serve"]).expect("4 writers");
        assert_eq!(four.settings().postgres_writers, 4);
        for refused in ["0", "7", "-1", "two"] {
            assert!(parsed(&["--postgres-writers", refused, "serve"]).is_err(), "{refused} writers were taken");
        }
    }
}
