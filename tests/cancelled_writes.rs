//! A write dropped part-way (a request whose client went away) leaves the
//! writer's connection usable: the next write succeeds. On SQLite every
//! write shares one connection, so a transaction left open there would fail
//! every write after it until a restart.

use std::time::Duration;

use hearth::store::{NewUserRow, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_writes_dropped_at_any_point_leave_the_writer_usable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("cancelled.db").display());
    let store = Store::connect(&url).await.expect("store opens");
    store.migrate().await.expect("migrates");
    let user = |n: usize| {
        (format!("u{n}@example.com"), format!("u{n}"), "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned())
    };
    // Each write is given a microsecond longer than the last (0 to 400 µs,
    // over and over) before it is dropped, so some are dropped before,
    // during and after its BEGIN. Without the fix in `begin_write` this
    // failed in 5 runs of 5; with it, 3,000 take about a second.
    for n in 0..3000 {
        let (email, username, hash) = user(n);
        let row = NewUserRow { email: &email, username: &username, password_hash: &hash, name: None };
        let _ = tokio::time::timeout(Duration::from_micros(n as u64 % 400), store.insert_user(row)).await;
    }
    for n in 3000..3003 {
        let (email, username, hash) = user(n);
        let row = NewUserRow { email: &email, username: &username, password_hash: &hash, name: None };
        store.insert_user(row).await.unwrap_or_else(|e| panic!("a write after the dropped ones failed: {e:?}"));
    }
}
