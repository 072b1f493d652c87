//! `hearth copy-data --from <url> --to <url>`: the core's
//! [`hearth::store::copy_data`], with progress bars on a terminal (plain
//! lines otherwise), its check printed as a table, and Ctrl-C or SIGTERM
//! turned into a rollback.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Duration;

use hearth::store::{copy_data, redact_password};
use indicatif::{ProgressBar, ProgressStyle};

use crate::startup::BoxError;

pub async fn run(from: &str, to: &str) -> Result<(), BoxError> {
    println!("Copying {} to {}.", redact_password(from), redact_password(to));
    println!(
        "Stop the server on the source first: the copy is of the moment it starts, and writes after that are not copied."
    );
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
