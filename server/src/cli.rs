//! The admin CLI: `hearth [serve|migrate|seed-demo|copy-data|backup|create-user|set-role|deactivate|sign-out|
//! invite|reset-password|sign-up-policy]`, `serve` by default.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
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
    /// Create the demo accounts (alice, bob and carol, at
    /// `<name>@example.com`, password `secret123`) and their rooms where
    /// missing, and exit. An account whose email exists is kept as it is; a
    /// demo username taken by another email stops the seed. Creates and
    /// migrates the database if needed.
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
    /// Put a snapshot made by `backup` in place as this instance's SQLite
    /// database. Stop the server first. The files there before (the
    /// database and its `-wal` and `-shm`) are moved aside, not deleted.
    /// Uploaded files are not in the snapshot: put back the `blobs`
    /// directory backed up with it yourself.
    Restore {
        /// The snapshot file to put in place.
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
    },
    /// Create an account, whatever the sign-up policy (on a fresh database
    /// too: it is created and migrated, as for the first admin). The
    /// password comes from `HEARTH_NEW_PASSWORD`, or `--password`.
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
    /// Sign an account (email or username) out everywhere (a lost phone):
    /// its sessions end and running servers close its sockets within 2 s.
    /// It may sign in again.
    SignOut {
        #[arg(value_name = "USER")]
        user: String,
    },
    /// Make an invitation link and print it.
    Invite {
        /// Hours until the link expires.
        #[arg(long, default_value_t = hearth::admin::INVITATION_DEFAULT_HOURS, allow_negative_numbers = true)]
        hours: i64,
        /// How many accounts may be created with it.
        #[arg(long, default_value_t = 1, allow_negative_numbers = true)]
        uses: i64,
        /// The instance's public address, printed before the link's path
        /// (e.g. `https://chat.example.com`).
        #[arg(long, env = "HEARTH_PUBLIC_URL", default_value = "", value_parser = link_base)]
        url: String,
    },
    /// Make a one-time password reset link for an account (email or
    /// username), valid for an hour, and print it.
    ResetPassword {
        #[arg(value_name = "USER")]
        user: String,
        /// The instance's public address, printed before the link's path.
        #[arg(long, env = "HEARTH_PUBLIC_URL", default_value = "", value_parser = link_base)]
        url: String,
    },
    /// Print the sign-up policy stored in the database, or store one
    /// (`open`, `invite` or `closed`). Servers without a stored policy use
    /// their own `HEARTH_SIGN_UP_POLICY`.
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return refuse_arguments(err),
    };
    if let Err(err) = telemetry::check_filter(&cli.config.log) {
        eprintln!("hearth: {err}");
        return ExitCode::FAILURE;
    }
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
            // Once, on stderr (which a service manager keeps with the log):
            // logging it as well printed every fatal error twice.
            // A core error's cause, not the web's "internal error": the
            // operator is the one who can act on it.
            let shown = match err.downcast_ref::<AppError>() {
                Some(AppError::Internal(cause)) => cause.to_string(),
                _ => err.to_string(),
            };
            eprintln!("hearth: {}", shown.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

/// A setting whose value is refused, as one line naming the variable, the
/// flag and what is allowed; other parse outcomes (help, version, unknown
/// flags) as clap shows them.
fn refuse_arguments(err: clap::Error) -> ExitCode {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if !matches!(err.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue) {
        err.exit();
    }
    let text = |kind| match err.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(", "),
        _ => String::new(),
    };
    let arg = text(ContextKind::InvalidArg);
    let flag = arg.split_whitespace().next().unwrap_or_default().to_owned();
    let long = flag.trim_start_matches('-');
    let command = Cli::command();
    let env = std::iter::once(&command)
        .chain(command.get_subcommands())
        .flat_map(|c| c.get_arguments())
        .find(|a| a.get_long() == Some(long))
        .and_then(|a| a.get_env())
        .map(|env| env.to_string_lossy().into_owned());
    let name = match env {
        Some(env) => format!("{env} ({flag})"),
        None => flag,
    };
    let why = match std::error::Error::source(&err) {
        // clap's BoolishValueParser says only this.
        Some(source) if source.to_string() == "value was not a boolean" => {
            format!("{:?} is not one of: true, false, yes, no, on, off, 1, 0", text(ContextKind::InvalidValue))
        }
        Some(source) => source.to_string(),
        None => {
            let valid = text(ContextKind::ValidValue);
            format!("{:?} is not one of: {valid}", text(ContextKind::InvalidValue))
        }
    };
    eprintln!("hearth: {name}: {}", why.replace('\n', " "));
    ExitCode::from(2)
}

/// `--url` of the link commands: empty (the path alone), or the public
/// address.
fn link_base(raw: &str) -> Result<String, String> {
    if raw.trim().is_empty() { Ok(String::new()) } else { crate::config::public_url(raw) }
}

/// The store of an instance that exists: an admin command run against a
/// mistyped `HEARTH_DATA_DIR` or `DATABASE_URL` must not create (and
/// migrate) a new, empty database and act on it.
async fn open_existing_store(config: &Config) -> Result<hearth::store::Store, BoxError> {
    let url = config.database_location()?;
    let missing = |place: &str| -> BoxError {
        format!(
            "no Hearth database at {place}: check HEARTH_DATA_DIR / DATABASE_URL, or run `hearth serve` (or `hearth \
             migrate`) once to create it"
        )
        .into()
    };
    let shown = hearth::store::redact_password(&url);
    if let Some(path) = hearth::store::sqlite_file(&url) {
        let empty = std::fs::metadata(&path).map(|m| !m.is_file() || m.len() == 0).unwrap_or(true);
        if empty {
            return Err(missing(&path.display().to_string()));
        }
    }
    // Connected without migrating: a database without Hearth's first table
    // is not Hearth's (every version has `users`), and is left as it is.
    let probe = hearth::store::Store::connect_with(&url, config.store_options())
        .await
        .map_err(|e| format!("cannot open {shown}: {}", hearth::store::one_line(&e.to_string())))?;
    let found = probe.has_users().await.is_ok();
    drop(probe);
    if !found {
        return Err(missing(&format!("{shown} (it has no Hearth tables)")));
    }
    open_store(config).await
}

async fn run(cli: Cli) -> Result<(), BoxError> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let leptos = config.leptos_options()?;
            if let Some(script) = crate::config::missing_browser_bundle(&leptos) {
                tracing::warn!(
                    missing = %script.display(),
                    "the browser bundle is missing: pages will load without their script; build the site with \
                     scripts/build-site.sh (or `make run`), or point HEARTH_SITE_CONFIG at a built one"
                );
            }
            crate::startup::raise_open_file_limit();
            Application::build(config, leptos).await?.run_until_stopped().await?;
        }
        Command::Migrate => {
            let url = config.database_url()?;
            let (_, applied, newest) = hearth::store::Store::open_counting(&url, config.store_options()).await?;
            println!("{}", migrate_report(applied, newest));
        }
        Command::SeedDemo => {
            let store = open_store(&config).await?;
            let hearth = Hearth::new(store, config.settings());
            let report = hearth.seed_demo().await.map_err(one_line)?;
            println!("demo seed: {} user(s) created", report.users_created);
        }
        Command::CreateUser { email, username, name, password, admin } => {
            let hearth = Hearth::new(open_store(&config).await?, config.settings());
            let registration = hearth::accounts::Registration {
                email,
                username,
                password,
                password_confirmation: None,
                name,
                invitation: None,
            };
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
            let hearth = Hearth::new(open_existing_store(&config).await?, config.settings());
            let target = hearth.user_by_login(&user).await.map_err(|e| not_found(e, &user))?;
            let changed = hearth.set_role(Actor::Cli, target.id, role).await.map_err(one_line)?;
            println!("{} is now {}", changed.username, changed.role);
        }
        Command::Deactivate { user, reactivate } => {
            let hearth = Hearth::new(open_existing_store(&config).await?, config.settings());
            let target = hearth.user_by_login(&user).await.map_err(|e| not_found(e, &user))?;
            if reactivate {
                let changed = hearth.reactivate(Actor::Cli, target.id).await.map_err(one_line)?;
                println!("{} is active", changed.username);
            } else {
                let changed = hearth.deactivate(Actor::Cli, target.id).await.map_err(one_line)?;
                println!("{} is deactivated (running servers close their sockets within 2 s)", changed.username);
            }
        }
        Command::SignOut { user } => {
            let hearth = Hearth::new(open_existing_store(&config).await?, config.settings());
            let target = hearth.user_by_login(&user).await.map_err(|e| not_found(e, &user))?;
            let changed = hearth.sign_out_everywhere(Actor::Cli, target.id).await.map_err(one_line)?;
            println!("{} is signed out everywhere (running servers close its sockets within 2 s)", changed.username);
        }
        Command::Invite { hours, uses, url } => {
            let hearth = Hearth::new(open_existing_store(&config).await?, config.settings());
            let request = hearth::admin::InvitationRequest { expires_in_hours: Some(hours), max_uses: Some(uses) };
            let created = hearth.create_invitation(Actor::Cli, request).await.map_err(one_line)?;
            println!("{}{}", url.trim_end_matches('/'), created.path);
            eprintln!("expires {}, {} use(s)", created.invitation.expires_at, created.invitation.max_uses);
        }
        Command::ResetPassword { user, url } => {
            let hearth = Hearth::new(open_existing_store(&config).await?, config.settings());
            let target = hearth.user_by_login(&user).await.map_err(|e| not_found(e, &user))?;
            let link = hearth.create_reset_link(Actor::Cli, target.id).await.map_err(one_line)?;
            println!("{}{}", url.trim_end_matches('/'), link.path);
            eprintln!("expires {}, once", link.expires_at);
        }
        Command::SignUpPolicy { policy } => {
            let hearth = Hearth::new(open_existing_store(&config).await?, config.settings());
            match policy {
                Some(policy) => {
                    let policy = hearth.set_sign_up_policy(Actor::Cli, policy).await.map_err(one_line)?;
                    println!("{}", policy.as_str());
                }
                // What is stored: this command's own environment says
                // nothing of the running servers' HEARTH_SIGN_UP_POLICY.
                None => match hearth.store().instance_setting("sign_up_policy").await.map_err(one_line)? {
                    Some(policy) => println!("{policy}"),
                    None => println!(
                        "none stored: each server uses its own HEARTH_SIGN_UP_POLICY (default invite, open in demo \
                         mode)"
                    ),
                },
            }
        }
        Command::DefaultRooms { add, remove } => {
            let hearth = Hearth::new(open_existing_store(&config).await?, config.settings());
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
        Command::Restore { file } => {
            let url = config.database_location()?;
            let report = hearth::store::restore_sqlite(&url, &file).await?;
            println!("restored {} as {}", file.display(), report.database.display());
            for aside in &report.moved_aside {
                println!("moved aside: {}", aside.display());
            }
            println!("start the server; put back the blobs directory backed up with the snapshot if it is not there");
        }
        Command::Backup { file } => {
            let url = config.database_location()?;
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

/// What `hearth migrate` did: how many migrations it applied, and where the
/// database is now.
fn migrate_report(applied: i64, newest: i64) -> String {
    match applied {
        0 => format!("nothing to apply: the database is at migration {newest}, this Hearth's latest"),
        1 => format!("applied 1 migration: the database is now at migration {newest}"),
        n => format!("applied {n} migrations: the database is now at migration {newest}"),
    }
}

/// A core error as one line: every message, joined, or what caused an
/// internal one.
fn one_line(err: AppError) -> BoxError {
    match err {
        // Its cause ("attempt to write a readonly database"), where a web
        // user is told only that something went wrong.
        AppError::Internal(cause) => hearth::store::one_line(&cause.to_string()).into(),
        other => other.messages().join("; ").into(),
    }
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
