//! `hearth copy-data --from <url> --to <url>`: the core's
//! [`hearth::store::copy_data`], with progress bars on a terminal (plain
//! lines otherwise), its check printed as a table, and Ctrl-C or SIGTERM
//! turned into a rollback.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use hearth::store::{Serving, copy_data, private_new_file, redact_password, serve_marker, sqlite_file};
use indicatif::{ProgressBar, ProgressStyle};

use crate::startup::BoxError;

pub async fn run(from: &str, to: &str) -> Result<(), BoxError> {
    // A server on the source would go on taking messages the copy never
    // sees; held for the whole copy, so none starts on it meanwhile.
    let _serving = match source_marker(from).await {
        Serving::Shared(lock) => {
            return Err(format!(
                "the source is being served ({lock} is held): stop every `hearth serve` on it first, then run \
                 copy-data again (writes made during a copy would not be copied)"
            )
            .into());
        }
        Serving::Alone(marker) => Some(marker),
        Serving::Unknown => None,
    };
    private_target(to)?;
    println!("Copying {} to {}.", redact_password(from), redact_password(to));
    println!("No server is using the source: the copy is of the moment it starts.");
    println!(
        "Everything is written to the target in one transaction, committed only after the check: \
         if the copy is interrupted or fails, the target is left empty and you can run it again."
    );

    let terminal = std::io::stderr().is_terminal();
    let mut bars: HashMap<&'static str, ProgressBar> = HashMap::new();
    let style = ProgressStyle::with_template("{prefix:>13} [{bar:40}] {human_pos}/{human_len} rows ({eta} left)")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let progress = move |table: &'static str, done: u64, total: u64| {
        if !terminal {
            if done == 0 {
                eprintln!("copying {table}: {total} rows");
            }
            return;
        }
        let bar = bars.entry(table).or_insert_with(|| {
            let bar = ProgressBar::new(total).with_style(style.clone()).with_prefix(table);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        bar.set_length(total);
        bar.set_position(done);
        if done >= total {
            bar.finish();
        }
    };

    let report = tokio::select! {
        // Driver errors may span lines; the CLI prints one.
        result = copy_data(from, to, progress) => result.map_err(|err| hearth::store::one_line(&err.to_string()))?,
        () = crate::startup::stop_requested() => {
            return Err("copy-data interrupted: nothing was committed, the target is as empty as before (run copy-data again)".into());
        }
    };
    println!();
    println!("{report}");
    println!("Committed. Point DATABASE_URL at {} and start the server.", redact_password(to));
    Ok(())
}

/// Whether a server holds the source: a SQLite file's lock is only looked at
/// when the file exists (nothing is made beside a mistyped path).
async fn source_marker(from: &str) -> Serving {
    match sqlite_file(from) {
        Some(path) if !path.is_file() => Serving::Unknown,
        _ => serve_marker(from, false).await,
    }
}

/// A SQLite target that does not exist yet is created readable by this
/// user only, as a backup is: it will hold every password hash.
fn private_target(to: &str) -> Result<(), BoxError> {
    let Some(path) = sqlite_file(to) else { return Ok(()) };
    if path.exists() {
        return Ok(());
    }
    match private_new_file(&path) {
        Ok(()) => Ok(()),
        // A missing directory: the copy says so in its own words.
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(format!("cannot create the target {}: {err}", path.display()).into()),
    }
}
