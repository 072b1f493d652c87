//! `hearth-bench`: a WebSocket load generator for Hearth's realtime fan-out.
//!
//! It registers a small pool of accounts (registration runs argon2, so a
//! handful of accounts share all the sockets: each `/ws` connection with the
//! same cookie is its own socket), creates one open room, has the accounts
//! join it, opens `--clients` WebSocket connections to `GET /ws` (or, with
//! `--protocol cable`, ActionCable's `GET /cable`, subscribing to
//! `ConversationsChannel`) and subscribes each to the room, timing connect + upgrade + `subscribed`.
//! Then, by `--mode`:
//!
//! - `live`: posters send messages over REST (`POST /conversations/:id/messages`)
//!   at `--rate` posts/s, or with `--posters` concurrent posters as fast as
//!   the server takes them when `--rate 0` (keeping at most `--window`
//!   messages not yet received by every socket, below the server's
//!   1,024-frame room channel, so the run measures sustainable throughput
//!   rather than `resync`s). Each message's `client_id` carries its number,
//!   which maps to its send time, stamped just before the request goes out.
//!   Every socket stamps each `message` frame as it reads it. Reported:
//!   post→all-received latency (per message, until the LAST socket got it)
//!   and post→each-receiver latency (p50/p99/max), deliveries/s over the
//!   posting window, and lost / duplicate / out-of-sequence counts (all must
//!   be 0).
//! - `idle`: sockets sit subscribed for `--duration` seconds; reported is the
//!   server's RSS (`--server-pid`), total and per connection above the
//!   baseline measured after setup and before the first connection.
//!
//! Both report this generator's own CPU use (getrusage user+sys over wall
//! time) so a saturated generator is visible, and, given `--server-pid`,
//! the server's CPU use (from /proc) over the same window.
//!
//! Run it against a release server pinned to one core, the generator on the
//! other (loopback only):
//!
//! ```sh
//! cargo build --release -p server -p hearth-bench
//! HEARTH_DATA_DIR=$(mktemp -d) HEARTH_LISTEN=127.0.0.1:3300 \
//!   HEARTH_SIGN_INS_PER_IP=100000 HEARTH_SIGN_INS_PER_ACCOUNT=100000 HEARTH_LOG=warn \
//!   HEARTH_MAX_CONNECTIONS_PER_IP=0 HEARTH_MESSAGES_PER_MINUTE=0 HEARTH_SIGN_UP_POLICY=open \
//!   taskset -c 0 ./target/release/hearth serve &
//! ulimit -n 20000
//! taskset -c 1 ./target/release/hearth-bench --clients 1000 --rate 10 --duration 20 --server-pid $!
//! taskset -c 1 ./target/release/hearth-bench --clients 1000 --rate 0 --duration 20 --server-pid $!
//! taskset -c 1 ./target/release/hearth-bench --mode idle --clients 10000 --duration 5 --server-pid $!
//! ```
//!
//! `bench/run.sh` runs the three standard scenarios this way, each against a
//! fresh server; results and the machine are in `docs/benchmarks.md`.
//!
//! One process holds up to the open-file limit (~19,900 sockets at 20,000);
//! from one source address the kernel has about 28k ephemeral ports per
//! destination, so beyond that pass `--sources K` to bind sockets
//! round-robin to 127.0.0.2 … 127.0.0.(K+1) (and run several processes).

mod api;
mod clients;
mod corpus;
mod db;
mod stats;
mod storage;
mod sys;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clap::{Parser, Subcommand, ValueEnum};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::api::{Account, Api};
use crate::clients::Target;
use crate::stats::{Run, lock};

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Protocol {
    /// Hearth's own, `GET /ws`.
    Ws,
    /// ChatFlow's ActionCable, `GET /cable`.
    Cable,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
enum Mode {
    /// Post messages and measure fan-out latency and throughput.
    Live,
    /// Hold subscribed sockets and measure the server's memory.
    Idle,
}

/// Load generator for Hearth (loopback only): WebSocket fan-out by
/// default, or the storage benchmarks (`storage …`).
#[derive(Parser, Debug)]
#[command(version, about, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    args: Args,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// History pages, search, posting and raw inserts on SQLite or Postgres
    /// (bench/storage.sh runs them all).
    Storage(storage::StorageArgs),
}

/// The WebSocket benchmark's options.
#[derive(clap::Args, Debug)]
struct Args {
    /// Base URL of the Hearth server (http only).
    #[arg(long, default_value = "http://127.0.0.1:3300")]
    url: String,
    /// WebSocket connections to open, all subscribed to one room.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Posts per second in live mode; 0 posts as fast as the server accepts.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// Seconds to post (live) or to sit connected (idle).
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// The server's pid, for its RSS and CPU time.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Extra loopback source addresses (127.0.0.2, .3, …) to bind sockets to.
    #[arg(long, default_value_t = 0)]
    sources: u32,
    #[arg(long, value_enum, default_value_t = Mode::Live)]
    mode: Mode,
    /// Which WebSocket endpoint the clients use.
    #[arg(long, value_enum, default_value_t = Protocol::Ws)]
    protocol: Protocol,
    /// Accounts to register and share the sockets between.
    #[arg(long, default_value_t = 4)]
    accounts: usize,
    /// Concurrent posters when --rate is 0.
    #[arg(long, default_value_t = 8)]
    posters: usize,
    /// With --rate 0: most messages posted but not yet received by every socket.
    #[arg(long, default_value_t = 512)]
    window: u64,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 64)]
    connect_concurrency: usize,
    /// Message body length in bytes.
    #[arg(long, default_value_t = 64)]
    body_bytes: usize,
    /// Seconds to wait after subscribing before measuring.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seconds to wait for in-flight messages after posting stops.
    #[arg(long, default_value_t = 10.0)]
    drain: f64,
    /// Runtime worker threads (1 = a single-threaded runtime).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Also print the results as one JSON object.
    #[arg(long)]
    json: bool,
    /// Several instances of one cluster (comma-separated base URLs): socket
    /// `i` connects to the `i % n`-th, and post→each-receiver latency is
    /// reported per instance. Setup and posts still go to `--url`.
    #[arg(long, value_delimiter = ',')]
    socket_urls: Vec<String>,
    /// Other processes whose CPU time is reported beside the server's (the
    /// other instances, NATS, Postgres), comma-separated.
    #[arg(long, value_delimiter = ',')]
    other_pids: Vec<u32>,
}

fn main() {
    let cli = Cli::parse();
    if let Some(Command::Storage(storage)) = cli.command {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
        match runtime.block_on(storage::run(storage)) {
            Ok(()) => std::process::exit(0),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
    }
    let args = cli.args;
    let nofile = sys::raise_nofile(args.clients as u64 + 256);
    if (nofile as usize) < args.clients + 64 {
        eprintln!("warning: open-file limit {nofile} is too low for {} sockets (ulimit -n 20000)", args.clients);
    }
    let mut builder = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(args.threads);
        b
    };
    let runtime = builder.enable_all().build().expect("tokio runtime");
    let started = Instant::now();
    let result = runtime.block_on(bench(&args, started));
    match result {
        Ok(()) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

async fn bench(args: &Args, started: Instant) -> Result<(), String> {
    let (authority, addr) = resolve(&args.url).await?;
    let api = Api::new(&args.url)?;
    let tag = run_tag();
    let pid = args.server_pid;

    // Setup: accounts, one open room, everyone in it.
    let t = Instant::now();
    let accounts = register_pool(&api, &tag, args.accounts.max(1)).await?;
    let room = api.create_room(&accounts[0], &format!("bench {tag}")).await?;
    for account in &accounts[1..] {
        api.join(account, room).await?;
    }
    println!(
        "setup: {} accounts registered, room {room} created and joined in {:.2} s (run tag {tag})",
        accounts.len(),
        t.elapsed().as_secs_f64()
    );

    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline_rss = pid.and_then(|p| sys::rss_kib(Some(p)));
    if let Some(rss) = baseline_rss {
        println!("server RSS before connecting: {}", mib(rss));
    }

    let capacity = match (args.mode, args.rate) {
        (Mode::Idle, _) => 0,
        (Mode::Live, r) if r > 0.0 => (r * args.duration * 1.2) as usize + 1000,
        (Mode::Live, _) => 2_000_000,
    };
    let mut instances = Vec::new();
    for url in &args.socket_urls {
        instances.push(resolve(url).await?);
    }
    if instances.is_empty() {
        instances.push((authority, addr));
    }
    let run = Arc::new(Run::new(&tag, capacity, instances.len()));
    let target = Arc::new(Target {
        instances,
        cookies: accounts.iter().map(|a| a.cookie.clone()).collect(),
        room,
        sources: args.sources,
        cable: args.protocol == Protocol::Cable,
    });

    // Connect and subscribe every socket.
    let (ready, connect_secs) = connect_all(args, &run, &target).await;
    let connect = lock(&run.connect).clone();
    println!(
        "connect+subscribe: {ready}/{} sockets in {connect_secs:.2} s ({:.0}/s); per socket p50 {} p99 {} max {}",
        args.clients,
        ready as f64 / connect_secs,
        ms(connect.value_at_quantile(0.5)),
        ms(connect.value_at_quantile(0.99)),
        ms(connect.max()),
    );
    if ready < args.clients {
        let first = lock(&run.first_error).clone().unwrap_or_default();
        println!("  {} sockets failed; first error: {first}", args.clients - ready);
    }
    if ready == 0 {
        return Err("no socket subscribed".into());
    }
    run.expected.store(ready as u32, Ordering::Relaxed);
    let connected_rss = pid.and_then(|p| sys::rss_kib(Some(p)));
    if let Some(rss) = connected_rss {
        println!("server RSS after connecting: {}", mib(rss));
    }

    let mut report = json!({
        "mode": format!("{:?}", args.mode).to_lowercase(),
        "protocol": format!("{:?}", args.protocol).to_lowercase(),
        "clients": args.clients,
        "subscribed": ready,
        "accounts": accounts.len(),
        "connect_secs": connect_secs,
        "connect_ms": quantiles_ms(&connect),
        "server_rss_baseline_kib": baseline_rss,
        "server_rss_connected_kib": connected_rss,
    });

    match args.mode {
        Mode::Idle => idle(args, &run, ready, baseline_rss, &mut report).await,
        Mode::Live => live(args, &api, &accounts, room, &run, &mut report).await?,
    }

    let total_cpu = sys::cpu_self();
    let wall = started.elapsed();
    println!(
        "generator, whole run: CPU {:.2} s over {:.2} s wall = {:.0}% of one core; RSS {}",
        total_cpu.as_secs_f64(),
        wall.as_secs_f64(),
        100.0 * total_cpu.as_secs_f64() / wall.as_secs_f64(),
        sys::rss_kib(None).map(mib).unwrap_or_default(),
    );
    report["generator_cpu_whole_run_pct"] = json!(100.0 * total_cpu.as_secs_f64() / wall.as_secs_f64());
    if args.json {
        println!("{report}");
    }
    Ok(())
}

/// The authority (`host:port`) of `--url` and the address it resolves to.
async fn resolve(url: &str) -> Result<(String, SocketAddr), String> {
    let rest = url.strip_prefix("http://").ok_or("--url must start with http://")?;
    let authority = rest.split('/').next().unwrap_or(rest).to_owned();
    let with_port = if authority.contains(':') { authority.clone() } else { format!("{authority}:80") };
    let addr = tokio::net::lookup_host(&with_port)
        .await
        .map_err(|e| format!("resolving {with_port}: {e}"))?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(|| format!("{with_port} has no IPv4 address"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not a loopback address: this tool targets loopback only"));
    }
    Ok((authority, addr))
}

/// A short tag unique to this run, so runs against one server do not collide.
fn run_tag() -> String {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut n = (now.as_millis() as u64) % 36u64.pow(7);
    let mut tag = String::new();
    for _ in 0..7 {
        tag.push(char::from(b"0123456789abcdefghijklmnopqrstuvwxyz"[(n % 36) as usize]));
        n /= 36;
    }
    tag
}

async fn register_pool(api: &Api, tag: &str, count: usize) -> Result<Vec<Account>, String> {
    // One at a time: each registration's argon2 hash takes ~19 MiB on the
    // server, and concurrent ones would inflate its RSS baseline.
    let mut accounts = Vec::with_capacity(count);
    for i in 0..count {
        accounts.push(api.register(&format!("b{tag}{i}")).await?);
    }
    Ok(accounts)
}

/// Opens `--clients` sockets, `--connect-concurrency` at a time, each then
/// reading on its own task. Returns how many subscribed, and the seconds it took.
async fn connect_all(args: &Args, run: &Arc<Run>, target: &Arc<Target>) -> (usize, f64) {
    let limit = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel::<bool>();
    let t = Instant::now();
    for i in 0..args.clients {
        let permit = limit.clone().acquire_owned().await.expect("semaphore open");
        let (run, target, done) = (run.clone(), target.clone(), done_tx.clone());
        tokio::spawn(async move {
            let began = Instant::now();
            let connected = clients::connect(i, &target).await;
            drop(permit);
            match connected {
                Ok((ws, seq)) => {
                    lock(&run.connect).saturating_record(began.elapsed().as_micros().max(1) as u64);
                    let _ = done.send(true);
                    clients::read_loop(i, ws, seq, run).await;
                }
                Err(e) => {
                    run.note_error(format!("socket {i}: {e}"));
                    let _ = done.send(false);
                }
            }
        });
    }
    drop(done_tx);
    let (mut ready, mut finished) = (0, 0);
    let mut last_print = Instant::now();
    while finished < args.clients {
        match done_rx.recv().await {
            Some(ok) => {
                finished += 1;
                ready += ok as usize;
            }
            None => break,
        }
        if last_print.elapsed() > Duration::from_secs(2) {
            println!("  … {ready} subscribed after {:.1} s", t.elapsed().as_secs_f64());
            last_print = Instant::now();
        }
    }
    (ready, t.elapsed().as_secs_f64())
}

async fn idle(args: &Args, run: &Run, ready: usize, baseline: Option<u64>, report: &mut serde_json::Value) {
    let cpu0 = sys::cpu_self();
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(args.duration)).await;
    let wall = t.elapsed();
    let closed = run.counters.closed.load(Ordering::Relaxed);
    let open = ready as u64 - closed;
    println!("idle {:.1} s: {open} sockets still open ({closed} closed)", wall.as_secs_f64());
    if let (Some(pid), Some(base)) = (args.server_pid, baseline)
        && let Some(rss) = sys::rss_kib(Some(pid))
    {
        let per = rss.saturating_sub(base) as f64 * 1024.0 / open.max(1) as f64;
        println!(
            "server RSS with {open} idle sockets: {} (baseline {}, +{} = {:.1} KiB per socket)",
            mib(rss),
            mib(base),
            mib(rss.saturating_sub(base)),
            per / 1024.0
        );
        report["server_rss_idle_kib"] = json!(rss);
        report["server_rss_per_socket_bytes"] = json!(per);
    }
    let cpu = (sys::cpu_self() - cpu0).as_secs_f64();
    println!(
        "generator while idle: CPU {:.3} s over {:.1} s = {:.1}% of one core",
        cpu,
        wall.as_secs_f64(),
        100.0 * cpu / wall.as_secs_f64()
    );
    report["open_after_idle"] = json!(open);
}

async fn live(
    args: &Args,
    api: &Api,
    accounts: &[Account],
    room: i64,
    run: &Arc<Run>,
    report: &mut serde_json::Value,
) -> Result<(), String> {
    tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
    let c = &run.counters;
    let pid = args.server_pid;
    let pad = "x".repeat(args.body_bytes.saturating_sub(16));

    let (cpu0, server0, deliveries0) =
        (sys::cpu_self(), pid.and_then(sys::cpu_of), c.deliveries.load(Ordering::Relaxed));
    let others0: Vec<Option<Duration>> = args.other_pids.iter().map(|p| sys::cpu_of(*p)).collect();
    let cores0 = sys::core_jiffies();
    let t0 = Instant::now();
    let end = t0 + Duration::from_secs_f64(args.duration);
    let post = {
        let (api, accounts, run, tag) = (api.clone(), accounts.to_vec(), run.clone(), run.tag().to_owned());
        move |n: usize| {
            let (api, account, run, tag, pad) =
                (api.clone(), accounts[n % accounts.len()].clone(), run.clone(), tag.clone(), pad.clone());
            async move {
                let body = format!("bench {n} {pad}");
                let client_id = format!("b{tag}-{n}");
                let began = Instant::now();
                run.mark_sent(n);
                match api.post(&account, room, &body, &client_id).await {
                    Ok(()) => lock(&run.post_rtt).saturating_record(began.elapsed().as_micros().max(1) as u64),
                    Err(e) => {
                        run.mark_failed(n);
                        run.note_error(e);
                    }
                }
            }
        }
    };

    let mut tasks = Vec::new();
    if args.rate > 0.0 {
        // Open loop: each post on its own task at its scheduled time, so a
        // slow response never delays the next post.
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / args.rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        loop {
            tick.tick().await;
            if Instant::now() >= end {
                break;
            }
            let Some(n) = run.next_message() else { break };
            tasks.push(tokio::spawn(post(n)));
        }
    } else {
        for _ in 0..args.posters.max(1) {
            let (run, post) = (run.clone(), post.clone());
            let window = args.window.max(1);
            tasks.push(tokio::spawn(async move {
                'posting: while Instant::now() < end {
                    // Keep at most `window` messages not yet received by everyone.
                    loop {
                        let notified = run.progress.notified();
                        tokio::pin!(notified);
                        notified.as_mut().enable();
                        let c = &run.counters;
                        if c.posted.load(Ordering::Relaxed) - c.completed.load(Ordering::Acquire) < window {
                            break;
                        }
                        let left = end.saturating_duration_since(Instant::now());
                        if left.is_zero() {
                            break 'posting;
                        }
                        let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
                    }
                    let Some(n) = run.next_message() else { break };
                    post(n).await;
                }
            }));
        }
    }
    for task in tasks {
        let _ = task.await;
    }
    let window_wall = t0.elapsed();
    let (cpu1, server1, deliveries1) =
        (sys::cpu_self(), pid.and_then(sys::cpu_of), c.deliveries.load(Ordering::Relaxed));
    let others1: Vec<Option<Duration>> = args.other_pids.iter().map(|p| sys::cpu_of(*p)).collect();
    let cores = sys::core_busy_pct(&cores0, &sys::core_jiffies());

    // Drain: wait for every posted message to reach every socket.
    let posted = c.posted.load(Ordering::Relaxed);
    let ok_posts = posted - c.post_errors.load(Ordering::Relaxed);
    let drain_end = Instant::now() + Duration::from_secs_f64(args.drain);
    while c.completed.load(Ordering::Relaxed) < ok_posts && Instant::now() < drain_end {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    let secs = window_wall.as_secs_f64();
    let to_all = run.to_all();
    let each = run.per_receiver();
    let deliveries = deliveries1 - deliveries0;
    let gen_cpu = (cpu1 - cpu0).as_secs_f64();
    let lost = run.lost();
    let expected = run.expected.load(Ordering::Relaxed);

    println!(
        "posting: {posted} posts in {secs:.2} s = {:.1} posts/s ({} failed), {expected} sockets",
        posted as f64 / secs,
        c.post_errors.load(Ordering::Relaxed)
    );
    println!(
        "post→all received:  p50 {}  p99 {}  max {}  ({} of {ok_posts} messages reached every socket)",
        ms(to_all.value_at_quantile(0.5)),
        ms(to_all.value_at_quantile(0.99)),
        ms(to_all.max()),
        to_all.len()
    );
    println!(
        "post→each receiver: p50 {}  p99 {}  max {}  ({} deliveries)",
        ms(each.value_at_quantile(0.5)),
        ms(each.value_at_quantile(0.99)),
        ms(each.max()),
        each.len()
    );
    let mut per_instance = Vec::new();
    if run.instances() > 1 {
        for k in 0..run.instances() {
            let h = run.per_instance(k);
            println!(
                "  sockets on instance {k} ({}): post→each p50 {}  p99 {}  max {}  ({} deliveries)",
                args.socket_urls.get(k).map_or("", String::as_str),
                ms(h.value_at_quantile(0.5)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max()),
                h.len()
            );
            per_instance.push(quantiles_ms(&h));
        }
    }
    let rtt = lock(&run.post_rtt).clone();
    println!(
        "POST round trip (to 201): p50 {}  p99 {}  max {}",
        ms(rtt.value_at_quantile(0.5)),
        ms(rtt.value_at_quantile(0.99)),
        ms(rtt.max())
    );
    println!("deliveries/s during posting: {:.0}", deliveries as f64 / secs);
    println!(
        "lost {lost}, duplicates {}, seq gaps {}, resyncs {}, error frames {}, sockets closed {}, foreign {}",
        c.duplicates.load(Ordering::Relaxed),
        c.seq_gaps.load(Ordering::Relaxed),
        c.resyncs.load(Ordering::Relaxed),
        c.error_frames.load(Ordering::Relaxed),
        c.closed.load(Ordering::Relaxed),
        c.foreign.load(Ordering::Relaxed),
    );
    if let Some(e) = lock(&run.first_error).as_ref() {
        println!("first error: {e}");
    }
    println!(
        "generator while posting: CPU {gen_cpu:.2} s over {secs:.2} s = {:.0}% of one core",
        100.0 * gen_cpu / secs
    );
    let server_pct = match (server0, server1) {
        (Some(a), Some(b)) => {
            let pct = 100.0 * (b - a).as_secs_f64() / secs;
            println!("server while posting: CPU {:.2} s = {pct:.0}% of one core", (b - a).as_secs_f64());
            Some(pct)
        }
        _ => None,
    };
    let mut others_cpu = Vec::new();
    for ((pid, a), b) in args.other_pids.iter().zip(&others0).zip(&others1) {
        if let (Some(a), Some(b)) = (a, b) {
            let secs_used = (*b - *a).as_secs_f64();
            println!(
                "pid {pid} while posting: CPU {secs_used:.2} s = {:.0}% of one core, {:.1} µs per post",
                100.0 * secs_used / secs,
                1e6 * secs_used / posted.max(1) as f64
            );
            others_cpu.push(json!({ "pid": pid, "cpu_secs": secs_used, "cpu_pct": 100.0 * secs_used / secs }));
        }
    }
    // Whole-machine view: anything beyond the server's and the generator's
    // share was other processes competing for the cores.
    let busy: f64 = cores.iter().sum();
    let others = busy - 100.0 * gen_cpu / secs - server_pct.unwrap_or(0.0);
    println!(
        "cores busy while posting: {} (others ≈ {others:.0}% of a core{})",
        cores.iter().enumerate().map(|(i, p)| format!("cpu{i} {p:.0}%")).collect::<Vec<_>>().join(", "),
        if server_pct.is_none() { ", server included: no --server-pid" } else { "" }
    );
    let rss = pid.and_then(|p| sys::rss_kib(Some(p)));
    if let Some(rss) = rss {
        println!("server RSS after the run: {}", mib(rss));
    }

    report["rate"] = json!(args.rate);
    report["posting_secs"] = json!(secs);
    report["posted"] = json!(posted);
    report["posts_per_sec"] = json!(posted as f64 / secs);
    report["post_errors"] = json!(c.post_errors.load(Ordering::Relaxed));
    report["post_to_all_ms"] = quantiles_ms(&to_all);
    report["post_to_each_ms"] = quantiles_ms(&each);
    report["post_round_trip_ms"] = quantiles_ms(&rtt);
    report["deliveries_per_sec"] = json!(deliveries as f64 / secs);
    report["lost"] = json!(lost);
    report["duplicates"] = json!(c.duplicates.load(Ordering::Relaxed));
    report["seq_gaps"] = json!(c.seq_gaps.load(Ordering::Relaxed));
    report["resyncs"] = json!(c.resyncs.load(Ordering::Relaxed));
    report["generator_cpu_pct"] = json!(100.0 * gen_cpu / secs);
    report["server_cpu_pct"] = json!(server_pct);
    report["server_rss_after_kib"] = json!(rss);
    report["cores_busy_pct"] = json!(cores);
    report["post_to_each_by_instance_ms"] = json!(per_instance);
    report["other_processes"] = json!(others_cpu);
    report["other_processes_cpu_pct"] = json!(others);
    Ok(())
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn quantiles_ms(h: &Histogram<u64>) -> serde_json::Value {
    let q = |p: f64| h.value_at_quantile(p) as f64 / 1000.0;
    json!({ "count": h.len(), "p50": q(0.5), "p90": q(0.9), "p99": q(0.99), "max": h.max() as f64 / 1000.0 })
}
