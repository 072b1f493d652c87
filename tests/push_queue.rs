//! The push queue's claims (`Store::claim_push_jobs`), on the run's backend
//! (`HEARTH_TEST_BACKEND`): two instances claiming at once never take the
//! same job, a lease that ran out is taken over, and only the lease's
//! holder marks a job done.

use std::collections::BTreeSet;

use hearth::model::RoomId;
use hearth::store::{Store, format_time, now};
use hearth::testing::fresh_database_url;

fn in_secs(secs: i64) -> String {
    format_time(time::OffsetDateTime::now_utc() + time::Duration::seconds(secs))
}

async fn store_at(url: &str) -> Store {
    let store = Store::connect(url).await.expect("store opens");
    store.migrate().await.expect("migrates");
    store
}

/// Claims batches of `limit` until none is left; returns what it took.
async fn drain(store: Store, token: &'static str, limit: i64) -> Vec<i64> {
    let mut taken = Vec::new();
    loop {
        let jobs = store.claim_push_jobs(token, &now(), &in_secs(300), limit).await.expect("claims");
        if jobs.is_empty() {
            return taken;
        }
        for job in jobs {
            assert!(store.finish_push_job(job.id, token).await.expect("finishes"), "the holder finishes it");
            taken.push(job.id);
        }
    }
}

#[tokio::test]
async fn two_instances_claiming_at_once_never_take_the_same_job() {
    // Arrange: two stores (two pools, as two instances) on one database.
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fresh_database_url(dir.path()).await;
    let (one, two) = (store_at(&url).await, store_at(&url).await);
    let mut queued = BTreeSet::new();
    for number in 1..=60 {
        queued.insert(one.queue_push_job("message", RoomId(1), number, None, &in_secs(-1)).await.expect("queued"));
    }
    let later = one.queue_push_job("message", RoomId(1), 61, None, &in_secs(3600)).await.expect("queued");

    // Act
    let (a, b) = tokio::join!(
        tokio::spawn(drain(one.clone(), "instance-a", 7)),
        tokio::spawn(drain(two.clone(), "instance-b", 5))
    );
    let (a, b) = (a.expect("joins"), b.expect("joins"));

    // Assert
    let (a_set, b_set): (BTreeSet<i64>, BTreeSet<i64>) = (a.iter().copied().collect(), b.iter().copied().collect());
    assert_eq!(a_set.len() + b_set.len(), 60, "no job taken twice: {a:?} {b:?}");
    assert!(a_set.is_disjoint(&b_set));
    assert_eq!(a_set.union(&b_set).copied().collect::<BTreeSet<_>>(), queued, "every due job taken");
    let left = one.claim_push_jobs("instance-a", &now(), &in_secs(300), 100).await.expect("claims");
    assert!(left.is_empty(), "the job due in an hour waits: {left:?}");
    assert!(!one.finish_push_job(later, "instance-a").await.expect("runs"), "nobody holds it");
}

#[tokio::test]
async fn a_lease_that_ran_out_is_taken_over_and_only_its_new_holder_finishes_the_job() {
    // Arrange
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store_at(&fresh_database_url(dir.path()).await).await;
    let id = store.queue_push_job("close", RoomId(3), 9, None, &in_secs(-1)).await.expect("queued");
    let first = store.claim_push_jobs("died", &now(), &in_secs(2), 10).await.expect("claims");

    // Act
    let while_held = store.claim_push_jobs("other", &now(), &in_secs(300), 10).await.expect("claims");
    let after = store.claim_push_jobs("other", &in_secs(3), &in_secs(300), 10).await.expect("claims");

    // Assert
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    assert_eq!(first[0].kind, "close");
    assert!(while_held.is_empty(), "a live lease is not taken");
    assert_eq!(after.iter().map(|j| j.id).collect::<Vec<_>>(), [id], "taken over once the lease ran out");
    assert!(!store.finish_push_job(id, "died").await.expect("runs"), "the old holder no longer finishes it");
    assert!(store.finish_push_job(id, "other").await.expect("runs"));
    assert!(!store.finish_push_job(id, "other").await.expect("runs"), "done once");
}
