//! Group commit for new messages. Every send (REST, server functions, the
//! WebSocket, `/cable`, the token API) is queued to a writer task that
//! commits whatever is queued together: one transaction per batch
//! ([`Store::append_messages`]), consecutive numbers and seqs per room, the
//! room's counters moved once. Each sender is answered, and each event
//! published in seq order, only after its batch has committed.
//!
//! A batch is whatever is queued when the writer takes the next one, up to
//! [`BATCH_MAX`]: a lone message is written at once, never held on a timer.
//! Validation and membership are checked before a message is queued, so one
//! that fails them fails alone; a database error fails its whole batch, and
//! every sender in it gets the error. SQLite has one writer (every message
//! write goes through one connection at a time, so message writers never meet
//! `SQLITE_BUSY`); Postgres has a few (`Settings::postgres_writers`,
//! [`POSTGRES_WRITERS`] by default), a room always on the same one, so that
//! different rooms commit in parallel.

use std::collections::{BTreeSet, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;
use crate::hub::Hub;
use crate::model::{Author, Message, ReplyTo, RoomId, UserId};
use crate::protocol::ServerEvent;
use crate::store::{Appended, Backend, InsertedMessage, NewMessage, Store};

/// Most messages one transaction writes.
pub const BATCH_MAX: usize = 256;
/// Writer tasks on Postgres by default (rooms are spread over them by id).
/// More writers are more transactions in flight, each with a smaller batch
/// and its own commit to wait for: on the 2-core benchmark machine, 64
/// posters into 64 rooms got 3,700–5,500 messages/s with 2 writers against
/// 3,200–4,500 with 4 (`store-ingest --postgres-writers`, alternated;
/// docs/benchmarks.md). One hot room is on one writer whatever the number.
pub const POSTGRES_WRITERS: usize = 2;
/// Most times the writer lets other tasks run, after a batch, while they
/// go on queueing messages (see `run_batches`).
const SETTLE_ROUNDS: usize = 8;
/// Messages queued per writer before senders wait for room in the queue.
const QUEUE: usize = 4 * BATCH_MAX;

struct Job {
    message: NewMessage,
    byline: Byline,
    reply: oneshot::Sender<Result<InsertedMessage, AppError>>,
}

/// What readers see of a message's writer, which the store does not write:
/// with the row's id and time, the saved message is whole without reading it
/// back.
pub(crate) struct Byline {
    pub author: Option<Author>,
    pub application: Option<String>,
    /// The body rendered (`crate::markdown`), by the sender's task.
    pub html: String,
    /// The uploads it carries (checked by the sender's task); those the
    /// commit gave the message are shown.
    pub files: Vec<crate::model::Attachment>,
}

/// The queues to the writer tasks, started on first use (they need the
/// runtime). The tasks end when the last `Hearth` clone is dropped.
pub(crate) struct Ingest {
    store: Store,
    hub: Hub,
    queues: OnceLock<Vec<mpsc::Sender<Job>>>,
    /// Writer tasks on Postgres (at least one).
    postgres_writers: usize,
}

impl Ingest {
    pub(crate) fn new(store: Store, hub: Hub, postgres_writers: usize) -> Self {
        Self { store, hub, queues: OnceLock::new(), postgres_writers: postgres_writers.max(1) }
    }

    /// Queues `message` and waits until its batch has committed and its event
    /// is published.
    pub(crate) async fn append(&self, message: NewMessage, byline: Byline) -> Result<InsertedMessage, AppError> {
        let queues = self.queues.get_or_init(|| self.start());
        let queue = &queues[message.room.0.unsigned_abs() as usize % queues.len()];
        let (reply, answer) = oneshot::channel();
        queue.send(Job { message, byline, reply }).await.map_err(|_| stopped())?;
        // A dropped answer is a batch abandoned by a panic (see `run_batches`).
        answer.await.map_err(|_| AppError::Internal("saving the message failed".into()))?
    }

    fn start(&self) -> Vec<mpsc::Sender<Job>> {
        let writers = match self.store.backend() {
            Backend::Sqlite => 1,
            Backend::Postgres => self.postgres_writers,
        };
        (0..writers)
            .map(|_| {
                let (queue, jobs) = mpsc::channel(QUEUE);
                let (store, hub) = (self.store.clone(), self.hub.clone());
                tokio::spawn(run_batches(jobs, move |batch| {
                    let (store, hub) = (store.clone(), hub.clone());
                    async move { commit(&store, &hub, batch).await }
                }));
                queue
            })
            .collect()
    }
}

fn stopped() -> AppError {
    AppError::Internal("the message writer stopped".into())
}

/// One writer: takes every queued job (up to a batch), hands them to
/// `commit` together, and goes on until every queue sender is gone.
///
/// `commit` answers database errors itself. A batch whose commit panics (a
/// bug) is abandoned: its jobs are dropped with it, so each of its senders'
/// waits ends in an error, and the writer goes on to the next batch. Without
/// this the panic would end the writer, and every later send would fail
/// until a restart. A batch that panics after its transaction committed has
/// saved its messages although the senders heard an error; a retry with the
/// same `client_id` gets the saved message, and receivers that missed its
/// event fill the seq gap on resume.
async fn run_batches<J, F, Fut>(mut queue: mpsc::Receiver<J>, mut commit: F)
where
    F: FnMut(Vec<J>) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        let mut jobs = Vec::with_capacity(BATCH_MAX);
        if queue.recv_many(&mut jobs, BATCH_MAX).await == 0 {
            return;
        }
        let size = jobs.len();
        if AssertUnwindSafe(commit(jobs)).catch_unwind().await.is_err() {
            tracing::error!(messages = size, "writing a batch of messages panicked; its senders got an error");
        }
        // The senders just answered, and requests that arrived meanwhile,
        // are runnable now: let them queue their next messages before the
        // next batch is taken, for as long as the queue grows (a few rounds
        // at most; no timer). Otherwise the first of them to queue wakes
        // the writer at once, and batches alternate between one message and
        // the rest (64 posters made batches of 32 on average, not 64).
        for _ in 0..SETTLE_ROUNDS {
            let queued = queue.len();
            if queued >= BATCH_MAX {
                break;
            }
            tokio::task::yield_now().await;
            if queue.len() == queued {
                break;
            }
        }
    }
}

async fn commit(store: &Store, hub: &Hub, jobs: Vec<Job>) {
    let (batch, answers): (Vec<NewMessage>, Vec<_>) =
        jobs.into_iter().map(|j| (j.message, (j.byline, j.reply))).unzip();
    // Each room's publish order is its seq order: hold every room of the
    // batch (in id order, as edits and deletes hold theirs) from before the
    // commit until its events are out.
    let rooms: BTreeSet<RoomId> = batch.iter().map(|m| m.room).collect();
    let mut order = Vec::with_capacity(rooms.len());
    for room in &rooms {
        order.push(hub.order_room(*room).await);
    }
    let placed = match store.append_messages(&batch).await {
        Ok(placed) => placed,
        Err(err) => {
            tracing::error!(error = %err, messages = batch.len(), "a batch of messages failed; none was saved");
            for (_, reply) in answers {
                let _ = reply.send(Err(AppError::Internal("saving the message failed".into())));
            }
            return;
        }
    };
    let _publish = crate::metrics::PublishTimer::start();
    // A new message is whole from what was sent and what the insert
    // returned. Only a retry's earlier message is read back, in one query
    // per room.
    let mut earlier: HashMap<RoomId, Vec<i64>> = HashMap::new();
    for appended in placed.iter().flatten().filter(|a| a.written.is_none()) {
        earlier.entry(appended.room).or_default().push(appended.number);
    }
    let mut saved: HashMap<(RoomId, i64), Message> = HashMap::new();
    for (room, numbers) in earlier {
        match store.messages_numbered(room, &numbers).await {
            Ok(messages) => saved.extend(messages.into_iter().map(|m| ((room, m.number), m))),
            Err(err) => tracing::error!(error = %err, room = room.0, "reading back earlier messages failed"),
        }
    }
    // New replies quote their originals with the reply counts this commit
    // made (read under the rooms' order locks, so as of these seqs): one
    // query per room that has any.
    let mut originals: HashMap<RoomId, Vec<i64>> = HashMap::new();
    for (appended, new) in placed.iter().zip(&batch) {
        if let (Some(Appended { written: Some(_), .. }), Some(original)) = (appended, new.reply_to) {
            originals.entry(new.room).or_default().push(original);
        }
    }
    let mut quotes: HashMap<(RoomId, i64), ReplyTo> = HashMap::new();
    for (room, numbers) in originals {
        match store.reply_refs(room, &numbers).await {
            Ok(found) => quotes.extend(found.into_iter().map(|(number, quote)| ((room, number), quote))),
            Err(err) => tracing::error!(error = %err, room = room.0, "reading the quoted messages failed"),
        }
    }
    // Those a new message mentions hear their new counts (after the
    // publish, off the writer).
    let mut mentioned: Vec<(RoomId, UserId)> = Vec::new();
    for ((appended, (byline, reply)), new) in placed.into_iter().zip(answers).zip(batch) {
        if let Some(appended) = appended.as_ref().filter(|a| a.seq.is_some()) {
            mentioned.extend(new.mentions.iter().map(|user| (appended.room, *user)));
        }
        let answer = match appended {
            None => Err(AppError::NotFound("conversation")),
            Some(appended) => {
                let message = match (&appended.written, appended.seq) {
                    (Some(written), Some(_)) => Some(Message {
                        id: written.id,
                        conversation_id: appended.room,
                        number: appended.number,
                        user_id: new.author,
                        user: byline.author,
                        body: Some(new.body),
                        client_id: new.client_id,
                        mentions: new.mentions,
                        application: byline.application,
                        created_at: written.created_at.clone(),
                        edited_at: None,
                        deleted: false,
                        html: Some(byline.html),
                        reply_to: new.reply_to.and_then(|original| quotes.get(&(appended.room, original)).cloned()),
                        reply_count: 0,
                        reactions: Vec::new(),
                        pinned: None,
                        preview: None,
                        attachments: byline
                            .files
                            .into_iter()
                            .filter(|file| written.attachments.contains(&file.id))
                            .collect(),
                    }),
                    _ => saved.get(&(appended.room, appended.number)).cloned(),
                };
                match message {
                    None => Err(AppError::Internal("the saved message could not be read back".into())),
                    Some(message) => {
                        if let Some(seq) = appended.seq {
                            let event = ServerEvent::Message { room_id: appended.room, seq, message: message.clone() };
                            hub.publish_room(appended.room, &event);
                        }
                        Ok(InsertedMessage { seq: appended.seq.unwrap_or(0), created: appended.seq.is_some(), message })
                    }
                }
            }
        };
        let _ = reply.send(answer);
    }
    drop(order);
    if !mentioned.is_empty() {
        let (store, hub) = (store.clone(), hub.clone());
        tokio::spawn(async move {
            for (room, user) in mentioned {
                if let Err(err) = crate::messages::tell_unread(&store, &hub, room, user).await {
                    tracing::warn!(error = %err, room = room.0, user = user.0, "telling a mention's counts failed");
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Job = (u32, oneshot::Sender<u32>);

    fn job(n: u32) -> (Job, oneshot::Receiver<u32>) {
        let (reply, answer) = oneshot::channel();
        ((n, reply), answer)
    }

    /// Doubles each job's number, in order, and panics at 13.
    async fn doubling(batch: Vec<Job>) {
        for (n, reply) in batch {
            assert_ne!(n, 13, "a bug in the commit");
            let _ = reply.send(n * 2);
        }
    }

    /// Senders that each send again as soon as they are answered, as
    /// posters under load do, go into one batch each round, not a batch of
    /// the first one back and another of the rest. One worker thread, as
    /// the benchmarks pin the server to one core: its scheduler runs a task
    /// that was just woken first (the LIFO slot), which is what split the
    /// batches.
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn senders_answered_together_send_their_next_messages_in_one_batch() {
        const SENDERS: u32 = 16;
        const ROUNDS: u32 = 20;
        let (queue, jobs) = mpsc::channel(QUEUE);
        let sizes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let writer = tokio::spawn(run_batches(jobs, move |batch: Vec<Job>| {
            seen.lock().expect("sizes").push(batch.len());
            async move {
                // A commit's wait on the database.
                tokio::task::yield_now().await;
                for (n, reply) in batch {
                    let _ = reply.send(n);
                }
            }
        }));
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let queue = queue.clone();
                tokio::spawn(async move {
                    for round in 0..ROUNDS {
                        let (j, answer) = job(s * 1000 + round);
                        queue.send(j).await.expect("queued");
                        assert_eq!(answer.await, Ok(s * 1000 + round));
                    }
                })
            })
            .collect();
        for sender in senders {
            sender.await.expect("every send answered");
        }
        drop(queue);
        writer.await.expect("the writer ends");

        let sizes = sizes.lock().expect("sizes").clone();
        assert_eq!(sizes.iter().sum::<usize>(), (SENDERS * ROUNDS) as usize);
        // The first batch may hold only the senders that had started.
        let later = &sizes[1..];
        let full = later.iter().filter(|&&n| n == SENDERS as usize).count();
        assert!(full * 10 >= later.len() * 9, "batches after the first should hold every sender: {sizes:?}");
    }

    #[tokio::test]
    async fn a_batch_that_panics_fails_its_own_senders_and_the_writer_goes_on() {
        let (queue, jobs) = mpsc::channel(16);
        // Queued before the writer starts, so the three are one batch.
        let (first, first_answer) = job(1);
        let (unlucky, unlucky_answer) = job(13);
        let (after, after_answer) = job(3);
        for j in [first, unlucky, after] {
            queue.send(j).await.expect("queued");
        }
        let writer = tokio::spawn(run_batches(jobs, doubling));
        assert_eq!(first_answer.await, Ok(2), "answered before the panic");
        assert!(unlucky_answer.await.is_err(), "the panicking job's sender hears an error");
        assert!(after_answer.await.is_err(), "so does a batch-mate left unanswered");

        let (next, next_answer) = job(21);
        queue.send(next).await.expect("the writer still takes jobs");
        assert_eq!(next_answer.await, Ok(42), "and commits the next batch");

        drop(queue);
        writer.await.expect("the writer ends when its queue closes, not by the panic");
    }
}
