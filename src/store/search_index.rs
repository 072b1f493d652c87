//! SQLite's search index (FTS5's trigram table), filled beside the message
//! writer rather than in each message's commit.
//!
//! A trigger used to index every new message in its own commit, so each
//! batch also rewrote the index's pages and began a new FTS5 segment. With
//! no index at all, 64 posters over HTTP went from 10,400–10,700 to
//! 14,000–14,200 acked messages/s into one room. Indexed here in chunks of
//! 256, posting the corpus's varied sentences went from 8,800–11,400 to
//! 11,600–12,400/s into one room and from 5,400–7,800 to 7,800–8,500/s into
//! 64; one short body repeated (`wrk`) showed no difference either way
//! (docs/benchmarks.md, 2026-12-06).
//!
//! So `messages_fts_progress.through` marks the highest message id
//! indexed (migration 0017), and new messages are indexed in chunks of
//! [`CHUNK`], each one transaction on the writer's connection, by a task of
//! the store's own ([`SearchIndexer`]): once the writer has been quiet for
//! [`QUIET`], or sooner when a chunk's worth waits. Every search matches
//! what still waits itself, on a reader, by the same rule as the index
//! (`Store::search_unindexed`), or, when more than [`UNINDEXED_MAX`] wait,
//! indexes them first ([`Store::search_index_left_unindexed`]), so it finds
//! every message committed before it began, as before, without queueing
//! behind the writer's batches. Nothing is lost if the process stops
//! first: what waits is read from the database, not from memory, and
//! indexed by the next batch or by a search.
//!
//! Postgres needs none of this: its trigram index (GIN) takes new rows into
//! a pending list that it merges in bulk.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::{Notify, oneshot};

use super::{Pool, Store, WritePool};
use crate::error::AppError;

/// Most messages one indexing transaction takes.
pub(super) const CHUNK: i64 = 256;
/// How long the writer is quiet before what it wrote is indexed.
const QUIET: Duration = Duration::from_millis(50);
/// The most messages waiting for the index that a search matches itself
/// (`Store::search_unindexed`) rather than index them first: four chunks,
/// at most that many rows read by id. Under full ingest about a chunk
/// waits at a time, so a search does not queue behind the writer.
pub(super) const UNINDEXED_MAX: i64 = 4 * CHUNK;

/// The task that indexes new messages, while any clone of the store lives.
#[derive(Debug)]
pub(super) struct SearchIndexer {
    state: Arc<State>,
    _stop: oneshot::Sender<()>,
}

#[derive(Debug)]
struct State {
    /// Messages committed since the task last started indexing (a hint for
    /// when to start; what waits is read from the database).
    waiting: AtomicUsize,
    wake: Notify,
}

impl SearchIndexer {
    pub(super) fn start(write: SqlitePool) -> Self {
        let state = Arc::new(State { waiting: AtomicUsize::new(0), wake: Notify::new() });
        let (stop, mut stopped) = oneshot::channel::<()>();
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut stopped => return,
                    () = shared.wake.notified() => {}
                }
                // Until the writer is quiet, or a chunk waits.
                while shared.waiting.load(Ordering::Relaxed) < CHUNK as usize {
                    tokio::select! {
                        _ = &mut stopped => return,
                        quiet = tokio::time::timeout(QUIET, shared.wake.notified()) => if quiet.is_err() { break },
                    }
                }
                // Commits from here on wake the task again.
                shared.waiting.store(0, Ordering::Relaxed);
                if let Err(err) = index_backlog(&write).await {
                    tracing::warn!(error = %err, "indexing new messages for search failed; the next batch retries");
                }
            }
        });
        Self { state, _stop: stop }
    }

    fn grew(&self, messages: usize) {
        self.state.waiting.fetch_add(messages, Ordering::Relaxed);
        self.state.wake.notify_one();
    }
}

/// Indexes every message that waits, a chunk per transaction. Returns how
/// many messages (live or deleted) it went through.
async fn index_backlog(write: &SqlitePool) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let went = index_chunk(write).await?;
        total += went as u64;
        if went < CHUNK {
            return Ok(total);
        }
        // Between chunks, the writer's batches go first.
        tokio::task::yield_now().await;
    }
}

/// One transaction: the next [`CHUNK`] messages above the mark into the
/// index (the live ones, as they are now), and the mark moved past them.
async fn index_chunk(write: &SqlitePool) -> Result<i64, sqlx::Error> {
    let mut tx = write.begin_write().await?;
    let (through,): (i64,) = sqlx::query_as("SELECT through FROM messages_fts_progress").fetch_one(&mut *tx).await?;
    let (last, went): (Option<i64>, i64) =
        sqlx::query_as("SELECT max(id), count(*) FROM (SELECT id FROM messages WHERE id > $1 ORDER BY id LIMIT $2)")
            .bind(through)
            .bind(CHUNK)
            .fetch_one(&mut *tx)
            .await?;
    let Some(last) = last else {
        return Ok(0);
    };
    sqlx::query(
        "INSERT INTO messages_fts (rowid, body)
         SELECT id, body FROM messages WHERE id > $1 AND id <= $2 AND deleted_at IS NULL",
    )
    .bind(through)
    .bind(last)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE messages_fts_progress SET through = $1").bind(last).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(went)
}

impl Store {
    /// Indexes for search every message that waits (SQLite; Postgres has
    /// nothing to do). Returns how many messages it went through.
    pub async fn index_search_backlog(&self) -> Result<u64, AppError> {
        match &self.pool {
            Pool::Sqlite { write, .. } => Ok(index_backlog(write).await?),
            Pool::Postgres(_) => Ok(0),
        }
    }

    /// Before a search: whether messages wait for the index, for the search
    /// to match itself (at most [`UNINDEXED_MAX`]). When more wait, they are
    /// indexed first, on the writer's connection, and the answer is no: the
    /// search then finds every message committed before it began in the
    /// index. A read of the ids above the mark says which, so a search while
    /// no one writes costs no write.
    pub(crate) async fn search_index_left_unindexed(&self) -> Result<bool, AppError> {
        let Pool::Sqlite { read, write } = &self.pool else { return Ok(false) };
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM messages
                                   WHERE id > (SELECT through FROM messages_fts_progress) LIMIT $1)",
        )
        .bind(UNINDEXED_MAX + 1)
        .fetch_one(read)
        .await?;
        if waiting > UNINDEXED_MAX {
            index_backlog(write).await?;
            return Ok(false);
        }
        Ok(waiting > 0)
    }

    /// Says that a batch committed `messages` new messages.
    pub(super) fn search_index_grew(&self, messages: usize) {
        if let Some(indexer) = &self.search_index {
            indexer.grew(messages);
        }
    }
}
