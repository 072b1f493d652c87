//! Unread counts come from counters the write transactions keep
//! (`rooms.messages_count - own_count - read_others`), not from counting
//! rows. After every step of a random run of sends (alone and in batches),
//! deletes, read markers moving both ways, and a member leaving and coming
//! back, each member's count — from `unread_count` and from the room list —
//! equals the count by definition: the live messages of others after their
//! marker; and where the unread begins (`first_unread`, where a room opens)
//! is the first of those. On SQLite, and on Postgres when `HEARTH_TEST_POSTGRES_URL` is set.

use hearth::model::{RoomId, RoomKind, UserId};
use hearth::store::{Backend, Backlog, NewMessage, NewUserRow, Store};
use hearth::testing::BlankPostgres;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::Connection;

const STEPS: usize = 300;

/// The unread count by definition, straight from the rows, and the first
/// of those messages.
async fn counted(url: &str, room: RoomId, user: UserId) -> (i64, Option<i64>) {
    let sql = "SELECT count(*), min(m.number) FROM messages m
               JOIN memberships mb ON mb.room_id = m.room_id AND mb.user_id = $2
               WHERE m.room_id = $1 AND m.number > mb.last_read_number AND m.deleted_at IS NULL
                 AND m.user_id IS DISTINCT FROM mb.user_id";
    macro_rules! count {
        ($conn:expr) => {{
            let mut conn = $conn;
            let row: (i64, Option<i64>) =
                sqlx::query_as(sql).bind(room.0).bind(user.0).fetch_one(&mut conn).await.expect("count");
            conn.close().await.expect("close");
            row
        }};
    }
    match Backend::of_url(url).expect("scheme") {
        Backend::Sqlite => count!(sqlx::SqliteConnection::connect(url).await.expect("connect")),
        Backend::Postgres => count!(sqlx::PgConnection::connect(url).await.expect("connect")),
    }
}

async fn run(url: &str, seed: u64) {
    let store = Store::connect(url).await.expect("store opens");
    store.migrate().await.expect("migrates");
    let mut users = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let user = store
            .insert_user(NewUserRow {
                email: &format!("{name}@example.com"),
                username: name,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
                name: None,
            })
            .await
            .expect("user");
        users.push(user.id);
    }
    let room = store.create_room(RoomKind::Group, Some("Counted"), users[0], &users).await.expect("room");
    let mut members = vec![true; users.len()];
    let mut rng = StdRng::seed_from_u64(seed);

    for step in 0..STEPS {
        let last = store.room(room).await.expect("room").expect("exists").last_number;
        let who = rng.random_range(0..users.len());
        let action = rng.random_range(0..10);
        match action {
            // One message, or a batch of several from several authors.
            0..=3 if members[who] => {
                store.insert_message(room, Some(users[who]), None, &format!("step {step}"), None).await.expect("send");
            }
            4 => {
                let batch: Vec<NewMessage> = (0..rng.random_range(1..6))
                    .filter_map(|i| {
                        let author = rng.random_range(0..users.len());
                        members[author].then(|| NewMessage {
                            room,
                            author: Some(users[author]),
                            application: None,
                            body: format!("batch {step}.{i}"),
                            client_id: None,
                            reply_to: None,
                            mentions: Vec::new(),
                            attachments: Vec::new(),
                            push_delay: None,
                        })
                    })
                    .collect();
                store.append_messages(&batch).await.expect("batch");
            }
            5 | 6 if last > 0 => {
                let number = rng.random_range(1..=last);
                store.delete_message(room, number).await.expect("delete");
            }
            7 | 8 if members[who] => {
                // Forward or (clamped to where it was) backward.
                store.mark_read(room, users[who], rng.random_range(0..=last + 2)).await.expect("mark read");
            }
            9 if who == 2 => {
                if members[who] {
                    store.remove_member(room, users[who], None).await.expect("leave");
                } else {
                    // Caught up, or with the newest unread (a new account's default rooms).
                    let backlog = if step % 2 == 0 { Backlog::Read } else { Backlog::NewestUnread };
                    store.add_members(room, &[users[who]], backlog).await.expect("rejoin");
                }
                members[who] = !members[who];
            }
            _ => {}
        }
        for (i, user) in users.iter().enumerate().filter(|(i, _)| members[*i]) {
            let (expected, first) = counted(url, room, *user).await;
            let got = store.unread_count(room, *user).await.expect("unread");
            let first_unread = store.first_unread(room, *user).await.expect("first unread");
            assert_eq!(first_unread, first, "seed {seed}, step {step} (action {action}), user {i}: first_unread");
            assert_eq!(got, expected, "seed {seed}, step {step} (action {action}), user {i}: unread_count");
            let listed = store.rooms_of(*user).await.expect("rooms");
            let listed = listed.iter().find(|r| r.room.id == room).expect("the room is listed").unread_count;
            assert_eq!(listed, expected, "seed {seed}, step {step}, user {i}: the room list's count");
        }
    }
}

#[tokio::test]
async fn on_sqlite_unread_counters_equal_the_count_by_definition_after_every_step() {
    for seed in [1, 2] {
        let dir = tempfile::tempdir().expect("temp dir");
        run(&format!("sqlite://{}", dir.path().join("unread.db").display()), seed).await;
    }
}

#[tokio::test]
async fn on_postgres_unread_counters_equal_the_count_by_definition_after_every_step() {
    let Some(database) = BlankPostgres::create("unread").await else { return };
    run(&database.url, 3).await;
    database.drop_now().await;
}
