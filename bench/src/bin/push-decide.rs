//! Web Push's cost per message (issue 17), in process, with no HTTP: a room
//! of `--members` members, `--subscribed` of whom have a push subscription
//! (real P-256 keys), with a mix of levels, mentions, read markers and open
//! tabs. For each of `--messages` messages it times what the push worker does
//! when the message's job is due: the one query (`Store::push_candidates`)
//! and the rule (`push_queue::decide`), then the record of who is pushed
//! (`Store::record_pushes`). Then it counts payload encryptions (RFC 8291)
//! and VAPID signatures per second on one core.
//!
//!   push-decide --database sqlite:///tmp/push.db
//!   push-decide --database postgres://postgres@127.0.0.1:5432/bench
//!
//! The database must be fresh (a new SQLite file, an empty Postgres database).

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clap::Parser;
use hearth::model::{RoomId, RoomKind, UserId};
use hearth::push::{Vapid, encrypt};
use hearth::push_queue::{Payload, decide};
use hearth::store::{NewMessage, NewUserRow, Store, format_time, now};
use ring::agreement::{ECDH_P256, EphemeralPrivateKey};

#[derive(Parser)]
struct Args {
    /// A fresh database: `sqlite://…` (created) or `postgres://…` (must exist, empty).
    #[arg(long)]
    database: String,
    #[arg(long, default_value_t = 1000)]
    members: usize,
    #[arg(long, default_value_t = 100)]
    subscribed: usize,
    /// Messages decided (each timed).
    #[arg(long, default_value_t = 300)]
    messages: usize,
    /// Seconds of encrypting (and of signing).
    #[arg(long, default_value_t = 3)]
    seconds: u64,
}

#[path = "../timing.rs"]
mod timing;
use timing::summary;

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let store = Store::open(&args.database).await.unwrap_or_else(|e| panic!("{e}"));
    let mut users: Vec<UserId> = Vec::with_capacity(args.members);
    for i in 0..args.members {
        let row = NewUserRow {
            email: &format!("member{i}@bench.invalid"),
            username: &format!("member{i}"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
            name: Some(&format!("Member {i}")),
        };
        users.push(store.insert_user(row).await.expect("a user").id);
    }
    let room = store.create_room(RoomKind::Group, Some("Everyone"), users[0], &users).await.expect("room");
    // Subscribers are spread over the members; a third of them want
    // everything, a tenth nothing, the rest the group's default (mentions).
    let rng = ring::rand::SystemRandom::new();
    let step = (args.members / args.subscribed.max(1)).max(1);
    let subscribers: Vec<UserId> = users[1..].iter().copied().step_by(step).take(args.subscribed).collect();
    let mut keys = Vec::new();
    for (i, user) in subscribers.iter().enumerate() {
        let private = EphemeralPrivateKey::generate(&ECDH_P256, &rng).expect("a key pair");
        let p256dh = private.compute_public_key().expect("public").as_ref().to_vec();
        let auth = [i as u8; 16];
        let endpoint = format!("https://push.bench.invalid/{i}");
        store
            .save_push_subscription(
                *user,
                None,
                &endpoint,
                &URL_SAFE_NO_PAD.encode(&p256dh),
                &URL_SAFE_NO_PAD.encode(auth),
            )
            .await
            .expect("a subscription");
        keys.push((p256dh, auth));
        let level = match i % 10 {
            0 => Some("nothing"),
            1..=3 => Some("everything"),
            _ => None,
        };
        store.set_notify_level(room, *user, level).await.expect("a level");
        if i % 7 == 0 {
            let until = format_time(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
            store.set_viewing("bench", i as i64, *user, Some(room), &until).await.expect("a tab");
        }
    }
    // The messages, each mentioning a few subscribers, by a member who is
    // not one of them.
    let author = users[0];
    let mut batch = Vec::new();
    for n in 0..args.messages {
        let mentions: Vec<UserId> = subscribers.iter().copied().skip(n % 5).step_by(9).collect();
        batch.push(NewMessage {
            room,
            author: Some(author),
            application: None,
            body: format!("message {n}: a line of text about the launch, with @mentions of some people"),
            client_id: None,
            reply_to: None,
            mentions,
            attachments: Vec::new(),
            push_delay: None,
        });
    }
    for chunk in batch.chunks(100) {
        store.append_messages(chunk).await.expect("messages");
    }
    // A few read markers: some members have read half of them.
    for user in subscribers.iter().step_by(4) {
        store.mark_read(room, *user, (args.messages / 2) as i64).await.expect("read");
    }

    let (mut decide_times, mut record_times, mut chosen_total) = (Vec::new(), Vec::new(), 0usize);
    for number in 1..=args.messages as i64 {
        let started = Instant::now();
        let candidates = store.push_candidates(RoomId(room.0), number, Some(author), &now()).await.expect("candidates");
        let chosen = decide(&candidates, number);
        decide_times.push(started.elapsed());
        let started = Instant::now();
        let pushed = store.record_pushes(room, number, &chosen).await.expect("recorded");
        record_times.push(started.elapsed());
        chosen_total += pushed.len();
    }
    println!(
        "room of {} members, {} subscribed; {} messages; {:.1} devices pushed per message on average",
        args.members,
        subscribers.len(),
        args.messages,
        chosen_total as f64 / args.messages as f64
    );
    summary("decide (one query + the rule)", decide_times);
    summary("record who is pushed (one statement)", record_times);

    let payload = serde_json::to_vec(&Payload::message(
        room,
        1,
        "Member 0",
        Some("Everyone"),
        &"a message of some length about the launch ".repeat(5),
    ))
    .expect("json");
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let mut encrypted = 0u64;
    while Instant::now() < until {
        let (p256dh, auth) = &keys[encrypted as usize % keys.len()];
        std::hint::black_box(encrypt(&payload, p256dh, auth).expect("encrypts"));
        encrypted += 1;
    }
    println!(
        "encryptions: {:.0}/s on one core ({}-byte payload)",
        encrypted as f64 / args.seconds as f64,
        payload.len()
    );
    let vapid = Vapid::generate().expect("a key");
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let mut signed = 0u64;
    while Instant::now() < until {
        std::hint::black_box(
            vapid.authorization("https://push.bench.invalid", 1_900_000_000, "mailto:a@b.c").expect("signs"),
        );
        signed += 1;
    }
    println!("VAPID signatures: {:.0}/s on one core", signed as f64 / args.seconds as f64);
}
