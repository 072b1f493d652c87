//! What an operator meets first: settings refused at startup with one line
//! that names them (never a panic, never a silent replacement), admin
//! commands that refuse a database that is not there, and rate limits where
//! 0 means no limit, for each of them.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::json;

use crate::admin::{hearth_cli, stdout_of};
use crate::helpers::{assert_one_line_failure, new_client, spawn_app_with};

/// Runs the binary in `dir` with `envs` and `args`, without the test
/// environment's own settings.
async fn hearth_in(dir: &Path, envs: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hearth"));
    command.current_dir(dir).args(args).env("HEARTH_LOG", "off").env("HEARTH_LISTEN", "127.0.0.1:0");
    for (name, _) in std::env::vars() {
        if name.starts_with("HEARTH_") || name == "DATABASE_URL" || name.starts_with("LEPTOS_") {
            command.env_remove(name);
        }
    }
    command.env("HEARTH_LOG", "off").env("HEARTH_LISTEN", "127.0.0.1:0").env("HEARTH_DATA_DIR", dir.join("data"));
    command.envs(envs.iter().copied());
    tokio::task::spawn_blocking(move || command.output().expect("the hearth binary runs")).await.expect("joined")
}

#[tokio::test]
async fn every_numeric_setting_out_of_its_range_is_refused_in_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let refused = [
        ("HEARTH_CACHE_TTL_SECS", "99999999999"),
        ("HEARTH_EDIT_WINDOW_MINUTES", "307445734561825861"),
        ("HEARTH_HEADER_READ_TIMEOUT", "18446744073709551615"),
        ("HEARTH_BODY_READ_TIMEOUT", "0"),
        ("HEARTH_WS_WRITE_DELAY_MS", "3600000"),
        ("HEARTH_WS_WRITE_TIMEOUT", "18446744073709551615"),
        ("HEARTH_SHUTDOWN_TIMEOUT", "18446744073709551615"),
        ("HEARTH_SESSION_CLEANUP_SECS", "18446744073709551615"),
        ("HEARTH_SIGN_INS_PER_IP", "4294967296"),
        ("HEARTH_SIGN_INS_PER_ACCOUNT", "-1"),
        ("HEARTH_SEARCHES_PER_MINUTE", "99999999"),
        ("HEARTH_ANONYMOUS_APPS_PER_IP", "99999999"),
        ("HEARTH_MESSAGES_PER_MINUTE", "99999999"),
        ("HEARTH_RESET_MAILS_PER_ADDRESS", "99999999"),
        ("HEARTH_MAX_CONNECTIONS_PER_IP", "18446744073709551616"),
        ("HEARTH_UPLOAD_MAX_BYTES", "0"),
        ("HEARTH_PUSH_DELAY_SECS", "3601"),
    ];
    for (name, value) in refused {
        let output = hearth_in(dir.path(), &[(name, value)], &["migrate"]).await;
        assert_one_line_failure(&output, &[name, value, "whole number from"]);
    }
    assert!(!dir.path().join("data").exists(), "nothing was created");
    // The bounds themselves are accepted.
    let output = hearth_in(
        dir.path(),
        &[("HEARTH_CACHE_TTL_SECS", "86400"), ("HEARTH_WS_WRITE_DELAY_MS", "1000")],
        &["migrate"],
    )
    .await;
    assert!(stdout_of(&output).starts_with("applied "), "{}", stdout_of(&output));
}

#[tokio::test]
async fn a_log_filter_that_does_not_parse_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = hearth_in(dir.path(), &[("HEARTH_LOG", "[[[,warn")], &["migrate"]).await;
    assert_one_line_failure(&output, &["HEARTH_LOG", "[[[,warn"]);
    assert!(!dir.path().join("data").exists());
}

#[tokio::test]
async fn a_database_url_that_names_no_database_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().expect("temp dir");
    for garbage in ["garbage", "mysql://db/hearth", "postgre://db/hearth"] {
        let output = hearth_in(dir.path(), &[("DATABASE_URL", garbage)], &["migrate"]).await;
        assert_one_line_failure(&output, &["DATABASE_URL", garbage]);
    }
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("read dir").collect();
    assert!(left.is_empty(), "no file was created: {left:?}");
}

#[tokio::test]
async fn a_data_dir_that_cannot_be_one_is_named_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").expect("write");
    let shown = file.display().to_string();
    let data_dir = file.to_str().expect("utf-8 path");
    // Served with a log, the error is printed once (stderr), not also logged.
    let output = hearth_in(dir.path(), &[("HEARTH_DATA_DIR", data_dir), ("HEARTH_LOG", "info")], &["serve"]).await;
    assert_one_line_failure(&output, &[&shown, "HEARTH_DATA_DIR"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains(&shown), "printed once: {stdout}");
    let under = file.join("sub");
    let output = hearth_in(dir.path(), &[("HEARTH_DATA_DIR", under.to_str().unwrap())], &["migrate"]).await;
    assert_one_line_failure(&output, &[&under.display().to_string()]);
}

#[tokio::test]
async fn admin_commands_refuse_a_database_that_does_not_exist() {
    let dir = tempfile::tempdir().expect("temp dir");
    let typo = dir.path().join("typo");
    let typo_dir = typo.to_str().expect("utf-8 path");
    let commands: [&[&str]; 7] = [
        &["invite"],
        &["sign-up-policy"],
        &["sign-up-policy", "closed"],
        &["reset-password", "alice"],
        &["set-role", "alice", "admin"],
        &["deactivate", "alice"],
        &["default-rooms"],
    ];
    for args in commands {
        let output = hearth_in(dir.path(), &[("HEARTH_DATA_DIR", typo_dir)], args).await;
        assert_one_line_failure(&output, &["no Hearth database", typo_dir, "hearth serve"]);
        assert!(!typo.exists(), "{args:?} created {typo_dir}");
    }
    // A file that is there but holds no Hearth (an empty one, say).
    std::fs::create_dir(&typo).expect("mkdir");
    std::fs::write(typo.join("hearth.db"), "").expect("empty file");
    let output = hearth_in(dir.path(), &[("HEARTH_DATA_DIR", typo_dir)], &["invite"]).await;
    assert_one_line_failure(&output, &["no Hearth database"]);
    assert_eq!(std::fs::metadata(typo.join("hearth.db")).expect("still there").len(), 0, "left as it was");

    // On Postgres: a database without Hearth's tables is not migrated.
    if let Some(blank) = hearth::testing::BlankPostgres::create("operator").await {
        let output = hearth_cli(&blank.url, &["invite"]).await;
        assert_one_line_failure(&output, &["no Hearth database"]);
        let output = hearth_cli(&blank.url, &["sign-up-policy", "open"]).await;
        assert_one_line_failure(&output, &["no Hearth database"]);
        blank.drop_now().await;
    }
}

#[tokio::test]
async fn a_public_url_is_checked_whenever_it_is_set() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = hearth::testing::fresh_database_url(dir.path()).await;
    stdout_of(&hearth_cli(&url, &["migrate"]).await);
    for bad in ["notaurl", "ftp://chat.example", "https://"] {
        let output = hearth_in(dir.path(), &[("DATABASE_URL", &url), ("HEARTH_PUBLIC_URL", bad)], &["invite"]).await;
        assert_one_line_failure(&output, &["HEARTH_PUBLIC_URL", bad]);
        let output = hearth_in(dir.path(), &[("DATABASE_URL", &url)], &["invite", "--url", bad]).await;
        assert_one_line_failure(&output, &["--url", bad]);
    }
    let output =
        hearth_in(dir.path(), &[("DATABASE_URL", &url), ("HEARTH_PUBLIC_URL", "https://chat.example/")], &["invite"])
            .await;
    assert!(stdout_of(&output).starts_with("https://chat.example/register?invitation="));
}

#[tokio::test]
async fn the_demo_seed_names_the_account_in_its_way() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = hearth::testing::fresh_database_url(dir.path()).await;
    stdout_of(&hearth_cli(&url, &["create-user", "--email", "someone@else.example", "--username", "bob"]).await);
    let output = hearth_cli(&url, &["seed-demo"]).await;
    assert_one_line_failure(&output, &["demo account bob", "bob@example.com", "another account"]);
}

#[tokio::test]
async fn an_address_in_use_is_named_in_its_one_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = taken.local_addr().expect("its address").to_string();
    let dir = tempfile::tempdir().expect("temp dir");

    let output = hearth_in(dir.path(), &[("HEARTH_LISTEN", &address)], &["serve"]).await;

    assert_one_line_failure(&output, &[&address, "HEARTH_LISTEN"]);
    drop(taken);
}

#[tokio::test]
async fn a_blank_metrics_token_is_refused_rather_than_turning_metrics_off() {
    let dir = tempfile::tempdir().expect("temp dir");
    for blank in [" ", "\t "] {
        let output = hearth_in(dir.path(), &[("HEARTH_METRICS_TOKEN", blank)], &["serve"]).await;
        assert_one_line_failure(&output, &["HEARTH_METRICS_TOKEN", "blank"]);
    }
}

#[tokio::test]
async fn a_data_directory_the_binary_makes_is_for_its_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");

    let output = hearth_in(dir.path(), &[], &["migrate"]).await;

    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let mode = std::fs::metadata(dir.path().join("data")).expect("made").permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "not {mode:o}");
    assert!(dir.path().join("data/hearth.db").exists());
}

#[tokio::test]
async fn the_sign_up_policy_command_says_what_is_stored_and_no_more() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = hearth::testing::fresh_database_url(dir.path()).await;
    stdout_of(&hearth_cli(&url, &["migrate"]).await);
    // The command's own environment is not the servers'.
    let output =
        hearth_in(dir.path(), &[("DATABASE_URL", &url), ("HEARTH_SIGN_UP_POLICY", "closed")], &["sign-up-policy"])
            .await;
    let said = stdout_of(&output);
    assert!(said.starts_with("none stored") && said.contains("HEARTH_SIGN_UP_POLICY"), "{said}");
    assert_eq!(stdout_of(&hearth_cli(&url, &["sign-up-policy", "open"]).await), "open");
    assert_eq!(stdout_of(&hearth_cli(&url, &["sign-up-policy"]).await), "open");
}

#[tokio::test]
async fn a_site_config_that_is_missing_or_malformed_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.toml");
    let output = hearth_in(dir.path(), &[("HEARTH_SITE_CONFIG", missing.to_str().unwrap())], &["serve"]).await;
    assert_one_line_failure(&output, &[&missing.display().to_string(), "HEARTH_SITE_CONFIG"]);
    let malformed = dir.path().join("bad.toml");
    std::fs::write(&malformed, "garbage").expect("write");
    let output = hearth_in(dir.path(), &[("HEARTH_SITE_CONFIG", malformed.to_str().unwrap())], &["serve"]).await;
    assert_one_line_failure(&output, &[&malformed.display().to_string(), "HEARTH_SITE_CONFIG"]);
    assert!(!String::from_utf8_lossy(&output.stderr).contains("Cargo.toml"));
}

#[tokio::test]
async fn a_site_without_its_browser_bundle_is_served_with_a_warning() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("site")).expect("mkdir");
    let config = dir.path().join("Leptos.toml");
    std::fs::write(&config, "[package.metadata.leptos]\noutput-name = \"hearth\"\nsite-root = \"site\"\n")
        .expect("write");
    let mut command = Command::new(env!("CARGO_BIN_EXE_hearth"));
    for (name, _) in std::env::vars() {
        if name.starts_with("HEARTH_") || name == "DATABASE_URL" || name.starts_with("LEPTOS_") {
            command.env_remove(name);
        }
    }
    command
        .current_dir(dir.path())
        .env("HEARTH_LOG", "warn")
        .env("HEARTH_LISTEN", "127.0.0.1:0")
        .env("HEARTH_DATA_DIR", dir.path().join("data"))
        .env("HEARTH_SITE_CONFIG", &config)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    let mut child = command.spawn().expect("the hearth binary runs");
    let stdout = child.stdout.take().expect("stdout");
    let warned = tokio::task::spawn_blocking(move || {
        std::io::BufReader::new(stdout).lines().map_while(Result::ok).find(|line| line.contains("browser bundle"))
    });
    let warned = tokio::time::timeout(std::time::Duration::from_secs(60), warned).await;
    let _ = child.kill();
    let _ = child.wait();
    let line = warned.expect("a warning within 60 s").expect("joined").expect("a line about the bundle");
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("browser bundle is missing") && line.contains("hearth.js"), "{line}");
    assert!(line.contains("scripts/build-site.sh"), "{line}");
}

#[tokio::test]
async fn a_rate_limit_of_zero_is_no_limit_for_every_budget() {
    let app = spawn_app_with(|c| {
        c.sign_ins_per_ip_per_minute = 0;
        c.sign_ins_per_account_per_minute = 0;
        c.searches_per_minute = 0;
        c.anonymous_apps_per_ip_per_minute = 0;
        c.reset_mails_per_address_per_hour = 0;
        c.messages_per_minute = 0;
    })
    .await;
    // Past every default: 30 per IP, 10 per account.
    for _ in 0..35 {
        assert_eq!(app.sign_in_with(&new_client(), "nobody", "wrong-password").await.status(), 401);
    }
    let alice = app.user("alice").await;
    // Past the default 60.
    for _ in 0..65 {
        assert_eq!(app.get(&alice.client, "/search?q=hello").await.status(), 200);
    }
    // Past the default 10.
    let anonymous = new_client();
    for _ in 0..12 {
        let created = anonymous.post(app.url("/api/applications")).json(&json!({ "application_name": "Bot" })).send();
        assert_eq!(created.await.unwrap().status(), 201);
    }
}

#[tokio::test]
async fn an_admin_command_that_fails_inside_says_why_not_something_went_wrong() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("data").join("hearth.db");
    assert!(hearth_in(dir.path(), &[], &["migrate"]).await.status.success());
    // A database it may read but not write (a read-only mount, a file of
    // another user): the operator is told so, not the web's "internal error".
    let read_only = format!("sqlite://{}?mode=ro", file.display());
    for args in [
        &["create-user", "--email", "ann@example.com", "--username", "ann", "--password", "longpassword1"][..],
        &["sign-up-policy", "closed"][..],
    ] {
        let output = hearth_in(dir.path(), &[("DATABASE_URL", read_only.as_str())], args).await;
        assert_one_line_failure(&output, &["attempt to write a readonly database"]);
    }
}

#[tokio::test]
async fn switches_take_the_usual_spellings_and_a_negative_count_is_answered_by_its_range() {
    let dir = tempfile::tempdir().expect("temp dir");
    for value in ["1", "yes", "on", "off", "0", "FALSE"] {
        let output = hearth_in(dir.path(), &[("HEARTH_LINK_PREVIEWS", value)], &["migrate"]).await;
        assert!(output.status.success(), "HEARTH_LINK_PREVIEWS={value}: {}", String::from_utf8_lossy(&output.stderr));
    }
    let output = hearth_in(dir.path(), &[("HEARTH_DEMO", "nope")], &["migrate"]).await;
    assert_one_line_failure(&output, &["HEARTH_DEMO", "\"nope\" is not one of: true, false, yes, no"]);
    // A negative number is a value (not an unknown flag), refused by its range.
    let output = hearth_in(dir.path(), &[], &["invite", "--hours", "-5"]).await;
    assert_one_line_failure(&output, &["must be between 1 and"]);
}
