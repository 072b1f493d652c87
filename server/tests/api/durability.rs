//! Durability (issue 19): the SQLite mode in effect is WAL with
//! `synchronous=NORMAL` unless `FULL` is chosen; and the real `hearth`
//! binary, killed with SIGKILL at a random point while people post, comes
//! back with every message it acknowledged (201) under its number, numbering
//! without gaps, and (on SQLite) a database that passes
//! `PRAGMA integrity_check`.
//!
//! The kill points come from a seed printed at the start (set
//! `HEARTH_KILL_SEED` to replay one); each round uses the next seed.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hearth::store::{Backend, SqliteSynchronous};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::Client;
use serde_json::{Value, json};

use crate::backup::integrity_check;
use crate::helpers::{PASSWORD, new_client, numbers, spawn_app, spawn_app_with};

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_synchronous_normal_unless_full_is_chosen() {
    if hearth::testing::skip_unless(Backend::Sqlite, "the durability mode is SQLite's (Postgres has its own)") {
        return;
    }
    let default = spawn_app().await;
    let mode = default.hearth.store().sqlite_durability().await.expect("pragmas").expect("a SQLite store");
    assert_eq!(mode.journal_mode, "wal");
    assert_eq!(mode.synchronous, 1, "synchronous=NORMAL (1) by default");

    let full = spawn_app_with(|config| config.sqlite_synchronous = SqliteSynchronous::Full).await;
    let mode = full.hearth.store().sqlite_durability().await.expect("pragmas").expect("a SQLite store");
    assert_eq!(mode.journal_mode, "wal");
    assert_eq!(mode.synchronous, 2, "synchronous=FULL (2) when chosen");
}

#[test]
fn the_synchronous_setting_reads_normal_or_full_and_refuses_anything_else() {
    assert_eq!("NORMAL".parse::<SqliteSynchronous>(), Ok(SqliteSynchronous::Normal));
    assert_eq!("full".parse::<SqliteSynchronous>(), Ok(SqliteSynchronous::Full));
    let refused = "OFF".parse::<SqliteSynchronous>().expect_err("OFF is not offered");
    assert!(refused.contains("NORMAL or FULL"), "{refused}");
}

/// The real binary, serving on a random port over `database_url`.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) address: String,
}

impl Server {
    /// Starts `hearth` and waits (up to 60 s) for its "listening" line.
    /// Blocking: the binary starts in well under a second.
    pub(crate) fn start(database_url: &str, data_dir: &std::path::Path, synchronous: &str) -> Self {
        let child = Command::new(env!("CARGO_BIN_EXE_hearth"))
            .env("DATABASE_URL", database_url)
            .env("HEARTH_DATA_DIR", data_dir)
            .env("HEARTH_LISTEN", "127.0.0.1:0")
            .env("HEARTH_LOG", "warn,hearth_server::startup=info")
            .env("HEARTH_SQLITE_SYNCHRONOUS", synchronous)
            // The test registers its writers itself.
            .env("HEARTH_SIGN_UP_POLICY", "open")
            .env("HEARTH_MESSAGES_PER_MINUTE", "0")
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            // The log goes to stdout; a panic would reach the test's stderr.
            .stdout(Stdio::piped())
            .spawn()
            .expect("the hearth binary starts");
        // Killed on drop, should anything below fail.
        let mut server = Self { child, address: String::new() };
        let log = server.child.stdout.take().expect("stdout piped");
        let (found, address) = std::sync::mpsc::channel();
        // Reads the log to its end, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut found = Some(found);
            for line in BufReader::new(log).lines() {
                let Ok(line) = line else { break };
                if let Some(at) = line.find("127.0.0.1:")
                    && line.contains("listening")
                {
                    let port: String = line[at + 10..].chars().take_while(char::is_ascii_digit).collect();
                    if let Some(found) = found.take() {
                        let _ = found.send(format!("http://127.0.0.1:{port}"));
                    }
                } else if line.contains("ERROR") || line.contains("WARN") {
                    eprintln!("hearth: {line}");
                }
            }
        });
        server.address =
            address.recv_timeout(Duration::from_secs(60)).expect("hearth says where it listens within 60 s");
        server
    }

    /// SIGKILL: no shutdown, no flush, no checkpoint.
    fn kill(self) {
        drop(self);
    }
}

impl Drop for Server {
    /// Also when a test fails: no server outlives it.
    fn drop(&mut self) {
        // `Child::kill` is SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every message of `room` on the server at `address`, by number: its body.
async fn history_at(address: &str, client: &Client, room: i64) -> BTreeMap<i64, String> {
    let mut all = BTreeMap::new();
    let mut after = 0;
    loop {
        let url = format!("{address}/conversations/{room}/messages?after_number={after}&limit=200");
        let response = client.get(url).header("Accept", "application/json").send().await.expect("request sent");
        assert_eq!(response.status(), 200, "reading room {room} after a restart");
        let page: Value = response.json().await.expect("json");
        let Some(&last) = numbers(&page).last() else { return all };
        for message in page["messages"].as_array().expect("messages") {
            all.insert(message["number"].as_i64().expect("number"), message["body"].as_str().expect("body").to_owned());
        }
        after = last;
    }
}

/// Posts into `room` as `client` until a request fails (the server is
/// gone): the (number, body) of every 201.
async fn post_until_refused(address: String, client: Client, room: i64, label: String) -> Vec<(i64, String)> {
    let mut acked = Vec::new();
    for n in 1.. {
        let body = format!("{label} post {n}");
        let sent =
            client.post(format!("{address}/conversations/{room}/messages")).json(&json!({ "body": body })).send();
        let Ok(Ok(response)) = tokio::time::timeout(Duration::from_secs(20), sent).await else { break };
        if response.status() != 201 {
            break;
        }
        let Ok(message) = response.json::<Value>().await else { break };
        acked.push((message["number"].as_i64().expect("number"), body));
    }
    acked
}

/// Kills and restarts per run (about 2 s each in a debug build).
const ROUNDS: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_a_sigkill_at_a_random_point_numbered_without_gaps() {
    let started = Instant::now();
    let seed: u64 = std::env::var("HEARTH_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random_range(0..1_000_000));
    eprintln!("SIGKILL harness: seed {seed} (HEARTH_KILL_SEED={seed} replays the kill points)");
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = hearth::testing::fresh_database_url(dir.path()).await;
    let sqlite = database_url.starts_with("sqlite");

    let mut server = Server::start(&database_url, dir.path(), "NORMAL");
    let (alice, bob, carol) = (new_client(), new_client(), new_client());
    let mut ids = Vec::new();
    for (client, name) in [(&alice, "alice"), (&bob, "bob"), (&carol, "carol")] {
        let response = client
            .post(format!("{}/users", server.address))
            .json(&json!({ "user": {
                "email": format!("{name}@example.com"), "username": name,
                "password": PASSWORD, "name": name,
            }}))
            .send()
            .await
            .expect("request sent");
        assert_eq!(response.status(), 201, "registering {name}");
        let body: Value = response.json().await.expect("json");
        ids.push(body["user"]["id"].as_i64().expect("user id"));
    }
    let mut rooms = Vec::new();
    // A direct room and a group.
    for participants in [vec![ids[1]], vec![ids[1], ids[2]]] {
        let response = alice
            .post(format!("{}/conversations", server.address))
            .json(&json!({ "participant_ids": participants }))
            .send()
            .await
            .expect("request sent");
        assert!(matches!(response.status().as_u16(), 200 | 201), "creating a room: {}", response.status());
        let body: Value = response.json().await.expect("json");
        rooms.push(body["id"].as_i64().expect("room id"));
    }

    let mut acked: BTreeMap<i64, BTreeMap<i64, String>> = BTreeMap::new();
    for round in 0..ROUNDS {
        let mut rng = StdRng::seed_from_u64(seed + round);
        let kill_after = Duration::from_millis(rng.random_range(100..2500));
        // Eight writers, two clients, the rooms in turn.
        let mut writers = Vec::new();
        for w in 0..8 {
            let client = if w % 2 == 0 { alice.clone() } else { bob.clone() };
            let room = rooms[w % rooms.len()];
            let label = format!("round {round} writer {w}");
            writers.push((room, tokio::spawn(post_until_refused(server.address.clone(), client, room, label))));
        }
        tokio::time::sleep(kill_after).await;
        server.kill();
        let mut this_round = 0;
        for (room, writer) in writers {
            let got = writer.await.expect("writer joined");
            this_round += got.len();
            for (number, body) in got {
                let previous = acked.entry(room).or_default().insert(number, body.clone());
                assert!(previous.is_none(), "number {number} in room {room} acknowledged twice (again for {body:?})");
            }
        }

        // The last round restarts with synchronous=FULL: the setting reaches
        // the binary, and the same promises hold.
        let synchronous = if round == ROUNDS - 1 { "FULL" } else { "NORMAL" };
        server = Server::start(&database_url, dir.path(), synchronous);
        let mut total = 0;
        for (&room, expected) in &acked {
            let stored = history_at(&server.address, &alice, room).await;
            let count = stored.len() as i64;
            assert_eq!(
                stored.keys().copied().collect::<Vec<_>>(),
                (1..=count).collect::<Vec<_>>(),
                "round {round}: room {room} is numbered without gaps"
            );
            for (number, body) in expected {
                assert_eq!(
                    stored.get(number),
                    Some(body),
                    "round {round}: acknowledged message {number} in room {room}"
                );
            }
            total += count;
        }
        if sqlite {
            assert_eq!(integrity_check(&database_url).await, ["ok"], "round {round}: PRAGMA integrity_check");
        }
        eprintln!(
            "round {round}: killed after {kill_after:?}, {this_round} posts acknowledged; after the restart all {} \
             acknowledged are there, {total} messages numbered without gaps",
            acked.values().map(BTreeMap::len).sum::<usize>()
        );
        assert!(this_round > 0, "round {round}: some posts were acknowledged before the kill");
    }
    server.kill();
    eprintln!("SIGKILL harness took {:?}", started.elapsed());
}
