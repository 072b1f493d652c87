//! Store-level ingest (issue 13): Hearth's core, in this process, with no
//! HTTP: 64 tasks post through `Hearth::post_message` (membership check,
//! validation, the group-commit writer, publish) for a while, then the same
//! number of the same rows go into the same schema as raw batched `INSERT`s
//! of 256 rows per statement and transaction (the writer's largest batch),
//! spread over as many rooms of their own as the tasks posted to, row by row
//! in turn as the tasks' rows were (so 64 rooms' rows touch 64 rooms' index
//! pages in both). Both on one database, in one run:
//!
//!   store-ingest --database sqlite:///tmp/x.db --rooms 1 --duration 10
//!   store-ingest --database postgres://postgres@127.0.0.1:5432/bench …
//!
//! The database must be fresh (a new SQLite file, an empty Postgres
//! database): it is migrated and given its own users and rooms.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use hearth::model::{RoomId, RoomKind, UserId};
use hearth::store::{NewUserRow, Store};
use hearth::{Hearth, Settings};

#[derive(Parser)]
struct Args {
    /// A fresh database: `sqlite://…` (created) or `postgres://…` (must exist, empty).
    #[arg(long)]
    database: String,
    /// Concurrent posting tasks.
    #[arg(long, default_value_t = 64)]
    tasks: usize,
    /// Rooms the tasks post to (task i posts to room i % rooms).
    #[arg(long, default_value_t = 1)]
    rooms: usize,
    /// Seconds of posting.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Rows per raw INSERT statement and transaction.
    #[arg(long, default_value_t = 256)]
    batch: usize,
    /// Message writers on Postgres (`HEARTH_POSTGRES_WRITERS`).
    #[arg(long, default_value_t = hearth::POSTGRES_WRITERS)]
    postgres_writers: usize,
    /// Print one JSON line as well.
    #[arg(long)]
    json: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let store = Store::open(&args.database).await.unwrap_or_else(|e| panic!("{e}"));
    let mut users = Vec::new();
    for i in 0..args.tasks {
        let user = store
            .insert_user(NewUserRow {
                email: &format!("poster{i}@bench.invalid"),
                username: &format!("poster{i}"),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                name: Some(&format!("Poster {i}")),
            })
            .await
            .expect("a user")
            .id;
        users.push(user);
    }
    let mut rooms = Vec::new();
    for r in 0..args.rooms.max(1) {
        let room =
            store.create_room(RoomKind::Open, Some(&format!("bench {r}")), users[0], &users).await.expect("room");
        rooms.push(room);
    }
    // No per-user message limit: the bench posts as fast as the core takes.
    let hearth = Hearth::new(
        store.clone(),
        Settings { messages_per_minute: 0, postgres_writers: args.postgres_writers, ..Settings::default() },
    );

    // Through the core, as every adapter posts.
    let stop = Arc::new(AtomicBool::new(false));
    let posted = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.tasks)
        .map(|i| {
            let (hearth, stop, posted) = (hearth.clone(), stop.clone(), posted.clone());
            let (user, room) = (users[i], rooms[i % rooms.len()]);
            tokio::spawn(async move {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let body = format!("poster {i} says hello for the {n}th time");
                    let client_id = format!("t{i}-{n}");
                    hearth.post_message(user, room, &body, Some(&client_id)).await.expect("posted");
                    posted.fetch_add(1, Ordering::Relaxed);
                    n += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.expect("a poster");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let count = posted.load(Ordering::Relaxed);
    let core_rate = count as f64 / elapsed;

    // The same number of rows, raw, into as many rooms of their own.
    let mut raw_rooms = Vec::new();
    for r in 0..rooms.len() {
        raw_rooms
            .push(store.create_room(RoomKind::Open, Some(&format!("raw {r}")), users[0], &users).await.expect("room"));
    }
    let raw_rate = raw_insert(&args.database, &raw_rooms, &users, count as usize, args.batch).await;

    let backend = format!("{:?}", store.backend()).to_lowercase();
    println!(
        "store-ingest {backend}: {} tasks to {} room(s): {core_rate:.0} messages/s through Hearth::post_message \
         ({count} in {elapsed:.1} s); raw INSERT of {count} rows, {} per statement: {raw_rate:.0} rows/s; \
         ratio {:.0}%",
        args.tasks,
        rooms.len(),
        args.batch,
        100.0 * core_rate / raw_rate
    );
    if args.json {
        println!(
            "json: {}",
            serde_json::json!({
                "bench": "store-ingest", "backend": backend, "tasks": args.tasks, "rooms": rooms.len(),
                "core_per_sec": core_rate, "raw_per_sec": raw_rate, "raw_batch": args.batch, "messages": count,
            })
        );
    }
}

/// `count` rows in statements of `batch` rows, each its own transaction, as
/// fast as one connection of its own can, row `n` into `rooms[n % rooms.len()]`
/// with that room's next number; rows per second.
async fn raw_insert(url: &str, rooms: &[RoomId], users: &[UserId], count: usize, batch: usize) -> f64 {
    use sqlx::Connection;
    enum Conn {
        Sqlite(sqlx::SqliteConnection),
        Postgres(sqlx::PgConnection),
    }
    let mut conn = if url.starts_with("postgres") {
        Conn::Postgres(sqlx::PgConnection::connect(url).await.expect("connect"))
    } else {
        Conn::Sqlite(sqlx::SqliteConnection::connect(url).await.expect("connect"))
    };
    macro_rules! insert {
        ($conn:expr, $sql:expr, $rows:expr) => {{
            let mut tx = $conn.begin().await.expect("begin");
            let mut query = sqlx::query($sql);
            for (room, number, user, body, client_id, at) in $rows {
                query = query
                    .bind(*room)
                    .bind(*number)
                    .bind(*user)
                    .bind(body.as_str())
                    .bind(client_id.as_str())
                    .bind(at.as_str());
            }
            query.execute(&mut *tx).await.expect("raw insert");
            tx.commit().await.expect("commit");
        }};
    }
    let started = Instant::now();
    let mut number = 0usize;
    while number < count {
        let rows = batch.min(count - number);
        let values: Vec<String> = (0..rows)
            .map(|r| {
                let base = r * 6;
                format!("(${}, ${}, ${}, ${}, ${}, ${})", base + 1, base + 2, base + 3, base + 4, base + 5, base + 6)
            })
            .collect();
        let sql = format!(
            "INSERT INTO messages (room_id, number, user_id, body, client_id, created_at) VALUES {}",
            values.join(", ")
        );
        let rows: Vec<(i64, i64, i64, String, String, String)> = (0..rows)
            .map(|r| {
                let n = number + r;
                let (room, in_room) = (rooms[n % rooms.len()], n / rooms.len() + 1);
                let user = users[n % users.len()];
                let at = format!("2026-01-01T00:00:00.{:06}Z", in_room % 1_000_000);
                (
                    room.0,
                    in_room as i64,
                    user.0,
                    format!("poster {n} says hello for the {n}th time"),
                    format!("raw-{n}"),
                    at,
                )
            })
            .collect();
        match &mut conn {
            Conn::Sqlite(c) => insert!(c, &sql, &rows),
            Conn::Postgres(c) => insert!(c, &sql, &rows),
        }
        number += rows.len();
    }
    count as f64 / started.elapsed().as_secs_f64()
}
