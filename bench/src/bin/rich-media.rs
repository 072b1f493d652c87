//! Rich messages' costs (issue 16), run by hand:
//!
//! - **render**: the server renders a page of 50 Markdown messages (code
//!   blocks with highlighting, lists, quotes, links, mentions) with
//!   `hearth::markdown::render_message`, as a history page or a replay does;
//!   timed per page, in process, on one core.
//! - **upload**: files uploaded to a running server
//!   (`POST /conversations/:id/attachments`, over loopback): `--files` files
//!   of `--size-mb` each, `--concurrency` at a time, then `--images`
//!   12-megapixel PNGs (decoded, thumbnailed and stored); the throughput in
//!   MB/s and the time per image.
//!
//!   rich-media render
//!   rich-media upload --url http://127.0.0.1:3000
//!
//! The upload run registers its own user (the server must allow sign-ups,
//! as `make run`'s demo mode does, and `HEARTH_UPLOAD_MAX_BYTES` must take
//! `--size-mb`).

use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(Subcommand)]
enum What {
    Render {
        /// Pages rendered (each timed).
        #[arg(long, default_value_t = 2000)]
        pages: usize,
    },
    Upload {
        #[arg(long, default_value = "http://127.0.0.1:3000")]
        url: String,
        #[arg(long, default_value_t = 40)]
        files: usize,
        #[arg(long, default_value_t = 10)]
        size_mb: usize,
        /// At most two: the server receives no more of one person's bodies
        /// at once (`hearth::attachments::RECEIVING_PER_USER`), and answers
        /// a third with 429.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
        /// 4,000 × 3,000 PNGs (a 12-megapixel photo's size), each a few
        /// bytes apart.
        #[arg(long, default_value_t = 10)]
        images: usize,
    },
}

#[path = "../timing.rs"]
mod timing;
use timing::summary;

/// 50 messages of the kinds a developers' room has.
fn page() -> Vec<(String, bool)> {
    (0..50)
        .map(|n| match n % 5 {
            0 => (format!("Build {n} is **green**, see https://ci.example.com/builds/{n} and `make test`"), false),
            1 => (
                format!(
                    "Try this:\n```rust\nfn main() {{\n    let total: u64 = (1..={n}).sum();\n    println!(\"{{total}}\"); // {n}\n}}\n```"
                ),
                false,
            ),
            2 => (format!("@alice @bob can you look at #{n}?\n> the quoted line\n\n- one\n- two _three_"), true),
            3 => (format!("plain text message number {n} with nothing special in it at all"), false),
            _ => (format!("1. first\n2. [docs](https://docs.example.com/{n})\n3. ~~old~~ new <b>inert</b>"), false),
        })
        .collect()
}

fn render(pages: usize) {
    let messages = page();
    let bytes: usize = messages.iter().map(|(m, _)| m.len()).sum();
    let mut times = Vec::with_capacity(pages);
    let mut out = 0;
    for _ in 0..pages {
        let started = Instant::now();
        for (source, mentions) in &messages {
            out += hearth::markdown::render_message(source, *mentions).len();
        }
        times.push(started.elapsed());
    }
    println!("a page of 50 Markdown messages ({bytes} bytes of source, {} bytes of HTML per page)", out / pages);
    summary("render a page", times);
}

async fn upload(url: &str, files: usize, size_mb: usize, concurrency: usize, images: usize) {
    let client = reqwest::Client::builder().cookie_store(true).build().expect("a client");
    let name = format!("bench{}", std::process::id());
    let registered = client
        .post(format!("{url}/users"))
        .json(&serde_json::json!({ "user": { "email": format!("{name}@bench.test"), "username": name, "password": "benchmark-password" } }))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(registered.status(), 201, "registering: {:?}", registered.text().await);
    let room: serde_json::Value = client
        .post(format!("{url}/conversations"))
        .json(&serde_json::json!({ "participant_ids": [], "kind": "open", "title": format!("uploads {name}") }))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("json");
    let room = room["id"].as_i64().expect("a room id");
    let target = format!("{url}/conversations/{room}/attachments");

    // Distinct bytes per file, so none is deduplicated.
    let bodies: Vec<Vec<u8>> = (0..files)
        .map(|n| {
            let mut body = vec![0u8; size_mb * 1024 * 1024];
            for (i, byte) in body.iter_mut().enumerate() {
                *byte = (i.wrapping_mul(31) ^ n) as u8;
            }
            body
        })
        .collect();
    let started = Instant::now();
    let semaphore = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let mut tasks = Vec::new();
    for (n, body) in bodies.into_iter().enumerate() {
        let (client, target, semaphore) = (client.clone(), target.clone(), semaphore.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = semaphore.acquire().await.expect("a permit");
            post_file(&client, &format!("{target}?name=file{n}.bin"), "application/octet-stream", body).await
        }));
    }
    let mut times = Vec::new();
    for task in tasks {
        times.push(task.await.expect("an upload"));
    }
    let elapsed = started.elapsed();
    let total = (files * size_mb) as f64;
    println!(
        "{files} files of {size_mb} MiB, {concurrency} at a time: {:.1} s, {:.0} MiB/s",
        elapsed.as_secs_f64(),
        total / elapsed.as_secs_f64()
    );
    summary("one file", times);

    // A real, compressed PNG of a 12-megapixel photo's size.
    let png = hearth::testing::images::png(4000, 3000);
    println!("image: a 4000 × 3000 PNG of {} KiB", png.len() / 1024);
    let mut times = Vec::new();
    for n in 0..images {
        let mut body = png.clone();
        // A different file each time (the last byte of a chunk-free tail).
        body.extend_from_slice(&(n as u32).to_be_bytes());
        times.push(post_file(&client, &format!("{target}?name=photo{n}.png"), "image/png", body).await);
    }
    summary("upload and thumbnail an image", times);
}

#[tokio::main]
async fn main() {
    match Args::parse().what {
        What::Render { pages } => render(pages),
        What::Upload { url, files, size_mb, concurrency, images } => {
            upload(&url, files, size_mb, concurrency, images).await
        }
    }
}

/// Uploads `body` to `url`, asserting a 201; how long the answer took.
async fn post_file(client: &reqwest::Client, url: &str, kind: &str, body: Vec<u8>) -> Duration {
    let started = Instant::now();
    let answer = client.post(url).header("Content-Type", kind).body(body).send().await.expect("answered");
    assert_eq!(answer.status(), 201, "{:?}", answer.text().await);
    started.elapsed()
}
