//! `loopback-floor`: what the kernel alone charges for a fan-out on this
//! machine. It opens N loopback TCP connections, pins a writer thread to
//! `--writer-cpu` and a reader thread (epoll, like a WebSocket client pool)
//! to `--reader-cpu`, then, once per round, `write(2)`s one frame-sized
//! buffer to every connection and times the round. No WebSocket, no JSON,
//! no runtime: the time per round is a lower bound for any server on the
//! writer core that must put one message on N sockets.
//!
//! ```sh
//! ulimit -n 20000
//! ./target/release/loopback-floor --sockets 1000 --rounds 50
//! ```

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use clap::Parser;

#[derive(Parser)]
#[command(about = "Kernel cost of writing one frame to each of N loopback sockets")]
struct Args {
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    #[arg(long, default_value_t = 50)]
    rounds: usize,
    /// Bytes per write (a `message` frame with a 64-byte body is ~330 bytes).
    #[arg(long, default_value_t = 330)]
    bytes: usize,
    #[arg(long, default_value_t = 0)]
    writer_cpu: usize,
    #[arg(long, default_value_t = 1)]
    reader_cpu: usize,
    /// Pause between rounds, like posts arriving at 10/s.
    #[arg(long, default_value_t = 100)]
    gap_ms: u64,
}

fn pin(cpu: usize) {
    // SAFETY: a zeroed cpu_set_t is valid; CPU_SET stays in bounds for cpu < 1024.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            eprintln!("cannot pin to cpu {cpu}: {}", std::io::Error::last_os_error());
        }
    }
}

fn main() {
    let args = Args::parse();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    // One at a time: std's listen backlog is 128.
    let (clients, servers): (Vec<TcpStream>, Vec<TcpStream>) = (0..args.sockets)
        .map(|_| {
            let client = TcpStream::connect(addr).expect("connect (raise ulimit -n?)");
            let (server, _) = listener.accept().expect("accept");
            client.set_nodelay(true).expect("nodelay");
            server.set_nodelay(true).expect("nodelay");
            (client, server)
        })
        .unzip();
    let expected = args.sockets * args.rounds * args.bytes;
    let reader_cpu = args.reader_cpu;
    let reader = std::thread::spawn(move || read_all(clients, expected, reader_cpu));

    pin(args.writer_cpu);
    std::thread::sleep(Duration::from_millis(200));
    let frame = vec![b'x'; args.bytes];
    let mut rounds = Vec::with_capacity(args.rounds);
    for _ in 0..args.rounds {
        let start = Instant::now();
        for mut s in &servers {
            s.write_all(&frame).expect("write");
        }
        rounds.push(start.elapsed());
        std::thread::sleep(Duration::from_millis(args.gap_ms));
    }
    reader.join().expect("reader");
    rounds.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = rounds.iter().sum::<Duration>() / rounds.len() as u32;
    println!(
        "{} sockets x {} B, {} rounds: per round mean {:.2} ms, p50 {:.2} ms, max {:.2} ms; {:.2} us per socket",
        args.sockets,
        args.bytes,
        args.rounds,
        ms(mean),
        ms(rounds[rounds.len() / 2]),
        ms(rounds[rounds.len() - 1]),
        mean.as_secs_f64() * 1e6 / args.sockets as f64
    );
}

/// Reads every socket through one epoll set until `expected` bytes arrived.
fn read_all(mut clients: Vec<TcpStream>, expected: usize, cpu: usize) {
    pin(cpu);
    // SAFETY: plain epoll calls on descriptors owned by `clients`, which
    // outlive the epoll set; the event buffer is sized to what is passed.
    unsafe {
        let ep = libc::epoll_create1(0);
        for (i, c) in clients.iter().enumerate() {
            c.set_nonblocking(true).expect("nonblocking");
            let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: i as u64 };
            libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, c.as_raw_fd(), &mut ev);
        }
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 256];
        let mut buf = vec![0u8; 64 * 1024];
        let mut got = 0;
        while got < expected {
            let n = libc::epoll_wait(ep, events.as_mut_ptr(), events.len() as i32, -1);
            for ev in events.iter().take(n.max(0) as usize) {
                let i = ev.u64 as usize;
                while let Ok(r) = clients[i].read(&mut buf) {
                    if r == 0 {
                        break;
                    }
                    got += r;
                }
            }
        }
        libc::close(ep);
    }
}
