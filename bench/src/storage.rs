//! `hearth-bench storage …`: the storage benchmarks of docs/benchmarks.md
//! ("Storage: SQLite and Postgres"), against a running server on either
//! database. `bench/storage.sh` runs them all on both.
//!
//! - `seed`: registers a few accounts, creates an open room over HTTP, and
//!   fills it with `--messages` messages straight into the database in bulk
//!   (`db.rs`: what the server would have written, batched), then checks a
//!   few pages and a search over HTTP. Writes a state file for the others.
//! - `history`: pages of 50 (`GET /conversations/:id/messages`), newest and
//!   before random numbers and random times, one request at a time.
//! - `search`: `GET /search?q=…`, one request at a time, per query.
//! - `post`: `--posters` concurrent posters, each waiting for its 201 before
//!   the next post, to one room or to one room each.
//! - `insert`: raw multi-row `INSERT`s into `messages`, no server involved.
//!
//! Latencies are HTTP round trips measured here (request out → whole body
//! read), in hdrhistogram. Each command reports this process's CPU, the
//! server's (`--server-pid`) and every core's busy time over its window, so
//! a saturated generator shows.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{Account, Api};
use crate::corpus::{Corpus, MARKERS, Rng, planted};
use crate::db::{self, Db, Row};
use crate::stats::{histogram, lock};
use crate::sys;

#[derive(Args, Debug)]
pub struct StorageArgs {
    #[command(subcommand)]
    command: StorageCommand,
    /// Print each result as one JSON line too (prefixed `json: `).
    #[arg(long, global = true)]
    json: bool,
    /// The server's pid, for its CPU time.
    #[arg(long, global = true)]
    server_pid: Option<u32>,
    /// A label for the JSON lines (e.g. the backend).
    #[arg(long, global = true, default_value = "")]
    label: String,
    /// A note for the JSON lines (e.g. "after posting").
    #[arg(long, global = true, default_value = "")]
    note: String,
}

#[derive(Subcommand, Debug)]
enum StorageCommand {
    /// Fill a new room with messages (bulk SQL) and check it over HTTP.
    Seed {
        #[arg(long, default_value = "http://127.0.0.1:3300")]
        url: String,
        /// The server's database (sqlite://… or postgres://…).
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 1_000_000)]
        messages: u64,
        /// Accounts in the room (the messages' authors, round-robin).
        #[arg(long, default_value_t = 8)]
        members: usize,
        /// Seed of the message bodies.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write what the other commands need.
        #[arg(long)]
        state: PathBuf,
    },
    /// Pages of history: the newest, and before random numbers and times.
    History {
        #[arg(long)]
        state: PathBuf,
        /// Requests per kind of page (after the warm-up).
        #[arg(long, default_value_t = 2000)]
        requests: u64,
        #[arg(long, default_value_t = 200)]
        warmup: u64,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Web searches, one query at a time.
    Search {
        #[arg(long)]
        state: PathBuf,
        /// Queries to time (repeat the flag); the default set otherwise.
        #[arg(long = "query")]
        queries: Vec<String>,
        /// Requests per query (after the warm-up), unless `--max-secs` runs out.
        #[arg(long, default_value_t = 300)]
        requests: u64,
        #[arg(long, default_value_t = 10)]
        warmup: u64,
        #[arg(long, default_value_t = 30.0)]
        max_secs: f64,
        /// Search the seeded room only (`room_id=`), not all my rooms.
        #[arg(long)]
        in_room: bool,
    },
    /// Concurrent posters, each waiting for its ack before the next post.
    Post {
        #[arg(long)]
        state: PathBuf,
        #[arg(long, default_value_t = 64)]
        posters: usize,
        /// Rooms to spread the posters over (1, or as many as posters).
        #[arg(long, default_value_t = 1)]
        rooms: usize,
        /// Seconds measured (after the warm-up).
        #[arg(long, default_value_t = 20.0)]
        duration: f64,
        #[arg(long, default_value_t = 3.0)]
        warmup: f64,
    },
    /// The room list of the seeded room's first member, once they are in
    /// `--rooms` rooms (the others direct rooms of one unread message each),
    /// over HTTP beside the same store queries run in this process.
    Rooms {
        #[arg(long)]
        state: PathBuf,
        /// The server's database, for the extra rooms and the raw queries.
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 1000)]
        rooms: usize,
        #[arg(long, default_value_t = 500)]
        requests: u64,
        #[arg(long, default_value_t = 50)]
        warmup: u64,
    },
    /// Raw multi-row INSERTs into `messages` (no server).
    Insert {
        #[arg(long)]
        database: String,
        #[arg(long, default_value_t = 200_000)]
        rows: u64,
        /// Rows per INSERT statement.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        /// INSERT statements per transaction.
        #[arg(long, default_value_t = 1)]
        per_tx: usize,
    },
}

/// What `seed` leaves for the other commands.
#[derive(Serialize, Deserialize)]
struct State {
    url: String,
    room: i64,
    cookies: Vec<String>,
    messages: u64,
    first_at: String,
    last_at: String,
    seed: u64,
}

impl State {
    fn read(path: &PathBuf) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        serde_json::from_str(&text).map_err(|e| format!("reading {}: {e}", path.display()))
    }

    fn accounts(&self) -> Vec<Account> {
        self.cookies.iter().map(|c| Account { cookie: c.clone() }).collect()
    }
}

pub async fn run(args: StorageArgs) -> Result<(), String> {
    let out = Out { json: args.json, label: args.label.clone(), note: args.note.clone(), server_pid: args.server_pid };
    match args.command {
        StorageCommand::Seed { url, database, messages, members, seed, state } => {
            seed_cmd(&out, &url, &database, messages, members, seed, &state).await
        }
        StorageCommand::History { state, requests, warmup, limit } => {
            history(&out, &State::read(&state)?, requests, warmup, limit).await
        }
        StorageCommand::Search { state, queries, requests, warmup, max_secs, in_room } => {
            search(&out, &State::read(&state)?, queries, requests, warmup, max_secs, in_room).await
        }
        StorageCommand::Post { state, posters, rooms, duration, warmup } => {
            post(&out, &State::read(&state)?, posters, rooms, duration, warmup).await
        }
        StorageCommand::Rooms { state, database, rooms, requests, warmup } => {
            room_list(&out, &State::read(&state)?, &database, rooms, requests, warmup).await
        }
        StorageCommand::Insert { database, rows, batch, per_tx } => insert(&out, &database, rows, batch, per_tx).await,
    }
}

/// Where results go: stdout, and JSON lines with `--json`.
struct Out {
    json: bool,
    label: String,
    note: String,
    server_pid: Option<u32>,
}

impl Out {
    fn emit(&self, mut value: Value) {
        if self.json {
            value["label"] = json!(self.label);
            value["note"] = json!(self.note);
            println!("json: {value}");
        }
    }
}

/// CPU accounting over a measurement window.
struct Window {
    began: Instant,
    cpu: Duration,
    server: Option<Duration>,
    cores: Vec<(u64, u64)>,
    pid: Option<u32>,
}

impl Window {
    fn start(pid: Option<u32>) -> Self {
        Self {
            began: Instant::now(),
            cpu: sys::cpu_self(),
            server: pid.and_then(sys::cpu_of),
            cores: sys::core_jiffies(),
            pid,
        }
    }

    /// Seconds elapsed, and the CPU figures as text and JSON.
    fn finish(&self) -> (f64, String, Value) {
        let secs = self.began.elapsed().as_secs_f64();
        let gen_pct = 100.0 * (sys::cpu_self() - self.cpu).as_secs_f64() / secs;
        let server_pct = match (self.server, self.pid.and_then(sys::cpu_of)) {
            (Some(a), Some(b)) => Some(100.0 * (b - a).as_secs_f64() / secs),
            _ => None,
        };
        let cores = sys::core_busy_pct(&self.cores, &sys::core_jiffies());
        let text = format!(
            "generator {gen_pct:.0}%{} of a core; cores busy {}",
            server_pct.map(|p| format!(", server {p:.0}%")).unwrap_or_default(),
            cores.iter().enumerate().map(|(i, p)| format!("cpu{i} {p:.0}%")).collect::<Vec<_>>().join(", ")
        );
        (secs, text, json!({ "generator_cpu_pct": gen_pct, "server_cpu_pct": server_pct, "cores_busy_pct": cores }))
    }
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn quantiles(h: &Histogram<u64>) -> Value {
    let q = |p: f64| h.value_at_quantile(p) as f64 / 1000.0;
    json!({ "count": h.len(), "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": h.max() as f64 / 1000.0 })
}

fn summary(h: &Histogram<u64>) -> String {
    format!(
        "p50 {}  p90 {}  p99 {}  max {}",
        ms(h.value_at_quantile(0.5)),
        ms(h.value_at_quantile(0.9)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max())
    )
}

fn run_tag() -> String {
    format!("{:x}", db::now_micros() % 0xff_ffff)
}

async fn seed_cmd(
    out: &Out,
    url: &str,
    database: &str,
    messages: u64,
    members: usize,
    seed: u64,
    state_path: &PathBuf,
) -> Result<(), String> {
    let api = Api::new(url)?;
    let db = Db::connect(database).await?;
    let tag = run_tag();
    let t = Instant::now();
    let mut accounts = Vec::new();
    for i in 0..members.max(1) {
        accounts.push(api.register(&format!("s{tag}m{i}")).await?);
    }
    let room = api.create_room(&accounts[0], &format!("history {tag}")).await?;
    for account in &accounts[1..] {
        api.join(account, room).await?;
    }
    let authors = db.user_ids(&format!("s{tag}m")).await?;
    println!(
        "seed: {} accounts, room {room} ({:.1} s); {messages} messages into {}",
        authors.len(),
        t.elapsed().as_secs_f64(),
        db.name()
    );

    // Old enough that every seeded stamp is in the past (at most 70 s apart).
    let start_us = db::now_micros() - messages as i64 * 70_000_000 - 86_400_000_000;
    let t = Instant::now();
    let (first_at, last_at) = db::seed_room(&db, room, &authors, messages, seed, start_us).await?;
    let insert_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    db.vacuum_analyze().await?;
    let vacuum_secs = t.elapsed().as_secs_f64();
    println!(
        "seeded {messages} messages in {insert_secs:.0} s ({:.0} rows/s), {first_at} … {last_at}; VACUUM ANALYZE {vacuum_secs:.0} s",
        messages as f64 / insert_secs
    );

    let state = State {
        url: url.to_owned(),
        room,
        cookies: accounts.iter().map(|a| a.cookie.clone()).collect(),
        messages,
        first_at: first_at.clone(),
        last_at: last_at.clone(),
        seed,
    };
    verify(&api, &state).await?;
    let text = serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?;
    std::fs::write(state_path, text).map_err(|e| format!("writing {}: {e}", state_path.display()))?;
    out.emit(json!({
        "bench": "seed", "messages": messages, "insert_secs": insert_secs,
        "rows_per_sec": messages as f64 / insert_secs, "vacuum_secs": vacuum_secs,
    }));
    Ok(())
}

/// Checks the seeded room through the server: the newest page, a page deep
/// in history by number and by time, and a search for a planted word.
async fn verify(api: &Api, state: &State) -> Result<(), String> {
    let me = &state.accounts()[0];
    let n = state.messages as i64;
    let room = state.room;
    let numbers = |page: &Value| -> Vec<i64> {
        page["messages"].as_array().map(|m| m.iter().filter_map(|x| x["number"].as_i64()).collect()).unwrap_or_default()
    };
    let page = api.get_json(me, &format!("/conversations/{room}/messages?limit=50")).await?;
    let got = numbers(&page);
    let want: Vec<i64> = (n - 49..=n).collect();
    if got != want {
        return Err(format!("newest page: numbers {got:?}, expected {}..={n}", n - 49));
    }
    let deep = n / 2;
    let page = api.get_json(me, &format!("/conversations/{room}/messages?before_number={deep}&limit=50")).await?;
    if numbers(&page) != (deep - 50..deep).collect::<Vec<_>>() {
        return Err(format!("page before number {deep}: numbers {:?}", numbers(&page)));
    }
    let at = page["messages"][10]["created_at"].as_str().unwrap_or_default().to_owned();
    let at_number = page["messages"][10]["number"].as_i64().unwrap_or_default();
    let by_time = api.get_json(me, &format!("/conversations/{room}/messages?before={at}&limit=50")).await?;
    let got = numbers(&by_time);
    if got.last() != Some(&(at_number - 1)) || got.len() != 50 {
        return Err(format!("page before {at}: numbers {}..{:?}", got.first().unwrap_or(&0), got.last()));
    }
    println!(
        "check: newest page {}..={n}, before_number={deep} → {}..={}, before={at} → {}..={}, author {:?}",
        n - 49,
        deep - 50,
        deep - 1,
        got[0],
        got[49],
        page["messages"][0]["user"]["username"]
    );
    let marker = &MARKERS[0];
    let found = api.get_json(me, &format!("/search?q={}&limit=100", marker.word)).await?;
    let hits = found["results"].as_array().map(Vec::len).unwrap_or(0) as u64;
    let expected = planted(marker, state.messages);
    if hits != expected.min(100) {
        return Err(format!("search {:?}: {hits} hits, {expected} planted", marker.word));
    }
    println!(
        "check: search {:?} → {hits} hits ({expected} planted), newest #{} {:?}",
        marker.word, found["results"][0]["number"], found["results"][0]["body"]
    );
    Ok(())
}

async fn history(out: &Out, state: &State, requests: u64, warmup: u64, limit: u32) -> Result<(), String> {
    let api = Api::new(&state.url)?;
    let me = &state.accounts()[0];
    let room = state.room;
    let n = state.messages;
    let (t0, t1) = (
        db::parse_micros(&state.first_at).ok_or("bad first_at")?,
        db::parse_micros(&state.last_at).ok_or("bad last_at")?,
    );
    let mut rng = Rng::new(99);
    type PathFn<'a> = Box<dyn FnMut(&mut Rng) -> String + 'a>;
    let kinds: Vec<(&str, PathFn)> = vec![
        ("newest", Box::new(|_| format!("/conversations/{room}/messages?limit={limit}"))),
        (
            "before a random number",
            Box::new(|r| {
                format!(
                    "/conversations/{room}/messages?before_number={}&limit={limit}",
                    1 + limit as u64 + r.below(n - limit as u64)
                )
            }),
        ),
        (
            "around a random number",
            Box::new(|r| {
                format!(
                    "/conversations/{room}/messages?around={}&limit={limit}",
                    1 + limit as u64 + r.below(n - 2 * limit as u64)
                )
            }),
        ),
        (
            "before a random time",
            Box::new(|r| {
                let at = t0 + (r.unit() * (t1 - t0) as f64) as i64;
                format!("/conversations/{room}/messages?before={}&limit={limit}", db::format_micros(at))
            }),
        ),
    ];
    for (name, mut path) in kinds {
        for _ in 0..warmup {
            api.get_json(me, &path(&mut rng)).await?;
        }
        let mut h = histogram();
        let mut short = 0;
        let window = Window::start(out.server_pid);
        for _ in 0..requests {
            let p = path(&mut rng);
            let began = Instant::now();
            let bytes = api.get_bytes(me, &p).await?;
            h.saturating_record(began.elapsed().as_micros().max(1) as u64);
            // A page deep in history always has `limit` messages.
            if memchr::memmem::find(&bytes, format!("\"count\":{limit}").as_bytes()).is_none() {
                short += 1;
            }
        }
        let (secs, cpu, cpu_json) = window.finish();
        println!(
            "history, {name}: {} ({requests} requests, {:.0}/s, {short} short pages); {cpu}",
            summary(&h),
            requests as f64 / secs
        );
        out.emit(json!({
            "bench": "history", "kind": name, "latency_ms": quantiles(&h), "per_sec": requests as f64 / secs,
            "short_pages": short, "cpu": cpu_json,
        }));
    }
    Ok(())
}

async fn room_list(
    out: &Out,
    state: &State,
    database: &str,
    rooms: usize,
    requests: u64,
    warmup: u64,
) -> Result<(), String> {
    let api = Api::new(&state.url)?;
    let accounts = state.accounts();
    let (me, other) = (&accounts[0], accounts.get(1).ok_or("the seed needs two members")?);
    let id_of = |v: &Value| v["id"].as_i64().or_else(|| v["user"]["id"].as_i64()).ok_or("no id in /users/me");
    let my_id = id_of(&api.get_json(me, "/users/me").await?)?;
    let other_id = id_of(&api.get_json(other, "/users/me").await?)?;
    let listed = |v: &Value| v.as_array().or_else(|| v["conversations"].as_array()).map_or(0, Vec::len);
    let have = listed(&api.get_json(me, "/conversations").await?);
    let db = Db::connect(database).await?;
    let t = Instant::now();
    let tag = run_tag();
    for i in have..rooms {
        db.add_small_room(my_id, other_id, &format!("small {tag} {i}")).await?;
    }
    db.vacuum_analyze().await?;
    let list = api.get_json(me, "/conversations").await?;
    let count = listed(&list);
    let conversations = list.as_array().or_else(|| list["conversations"].as_array()).cloned().unwrap_or_default();
    let unread: i64 = conversations.iter().filter_map(|c| c["unread_count"].as_i64()).sum();
    println!(
        "rooms: {count} rooms for the first member ({} added in {:.1} s), {unread} unread in all",
        rooms.saturating_sub(have),
        t.elapsed().as_secs_f64()
    );
    if count < rooms {
        return Err(format!("the list has {count} rooms, not {rooms}"));
    }

    for _ in 0..warmup {
        api.get_bytes(me, "/conversations").await?;
    }
    let mut http = histogram();
    let window = Window::start(out.server_pid);
    for _ in 0..requests {
        let began = Instant::now();
        api.get_bytes(me, "/conversations").await?;
        http.saturating_record(began.elapsed().as_micros().max(1) as u64);
    }
    let (secs, cpu, cpu_json) = window.finish();

    // The list after each change: another member posts into the seeded room
    // (untimed) before every request, so no answer is the one kept.
    let mut changed = histogram();
    for i in 0..requests.min(200) {
        api.post(other, state.room, "moving the room list", &format!("rooms-{tag}-{i}")).await?;
        let began = Instant::now();
        api.get_bytes(me, "/conversations").await?;
        changed.saturating_record(began.elapsed().as_micros().max(1) as u64);
    }

    // The query the list makes, from this process.
    let store = hearth::store::Store::connect(database).await.map_err(|e| format!("opening the store: {e}"))?;
    let user = hearth::model::UserId(my_id);
    let mut raw = histogram();
    for i in 0..warmup + requests {
        let began = Instant::now();
        store.room_list(user, false).await.map_err(|e| e.to_string())?;
        if i >= warmup {
            raw.saturating_record(began.elapsed().as_micros().max(1) as u64);
        }
    }
    println!(
        "room list of {count} rooms ({unread} unread): HTTP {} ({:.0}/s); after a message each time {}; raw queries {}; {cpu}",
        summary(&http),
        requests as f64 / secs,
        summary(&changed),
        summary(&raw)
    );
    out.emit(json!({
        "bench": "rooms", "rooms": count, "unread": unread, "latency_ms": quantiles(&http),
        "changed_ms": quantiles(&changed), "raw_ms": quantiles(&raw), "per_sec": requests as f64 / secs,
        "cpu": cpu_json,
    }));
    Ok(())
}

/// The default queries: rare, common, very common, nothing (with common
/// trigrams and with rare ones), two characters, and non-ASCII; then two
/// words that are common together, and a very common word beside a rare
/// one (each word is matched on its own).
const DEFAULT_QUERIES: &[&str] =
    &["zanzibarite", "meeting", "the", "thethe", "qxzjv", "ok", "квазар", "größer", "meeting the", "the zanzibarite"];

async fn search(
    out: &Out,
    state: &State,
    queries: Vec<String>,
    requests: u64,
    warmup: u64,
    max_secs: f64,
    in_room: bool,
) -> Result<(), String> {
    let api = Api::new(&state.url)?;
    let me = &state.accounts()[0];
    let queries: Vec<String> =
        if queries.is_empty() { DEFAULT_QUERIES.iter().map(|q| (*q).to_owned()).collect() } else { queries };
    // Every seeded body, lower-cased, to check each answer against: the
    // newest 20 numbers whose body contains the query.
    let corpus = Corpus::new();
    let folded: Vec<String> = (0..state.messages).map(|i| corpus.body(state.seed, i).to_lowercase()).collect();
    for q in &queries {
        let scope = if in_room { format!("&room_id={}", state.room) } else { String::new() };
        let path = format!("/search?q={}{scope}", encode(q));
        let first = api.get_json(me, &path).await?;
        let hits = first["results"].as_array().map(Vec::len).unwrap_or(0);
        let partial = first["partial"].as_bool().unwrap_or(false);
        let text = hearth::search::SearchText::parse("q", q).map_err(|e| e.message)?;
        let expected: Vec<i64> =
            (0..folded.len()).rev().filter(|&i| text.matches(&folded[i])).take(20).map(|i| i as i64 + 1).collect();
        let got: Vec<i64> = first["results"]
            .as_array()
            .map(|r| r.iter().filter_map(|h| h["number"].as_i64()).collect())
            .unwrap_or_default();
        let checked = got == expected;
        if !checked {
            println!(
                "  search {q:?}: the answer differs from the corpus's newest matches: got {got:?}, expected {expected:?}"
            );
        }
        for _ in 0..warmup {
            api.get_bytes(me, &path).await?;
        }
        let mut h = histogram();
        let window = Window::start(out.server_pid);
        let deadline = Instant::now() + Duration::from_secs_f64(max_secs);
        let mut done = 0;
        while done < requests && Instant::now() < deadline {
            let began = Instant::now();
            api.get_bytes(me, &path).await?;
            h.saturating_record(began.elapsed().as_micros().max(1) as u64);
            done += 1;
        }
        let (secs, cpu, cpu_json) = window.finish();
        println!(
            "search {q:?}{}: {hits} hits{}{}: {} ({done} requests, {:.0}/s); {cpu}",
            if in_room { " in the seeded room" } else { "" },
            if partial { " (partial)" } else { "" },
            if checked { ", as the corpus says" } else { ", NOT as the corpus says" },
            summary(&h),
            done as f64 / secs
        );
        out.emit(json!({
            "bench": "search", "query": q, "in_room": in_room, "hits": hits, "partial": partial, "checked": checked, "latency_ms": quantiles(&h),
            "per_sec": done as f64 / secs, "cpu": cpu_json,
        }));
    }
    Ok(())
}

/// Percent-encodes a query-string value (everything but unreserved ASCII).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn post(
    out: &Out,
    state: &State,
    posters: usize,
    rooms: usize,
    duration: f64,
    warmup: f64,
) -> Result<(), String> {
    let api = Api::new(&state.url)?;
    let accounts = state.accounts();
    let tag = run_tag();
    let rooms = rooms.clamp(1, posters.max(1));
    // Open rooms: each owned by one account; in a shared room everyone joins.
    let mut room_ids = Vec::with_capacity(rooms);
    for r in 0..rooms {
        let owner = &accounts[r % accounts.len()];
        let id = api.create_room(owner, &format!("post {tag} {r}")).await?;
        if rooms == 1 {
            for account in &accounts[1..] {
                api.join(account, id).await?;
            }
        }
        room_ids.push(id);
    }
    let corpus = Arc::new(Corpus::new());
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let hist = Arc::new(std::sync::Mutex::new(histogram()));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let mut tasks = Vec::new();
    for p in 0..posters {
        // Poster p posts as the owner of its room (rooms > 1) or as any member.
        let (room, account) = if rooms == 1 {
            (room_ids[0], accounts[p % accounts.len()].clone())
        } else {
            (room_ids[p % rooms], accounts[(p % rooms) % accounts.len()].clone())
        };
        let (api, corpus, stop, measuring, acked, errors, hist, first_error, tag) = (
            api.clone(),
            corpus.clone(),
            stop.clone(),
            measuring.clone(),
            acked.clone(),
            errors.clone(),
            hist.clone(),
            first_error.clone(),
            tag.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body = corpus.body(7 + p as u64, i);
                let client_id = format!("p{tag}-{p}-{i}");
                let began = Instant::now();
                let result = api.post(&account, room, &body, &client_id).await;
                let us = began.elapsed().as_micros().max(1) as u64;
                let counted = measuring.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed);
                match result {
                    Ok(()) if counted => {
                        acked.fetch_add(1, Ordering::Relaxed);
                        lock(&hist).saturating_record(us);
                    }
                    Ok(()) => {}
                    Err(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        lock(&first_error).get_or_insert(e);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(warmup)).await;
    let window = Window::start(out.server_pid);
    measuring.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_secs_f64(duration)).await;
    stop.store(true, Ordering::Relaxed);
    let count = acked.load(Ordering::Relaxed);
    let (secs, cpu, cpu_json) = window.finish();
    for task in tasks {
        let _ = task.await;
    }
    let h = lock(&hist).clone();
    let rate = count as f64 / secs;
    println!(
        "post, {posters} posters to {rooms} room{}: {rate:.0} acked messages/s ({count} in {secs:.1} s, {} errors); POST {}; {cpu}",
        if rooms == 1 { "" } else { "s" },
        errors.load(Ordering::Relaxed),
        summary(&h),
    );
    if let Some(e) = lock(&first_error).as_ref() {
        println!("  first error: {e}");
    }
    out.emit(json!({
        "bench": "post", "posters": posters, "rooms": rooms, "per_sec": rate, "acked": count,
        "errors": errors.load(Ordering::Relaxed), "latency_ms": quantiles(&h), "cpu": cpu_json,
    }));
    Ok(())
}

async fn insert(out: &Out, database: &str, rows: u64, batch: usize, per_tx: usize) -> Result<(), String> {
    let db = Db::connect(database).await?;
    let room = db.create_bare_room("raw insert").await?;
    let author = db.user_ids("").await?.first().copied();
    let corpus = Corpus::new();
    let mut at = db::now_micros();
    let data: Vec<Row> = (0..rows)
        .map(|i| {
            at += 1;
            Row { number: i as i64 + 1, user_id: author, body: corpus.body(3, i), created_at: db::format_micros(at) }
        })
        .collect();
    let window = Window::start(out.server_pid);
    db.insert_rows(room, &data, batch.max(1), per_tx.max(1), false).await?;
    let (secs, cpu, cpu_json) = window.finish();
    let rate = rows as f64 / secs;
    let tx = rows.div_ceil((batch * per_tx).max(1) as u64);
    println!(
        "raw INSERT on {}: {rows} rows in {secs:.2} s = {rate:.0} rows/s ({batch} rows per INSERT, {tx} transactions, {:.0}/s); {cpu}",
        db.name(),
        tx as f64 / secs
    );
    // Leave the room consistent with its rows.
    if let Some(last) = data.last() {
        db.set_counters(room, rows as i64, &last.created_at).await?;
    }
    out.emit(json!({
        "bench": "insert", "rows": rows, "batch": batch, "per_tx": per_tx, "rows_per_sec": rate,
        "tx_per_sec": tx as f64 / secs, "cpu": cpu_json,
    }));
    Ok(())
}
