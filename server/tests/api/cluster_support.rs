//! Several instances, one chat: a real `nats-server` started by the test (on
//! a loopback port, stopped by PID when dropped), and two or three
//! `Application`s in this process on one Postgres database, each with the
//! test's own subject prefix so that tests cannot hear each other.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use hearth::store::Backend;
use hearth_server::config::Config;

use crate::helpers::{TestApp, spawn_app_with};

/// The `nats-server` binary (Debian's package puts it in /usr/sbin).
fn nats_binary() -> Option<&'static str> {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .into_iter()
        .find(|path| std::path::Path::new(path).exists())
}

/// Whether the test should return at once: the instances share a Postgres
/// database (the SQLite pass records a skip), and need `nats-server`
/// (`make test` installs it; without it the skip is recorded too).
pub fn skip_cluster() -> bool {
    if hearth::testing::skip_unless(Backend::Postgres, "several instances share a Postgres database") {
        return true;
    }
    if nats_binary().is_none() {
        assert!(std::env::var_os("CI").is_none(), "CI installs nats-server (scripts/bootstrap.sh)");
        eprintln!("skipped: nats-server is not installed (make test installs it)");
        return true;
    }
    false
}

/// A `nats-server` of this test's own.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
}

impl Nats {
    /// Starts one on a free loopback port.
    pub async fn start() -> Self {
        let port = free_port();
        let mut nats = Self { child: None, port };
        nats.restart().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills it (SIGKILL by PID) and waits for it to be gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, and waits until it accepts.
    pub async fn restart(&mut self) {
        self.stop();
        let child = Command::new(nats_binary().expect("nats-server is installed"))
            .args(["-a", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("nats-server did not listen on {}", self.port);
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("an address").port()
}

/// A subject prefix no other test uses.
pub fn prefix() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("test{}x{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// `count` instances on one new database, all on `nats` under one prefix;
/// `configure` is applied to each (its index given).
pub async fn instances(nats: &Nats, count: usize, configure: impl Fn(usize, &mut Config)) -> Vec<TestApp> {
    let prefix = prefix();
    let mut apps: Vec<TestApp> = Vec::with_capacity(count);
    for index in 0..count {
        let database = apps.first().map(|first| first.database_url.clone());
        let app = spawn_app_with(|config| {
            if let Some(url) = database {
                config.database_url = Some(url);
            }
            config.nats_url = Some(nats.url());
            config.nats_prefix = prefix.clone();
            configure(index, config);
        })
        .await;
        apps.push(app);
    }
    // Each has subscribed once its client connected; wait for that.
    for app in &apps {
        wait_for_bus(app).await;
    }
    apps
}

/// Waits until the instance's bus is connected (its `/healthz` is 200).
pub async fn wait_for_bus(app: &TestApp) {
    for _ in 0..500 {
        if matches!(app.hearth.bus().health(), hearth::bus::BusHealth::Connected { .. }) {
            // The subscription is registered right after the connect.
            tokio::time::sleep(Duration::from_millis(50)).await;
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the instance never connected to NATS");
}
