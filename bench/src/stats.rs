//! What the clients record while a run goes on: per message, when it was
//! posted and how many sockets have received it; per delivery, its latency.
//!
//! Messages are numbered 0, 1, 2… by the poster and carry the number in
//! their `client_id` (`b<tag>-<n>`), so a receiver maps a frame to its send
//! time without a lookup table. Everything here is atomics or short,
//! uncontended std mutexes: the generator usually runs on one thread.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use hdrhistogram::Histogram;
use memchr::memmem::Finder;
use tokio::sync::Notify;

/// Locks a histogram or the error slot. A panicking recorder cannot leave
/// either half-written in a way that matters to a report, so poisoning is
/// ignored rather than turned into a second panic.
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Per-receiver histograms are sharded by client so threads rarely meet.
const SHARDS: usize = 16;
/// Histogram range: 1 µs to 10 minutes, 3 significant figures.
const HIST_MAX_US: u64 = 600_000_000;

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, HIST_MAX_US, 3).expect("valid histogram bounds")
}

#[derive(Default)]
pub struct Counters {
    /// `message` frames received (each message × each socket), duplicates excluded.
    pub deliveries: AtomicU64,
    /// `message` frames whose seq a socket had already seen.
    pub duplicates: AtomicU64,
    /// seqs a socket skipped over (should be 0: every change reaches every subscriber).
    pub seq_gaps: AtomicU64,
    /// `resync` frames (the server dropped a lagging subscription).
    pub resyncs: AtomicU64,
    /// `error` frames.
    pub error_frames: AtomicU64,
    /// `message` frames not posted by this run.
    pub foreign: AtomicU64,
    /// Sockets that closed or failed after subscribing.
    pub closed: AtomicU64,
    /// Messages received by every subscribed socket.
    pub completed: AtomicU64,
    /// Message numbers handed out to posters.
    pub posted: AtomicU64,
    /// Posts that failed (not 201); their messages are not counted as lost.
    pub post_errors: AtomicU64,
}

pub struct Run {
    pub start: Instant,
    tag: String,
    /// `"client_id":"b<tag>-`: finds this run's message number in a frame.
    marker: Finder<'static>,
    /// Per message: send time in ns since `start`, plus one (0 = not sent).
    sent_at: Box<[AtomicU64]>,
    /// Per message: sockets that have received it.
    got: Box<[AtomicU32]>,
    /// Per message: the post failed.
    failed: Box<[AtomicBool]>,
    /// Sockets subscribed when posting began: a message is complete when this many got it.
    pub expected: AtomicU32,
    pub counters: Counters,
    /// Woken whenever a message completes (for the saturating posters' window).
    pub progress: Notify,
    per_receiver: Vec<Mutex<Histogram<u64>>>,
    /// Per instance (socket `i` is on instance `i % n`), when there are several.
    by_instance: Vec<Mutex<Histogram<u64>>>,
    to_all: Mutex<Histogram<u64>>,
    pub connect: Mutex<Histogram<u64>>,
    /// POST round trips (request out → 201 read), µs.
    pub post_rtt: Mutex<Histogram<u64>>,
    pub first_error: Mutex<Option<String>>,
}

impl Run {
    pub fn new(tag: &str, capacity: usize, instances: usize) -> Self {
        let marker = format!("\"client_id\":\"b{tag}-");
        Self {
            start: Instant::now(),
            tag: tag.to_owned(),
            marker: Finder::new(marker.as_bytes()).into_owned(),
            sent_at: (0..capacity).map(|_| AtomicU64::new(0)).collect(),
            got: (0..capacity).map(|_| AtomicU32::new(0)).collect(),
            failed: (0..capacity).map(|_| AtomicBool::new(false)).collect(),
            expected: AtomicU32::new(0),
            counters: Counters::default(),
            progress: Notify::new(),
            per_receiver: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
            by_instance: (0..instances.max(1)).map(|_| Mutex::new(histogram())).collect(),
            to_all: Mutex::new(histogram()),
            connect: Mutex::new(histogram()),
            post_rtt: Mutex::new(histogram()),
            first_error: Mutex::new(None),
        }
    }

    /// The run's tag: `client_id`s are `b<tag>-<n>`.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    pub fn capacity(&self) -> usize {
        self.sent_at.len()
    }

    pub fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Keeps the first error seen, for the report.
    pub fn note_error(&self, err: String) {
        let mut first = lock(&self.first_error);
        if first.is_none() {
            *first = Some(err);
        }
    }

    /// Claims the next message number, or None when the table is full.
    pub fn next_message(&self) -> Option<usize> {
        let n = self.counters.posted.fetch_add(1, Ordering::Relaxed) as usize;
        if n < self.capacity() {
            Some(n)
        } else {
            self.counters.posted.fetch_sub(1, Ordering::Relaxed);
            None
        }
    }

    /// Stamps message `n` as sent now; call right before the request goes out.
    pub fn mark_sent(&self, n: usize) {
        self.sent_at[n].store(self.now_ns() + 1, Ordering::Release);
    }

    pub fn mark_failed(&self, n: usize) {
        self.failed[n].store(true, Ordering::Relaxed);
        self.counters.post_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// The message number in a `message` frame, if this run posted it.
    pub fn message_number(&self, frame: &[u8]) -> Option<usize> {
        let at = self.marker.find(frame)? + self.marker.needle().len();
        parse_digits(&frame[at..]).map(|n| n as usize)
    }

    /// Socket `client` received message `n` at `now` (ns since start).
    pub fn delivered(&self, client: usize, n: usize, now: u64) {
        let Some(sent) = self.sent_at.get(n).map(|s| s.load(Ordering::Acquire)).filter(|&s| s != 0) else {
            self.counters.foreign.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let latency_us = (now.saturating_sub(sent - 1) / 1000).max(1);
        self.counters.deliveries.fetch_add(1, Ordering::Relaxed);
        lock(&self.per_receiver[client % SHARDS]).saturating_record(latency_us);
        if self.by_instance.len() > 1 {
            lock(&self.by_instance[client % self.by_instance.len()]).saturating_record(latency_us);
        }
        let count = self.got[n].fetch_add(1, Ordering::AcqRel) + 1;
        if count == self.expected.load(Ordering::Relaxed) {
            // The last socket to get it: this is the post→all-received time.
            lock(&self.to_all).saturating_record(latency_us);
            self.counters.completed.fetch_add(1, Ordering::Release);
            self.progress.notify_waiters();
        }
    }

    /// Deliveries that never happened, over the messages posted successfully.
    pub fn lost(&self) -> u64 {
        let expected = self.expected.load(Ordering::Relaxed) as u64;
        let posted = (self.counters.posted.load(Ordering::Relaxed) as usize).min(self.capacity());
        (0..posted)
            .filter(|&n| !self.failed[n].load(Ordering::Relaxed))
            .map(|n| expected.saturating_sub(self.got[n].load(Ordering::Relaxed) as u64))
            .sum()
    }

    pub fn per_receiver(&self) -> Histogram<u64> {
        let mut all = histogram();
        for shard in &self.per_receiver {
            all.add(&*lock(shard)).expect("same bounds");
        }
        all
    }

    /// Instances the sockets are spread over.
    pub fn instances(&self) -> usize {
        self.by_instance.len()
    }

    /// Post→each-receiver latency of the sockets on instance `k`.
    pub fn per_instance(&self, k: usize) -> Histogram<u64> {
        lock(&self.by_instance[k]).clone()
    }

    pub fn to_all(&self) -> Histogram<u64> {
        lock(&self.to_all).clone()
    }
}

/// The unsigned decimal at the start of `bytes`.
pub fn parse_digits(bytes: &[u8]) -> Option<u64> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    Some(bytes[..digits].iter().fold(0u64, |acc, b| acc * 10 + u64::from(b - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_message_number_in_a_frame() {
        let run = Run::new("x1", 10, 1);
        let frame = br#"{"type":"message","room_id":1,"seq":7,"message":{"id":9,"body":"bench 3","client_id":"bx1-3","created_at":"t"}}"#;
        assert_eq!(run.message_number(frame), Some(3));
        assert_eq!(run.message_number(br#"{"client_id":"other-3"}"#), None);
    }

    #[test]
    fn a_message_completes_when_every_socket_has_it() {
        let run = Run::new("t", 4, 1);
        run.expected.store(2, Ordering::Relaxed);
        let n = run.next_message().expect("a message number is left");
        run.mark_sent(n);
        run.delivered(0, n, run.now_ns());
        assert_eq!(run.counters.completed.load(Ordering::Relaxed), 0);
        assert_eq!(run.lost(), 1);
        run.delivered(1, n, run.now_ns());
        assert_eq!(run.counters.completed.load(Ordering::Relaxed), 1);
        assert_eq!(run.lost(), 0);
        assert_eq!(run.per_receiver().len(), 2);
        assert_eq!(run.to_all().len(), 1);
    }
}
