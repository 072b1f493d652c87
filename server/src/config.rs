//! Configuration from flags and environment variables (clap), plus the Leptos
//! site settings.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum_client_ip::ClientIpSource;
use clap::Args;
use leptos::config::LeptosOptions;

/// Settings shared by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HEARTH_LISTEN", default_value = "127.0.0.1:3000", global = true)]
    pub listen: SocketAddr,

    /// Database URL. Default: a SQLite file `hearth.db` in the data directory.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Where the default SQLite database lives; created if missing.
    #[arg(long, env = "HEARTH_DATA_DIR", default_value = "data", global = true)]
    pub data_dir: PathBuf,

    /// Log filter, in `tracing_subscriber::EnvFilter` syntax.
    #[arg(long, env = "HEARTH_LOG", default_value = "info,tower_http=info", global = true)]
    pub log: String,

    /// Demo mode: seed the demo accounts into a new database and offer them
    /// on the login page.
    #[arg(value_parser = clap::builder::BoolishValueParser::new(), long, env = "HEARTH_DEMO", global = true)]
    pub demo: bool,

    /// Mark the session cookie `Secure` (serve over https).
    #[arg(value_parser = clap::builder::BoolishValueParser::new(), long, env = "HEARTH_SECURE_COOKIES", global = true)]
    pub secure_cookies: bool,

    /// The Leptos site settings file, read when the binary runs without
    /// cargo-leptos. Default: the workspace's `Leptos.toml`.
    #[arg(long, env = "HEARTH_SITE_CONFIG", global = true)]
    pub site_config: Option<PathBuf>,

    /// Sign-in attempts allowed per client IP per minute (0 to 100000;
    /// 0: no limit).
    #[arg(long, env = "HEARTH_SIGN_INS_PER_IP", default_value_t = 30, global = true,
          value_parser = within::<u32, 0, 100_000>)]
    pub sign_ins_per_ip_per_minute: u32,

    /// Sign-in attempts allowed per account per minute (0 to 100000; 0: no
    /// limit).
    #[arg(long, env = "HEARTH_SIGN_INS_PER_ACCOUNT", default_value_t = 10, global = true,
          value_parser = within::<u32, 0, 100_000>)]
    pub sign_ins_per_account_per_minute: u32,

    /// Minutes after sending during which an author may edit a message
    /// (0 to 5256000, ten years).
    #[arg(long, env = "HEARTH_EDIT_WINDOW_MINUTES", default_value_t = 15, global = true,
          value_parser = within::<u64, 0, 5_256_000>)]
    pub edit_window_minutes: u64,

    /// Applications an anonymous client may create per IP per minute (0 to
    /// 100000; 0: no limit).
    #[arg(long, env = "HEARTH_ANONYMOUS_APPS_PER_IP", default_value_t = 10, global = true,
          value_parser = within::<u32, 0, 100_000>)]
    pub anonymous_apps_per_ip_per_minute: u32,

    /// Seconds a WebSocket write may wait for a client that is not reading
    /// before the connection is dropped (1 to 3600).
    #[arg(long, env = "HEARTH_WS_WRITE_TIMEOUT", default_value_t = 30, global = true,
          value_parser = within::<u64, 1, 3_600>)]
    pub ws_write_timeout_secs: u64,

    /// Where the client's address (for rate limits) comes from: `ConnectInfo`
    /// (the TCP peer, no proxy), or the header your reverse proxy sets:
    /// `RightmostXForwardedFor` (nginx, HAProxy, most load balancers),
    /// `XRealIp`, `CfConnectingIp`, `TrueClientIp`, `FlyClientIp`,
    /// `CloudFrontViewerAddress`, `XEnvoyExternalAddress`. Only name a header
    /// your proxy always sets, or clients can pick their own address.
    #[arg(long, env = "HEARTH_CLIENT_IP_SOURCE", default_value = "ConnectInfo", global = true)]
    pub client_ip_source: ClientIpSource,

    /// Least milliseconds between two writes of room messages to one
    /// WebSocket; messages arriving sooner wait and share the next write
    /// (one 60 Hz display frame by default; 0 writes each at once; at most
    /// 1000).
    #[arg(long, env = "HEARTH_WS_WRITE_DELAY_MS", default_value_t = 16, global = true,
          value_parser = within::<u64, 0, 1_000>)]
    pub ws_write_delay_ms: u64,

    /// Message searches allowed per user (or per application, on the token
    /// API) per minute (0 to 100000; 0: no limit).
    #[arg(long, env = "HEARTH_SEARCHES_PER_MINUTE", default_value_t = 60, global = true,
          value_parser = within::<u32, 0, 100_000>)]
    pub searches_per_minute: u32,
    /// Seconds a client has to send a whole request head (also how long an
    /// idle keep-alive connection stays open), 1 to 3600.
    #[arg(
        long,
        env = "HEARTH_HEADER_READ_TIMEOUT",
        default_value_t = 10,
        value_parser = within::<u64, 1, 3_600>,
        global = true
    )]
    pub header_read_timeout_secs: u64,

    /// Seconds a request body may go without a byte while it is read; then
    /// 408 and the connection closes (1 to 3600).
    #[arg(
        long,
        env = "HEARTH_BODY_READ_TIMEOUT",
        default_value_t = 30,
        value_parser = within::<u64, 1, 3_600>,
        global = true
    )]
    pub body_read_timeout_secs: u64,

    /// Concurrent connections (WebSockets included) per client address
    /// (per /64 for IPv6); more are closed at once. 0 to 1000000; 0 = no
    /// limit. Not applied when `--client-ip-source` names a proxy header:
    /// limit at the proxy instead.
    #[arg(long, env = "HEARTH_MAX_CONNECTIONS_PER_IP", default_value_t = 1000, global = true,
          value_parser = within::<usize, 0, 1_000_000>)]
    pub max_connections_per_ip: usize,

    /// Seconds that requests in flight and WebSockets get to finish after
    /// SIGTERM or Ctrl-C; what is left then is dropped (0 to 3600).
    #[arg(long, env = "HEARTH_SHUTDOWN_TIMEOUT", default_value_t = 10, global = true,
          value_parser = within::<u64, 0, 3_600>)]
    pub shutdown_timeout_secs: u64,
    /// Seconds between two sweeps that delete expired sessions (signed-in
    /// sessions expire after 14 days without a visit), 1 to 604800.
    #[arg(long, env = "HEARTH_SESSION_CLEANUP_SECS", default_value_t = 3600, global = true,
          value_parser = within::<u64, 1, 604_800>)]
    pub session_cleanup_secs: u64,
    /// Seconds a session, a signed-in user, a room membership or a room list
    /// may be answered from memory instead of the database. Sign-out,
    /// leaving and removal from a room, and profile changes take effect at
    /// once on this server whatever the value, and a room list is read again
    /// as soon as something it shows changes; 0 turns the caches off (at
    /// most 86400).
    #[arg(long, env = "HEARTH_CACHE_TTL_SECS", default_value_t = 30, global = true,
          value_parser = within::<u64, 0, 86_400>)]
    pub cache_ttl_secs: u64,
    /// SQLite's durability mode: `NORMAL` (a commit survives a crash of the
    /// process, not a power loss or OS crash) or `FULL` (it survives those
    /// too; each commit waits for the disk). Postgres ignores it.
    #[arg(long, env = "HEARTH_SQLITE_SYNCHRONOUS", default_value = "NORMAL", global = true)]
    pub sqlite_synchronous: hearth::store::SqliteSynchronous,
    /// Serve `/metrics` (Prometheus) on the main address to requests with
    /// `Authorization: Bearer <this token>`. Unset (and no metrics address):
    /// `/metrics` does not exist.
    #[arg(long, env = "HEARTH_METRICS_TOKEN", global = true, hide_env_values = true, value_parser = secret)]
    pub metrics_token: Option<String>,
    /// New messages a user (or an application, on the token API) may post
    /// per minute, as a burst that refills evenly; faster gets 429 with
    /// `Retry-After` (WebSocket: `error {code:"rate_limited"}`). 0 to
    /// 100000; 0: no limit.
    #[arg(long, env = "HEARTH_MESSAGES_PER_MINUTE", default_value_t = 300, global = true,
          value_parser = within::<u32, 0, 100_000>)]
    pub messages_per_minute: u32,
    /// Who may create an account until an admin sets a policy (in the UI or
    /// with `hearth sign-up-policy`): `open`, `invite` or `closed`. Default:
    /// `invite`, or `open` in demo mode. The first account of an instance
    /// may always register, and becomes its admin.
    #[arg(long, env = "HEARTH_SIGN_UP_POLICY", global = true)]
    pub sign_up_policy: Option<hearth::model::SignUpPolicy>,
    /// Also serve `/metrics`, without a token, on this separate address
    /// (a private interface, e.g. `127.0.0.1:9090`).
    #[arg(long, env = "HEARTH_METRICS_LISTEN", global = true)]
    pub metrics_listen: Option<SocketAddr>,
    /// NATS server(s) to share live changes with the other instances on the
    /// same database (`nats://host:4222`, comma-separated for a cluster).
    /// Unset: one instance, nothing leaves the process.
    #[arg(long, env = "HEARTH_NATS_URL", global = true)]
    pub nats_url: Option<String>,
    /// Subject prefix on NATS: every instance of one Hearth uses the same;
    /// two Hearths sharing a NATS use different ones.
    #[arg(long, env = "HEARTH_NATS_PREFIX", default_value = "hearth", global = true)]
    pub nats_prefix: String,
    /// Milliseconds a room change from another instance may wait for an
    /// earlier one before the gap is read from the database.
    #[arg(long, env = "HEARTH_BUS_GAP_MS", default_value_t = 200, global = true,
          value_parser = within::<u64, 1, 60_000>)]
    pub bus_gap_ms: u64,
    /// Seconds an instance's users stay online after its last heartbeat
    /// (an instance that dies is noticed within this).
    #[arg(long, env = "HEARTH_PRESENCE_TTL_SECS", default_value_t = 10, global = true,
          value_parser = within::<u64, 1, 3_600>)]
    pub presence_ttl_secs: u64,
    /// SMTP server for mail (the forgotten-password link), as lettre reads
    /// it: `smtps://user:pass@host` (TLS), `smtp://host:587?tls=required`
    /// (STARTTLS), or `smtp://127.0.0.1:25` (plain, for a local relay).
    /// Unset: no mail, and the login page offers no "Forgot password?".
    #[arg(long, env = "HEARTH_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The `From:` of Hearth's mail, e.g. `Hearth <hearth@chat.example.com>`;
    /// required with `--smtp-url`.
    #[arg(long, env = "HEARTH_SMTP_FROM", global = true)]
    pub smtp_from: Option<String>,
    /// The address people reach this Hearth at (`https://chat.example.com`),
    /// for links in mail; required with `--smtp-url`. Never taken from a
    /// request's `Host`, which a client chooses. Checked whenever set: an
    /// http(s) URL with a host.
    #[arg(long, env = "HEARTH_PUBLIC_URL", global = true, value_parser = public_url)]
    pub public_url: Option<String>,
    /// Forgotten-password mails one address may ask for per hour (each
    /// client also spends its sign-in budget), 0 to 10000; 0: no limit.
    #[arg(long, env = "HEARTH_RESET_MAILS_PER_ADDRESS", default_value_t = 5, global = true,
          value_parser = within::<u32, 0, 10_000>)]
    pub reset_mails_per_address_per_hour: u32,
    /// Fetch a preview (OpenGraph title, description, site name) of the
    /// first link in each message, through the SSRF guard: public addresses
    /// only, 3 redirects, 5 s, 512 KiB. `false` turns it off.
    #[arg(value_parser = clap::builder::BoolishValueParser::new(), long, env = "HEARTH_LINK_PREVIEWS", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub link_previews: bool,
    /// Test only: let link previews and Web Push reach loopback (127.0.0.0/8,
    /// ::1), so that a test's own web server or push service can stand in.
    /// Never set it in a deployment: it opens the server's own ports to its
    /// users.
    #[arg(value_parser = clap::builder::BoolishValueParser::new(), long, env = "HEARTH_TEST_ALLOW_LOOPBACK_FETCH", default_value_t = false, action = clap::ArgAction::Set,
          hide = true, global = true)]
    pub test_allow_loopback_fetch: bool,
    /// Seconds after its commit that a message's Web Push is decided: read
    /// on any device by then, or shown in an open tab, it is not pushed.
    #[arg(long, env = "HEARTH_PUSH_DELAY_SECS", default_value_t = 10, global = true,
          value_parser = within::<u64, 0, 3_600>)]
    pub push_delay_secs: u64,
    /// Message pushes one device gets per minute (a burst, refilling
    /// evenly); more are dropped (the room's notification is showing).
    #[arg(long, env = "HEARTH_PUSH_PER_DEVICE_PER_MINUTE", default_value_t = 6, global = true,
          value_parser = within::<u32, 1, 600>)]
    pub push_per_device_per_minute: u32,
    /// The contact the push services are given in each VAPID token (`sub`):
    /// `mailto:ops@example.com` or an `https://` URL. Unset: the public URL
    /// if set, else `mailto:hearth@localhost`.
    #[arg(long, env = "HEARTH_PUSH_CONTACT", global = true, value_parser = push_contact)]
    pub push_contact: Option<String>,
    /// The largest file upload (an attachment or an avatar), in bytes;
    /// larger ones get 413 and nothing of them is kept.
    #[arg(long, env = "HEARTH_UPLOAD_MAX_BYTES", default_value_t = 25 * 1024 * 1024, global = true,
          value_parser = within::<u64, 1, { 4u64 << 30 }>)]
    pub upload_max_bytes: u64,
    /// Message writers on Postgres: transactions of new messages in flight
    /// at once, rooms spread over them (SQLite always has one). More suit a
    /// database server whose commits are cheap to run side by side.
    #[arg(long, env = "HEARTH_POSTGRES_WRITERS", default_value_t = hearth::POSTGRES_WRITERS, global = true,
          value_parser = within::<usize, 1, 6>)]
    pub postgres_writers: usize,
    /// Where uploaded files are kept: unset, `<data dir>/blobs`; or an
    /// S3-compatible bucket, `s3://bucket/prefix`, configured from the
    /// `AWS_*` variables (needed when several instances serve one Hearth).
    #[arg(long, env = "HEARTH_BLOB_STORE", global = true)]
    pub blob_store: Option<String>,
    /// Test only: the percentage of room changes this instance does not
    /// publish on NATS, to show that the change log fills what the bus loses.
    #[arg(long, env = "HEARTH_TEST_BUS_DROP_PERCENT", default_value_t = 0, hide = true, global = true,
          value_parser = within::<u8, 0, 100>)]
    pub test_bus_drop_percent: u8,
}

/// A whole number from `MIN` to `MAX`: every numeric setting has both, so
/// that no value overflows a duration or a multiplication later.
pub fn within<T: TryFrom<u64>, const MIN: u64, const MAX: u64>(raw: &str) -> Result<T, String> {
    let out_of_range = || format!("{raw:?} is not a whole number from {MIN} to {MAX}");
    let n: u64 = raw.trim().parse().map_err(|_| out_of_range())?;
    if !(MIN..=MAX).contains(&n) {
        return Err(out_of_range());
    }
    T::try_from(n).map_err(|_| out_of_range())
}

/// The address people reach this Hearth at: an http(s) URL with a host.
pub fn public_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    let refused = || format!("{raw:?} is not an http:// or https:// URL with a host (e.g. https://chat.example.com)");
    let parsed = url::Url::parse(raw).map_err(|_| refused())?;
    match parsed.scheme() {
        "http" | "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(raw.to_owned()),
        _ => Err(refused()),
    }
}

/// A secret set on purpose: a blank one would turn what it guards off
/// without a word (clap already ignores an empty environment variable).
fn secret(raw: &str) -> Result<String, String> {
    let token = raw.trim();
    if token.is_empty() {
        Err("blank: set a token, or unset it to turn the feature off".to_owned())
    } else {
        Ok(token.to_owned())
    }
}

/// A VAPID contact: `mailto:…` or `https://…` (RFC 8292 §2.1).
fn push_contact(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    match raw.starts_with("mailto:") || raw.starts_with("https://") {
        true if raw.len() > 8 => Ok(raw.to_owned()),
        _ => Err("a mailto: address or an https:// URL".into()),
    }
}

impl Config {
    pub fn edit_window_secs(&self) -> u64 {
        self.edit_window_minutes.saturating_mul(60)
    }

    pub fn session_cleanup_interval(&self) -> std::time::Duration {
        // At least a second: a zero period would make tokio's interval panic.
        std::time::Duration::from_secs(self.session_cleanup_secs.max(1))
    }

    /// `DATABASE_URL`, or the SQLite file in the data directory (which is
    /// created here when missing, and must be writable).
    pub fn database_url(&self) -> Result<String, String> {
        if self.database_url.is_some() {
            return self.database_location();
        }
        let dir = &self.data_dir;
        // It will hold every account's data and the live sessions: one made
        // here is for this user only.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(dir)
            .map_err(|e| format!("cannot create the data directory {} (HEARTH_DATA_DIR): {e}", dir.display()))?;
        if !dir.join("hearth.db").exists() {
            // SQLite would say only "unable to open database file".
            let probe = dir.join(".hearth-write-check");
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&probe)
                .map_err(|e| format!("cannot write in the data directory {} (HEARTH_DATA_DIR): {e}", dir.display()))?;
            let _ = std::fs::remove_file(&probe);
        }
        self.database_location()
    }

    /// `DATABASE_URL` (checked: `sqlite:…` or `postgres(ql)://…`), or the
    /// SQLite file in the data directory; nothing is created.
    pub fn database_location(&self) -> Result<String, String> {
        match self.database_url.as_deref().map(str::trim) {
            // An empty path or `:memory:` would serve a database that each
            // connection sees afresh, and that is gone at exit.
            Some(url) if url.starts_with("sqlite:") => match hearth::store::sqlite_file(url) {
                Some(_) => Ok(url.to_owned()),
                None => Err(format!(
                    "DATABASE_URL {url:?} names no database file (an in-memory database would be lost at exit): \
                     use sqlite://path/to/hearth.db"
                )),
            },
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => Ok(url.to_owned()),
            Some(url) => Err(format!(
                "DATABASE_URL {:?} is not a database URL: use sqlite://path/to/hearth.db or postgres://user@host/db",
                redact_url(url)
            )),
            None => Ok(format!("sqlite://{}", self.data_dir.join("hearth.db").display())),
        }
    }

    /// How the store opens its database.
    pub fn store_options(&self) -> hearth::store::StoreOptions {
        hearth::store::StoreOptions { sqlite_synchronous: self.sqlite_synchronous, ..Default::default() }
    }

    /// Whether `/metrics` is served anywhere (an empty token counts as unset).
    pub fn metrics_enabled(&self) -> bool {
        self.metrics_token().is_some() || self.metrics_listen.is_some()
    }

    /// The metrics token, if a non-empty one is set.
    pub fn metrics_token(&self) -> Option<&str> {
        self.metrics_token.as_deref().map(str::trim).filter(|t| !t.is_empty())
    }

    pub fn settings(&self) -> hearth::Settings {
        hearth::Settings {
            demo_mode: self.demo,
            sign_ins_per_ip_per_minute: self.sign_ins_per_ip_per_minute,
            sign_ins_per_account_per_minute: self.sign_ins_per_account_per_minute,
            edit_window_secs: self.edit_window_secs(),
            anonymous_apps_per_ip_per_minute: self.anonymous_apps_per_ip_per_minute,
            ws_write_timeout_secs: self.ws_write_timeout_secs,
            ws_write_delay_ms: self.ws_write_delay_ms,
            searches_per_minute: self.searches_per_minute,
            cache_ttl_secs: self.cache_ttl_secs,
            messages_per_minute: self.messages_per_minute,
            sign_up_policy: self.sign_up_policy.unwrap_or(if self.demo {
                hearth::model::SignUpPolicy::Open
            } else {
                hearth::model::SignUpPolicy::Invite
            }),
            reset_mails_per_address_per_hour: self.reset_mails_per_address_per_hour,
            test_allow_loopback_fetch: self.test_allow_loopback_fetch,
            push_delay_secs: self.push_delay_secs,
            push_per_device_per_minute: self.push_per_device_per_minute,
            push_contact: self
                .push_contact
                .clone()
                .or_else(|| {
                    self.public_url.as_deref().map(str::trim).filter(|u| u.starts_with("https://")).map(str::to_owned)
                })
                .unwrap_or_else(|| "mailto:hearth@localhost".into()),
            upload_max_bytes: self.upload_max_bytes,
            postgres_writers: self.postgres_writers,
        }
    }

    /// The SMTP URL, if a non-empty one is set.
    pub fn smtp_url(&self) -> Option<&str> {
        self.smtp_url.as_deref().map(str::trim).filter(|u| !u.is_empty())
    }

    /// The bus to the other instances, if NATS is configured.
    pub fn bus_settings(&self) -> Option<hearth::bus::BusSettings> {
        let url = self.nats_url.as_deref().map(str::trim).filter(|url| !url.is_empty())?;
        let mut bus = hearth::bus::BusSettings::new(url, self.nats_prefix.trim());
        bus.gap = Duration::from_millis(self.bus_gap_ms);
        bus.presence_ttl = Duration::from_secs(self.presence_ttl_secs);
        bus.drop_percent = self.test_bus_drop_percent;
        Some(bus)
    }

    /// How connections are served (timeouts, per-IP limit, shutdown).
    pub fn serve_settings(&self) -> crate::serve::ServeSettings {
        let behind_proxy = !matches!(self.client_ip_source, ClientIpSource::ConnectInfo);
        crate::serve::ServeSettings {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_secs),
            // Behind a proxy every connection comes from the proxy.
            max_connections_per_ip: if behind_proxy { 0 } else { self.max_connections_per_ip },
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout_secs),
        }
    }

    /// The Leptos options. Under cargo-leptos they come from its `LEPTOS_*`
    /// variables; otherwise from `Leptos.toml`, whose relative `site-root`
    /// is taken from the file's own directory so the binary runs from anywhere.
    pub fn leptos_options(&self) -> Result<LeptosOptions, String> {
        if std::env::var_os("LEPTOS_SITE_ROOT").is_some() {
            return leptos::config::get_configuration(None)
                .map(|c| c.leptos_options)
                .map_err(|e| format!("reading LEPTOS_* settings: {e}"));
        }
        let file = self.site_config.clone().unwrap_or_else(default_site_config);
        std::fs::read_to_string(&file)
            .map_err(|e| format!("cannot read the site config {} (HEARTH_SITE_CONFIG): {e}", file.display()))?;
        let malformed = |why: String| {
            format!(
                "the site config {} (HEARTH_SITE_CONFIG) is not a Leptos.toml with a [package.metadata.leptos] \
                 table: {why}",
                file.display()
            )
        };
        let mut options = leptos::config::get_configuration(Some(&file.to_string_lossy()))
            // leptos's own errors name Cargo.toml, whatever the file.
            .map_err(|e| malformed(e.to_string().replace("Cargo.toml", "it")))?
            .leptos_options;
        let root = Path::new(&*options.site_root);
        if root.is_relative() {
            let base = file.parent().unwrap_or(Path::new("."));
            options.site_root = base.join(root).to_string_lossy().into();
        }
        Ok(options)
    }
}

/// The browser bundle's script under the site root, when it is missing: the
/// pages would then load without their JavaScript and never come alive.
pub fn missing_browser_bundle(options: &LeptosOptions) -> Option<PathBuf> {
    let script =
        Path::new(&*options.site_root).join(&*options.site_pkg_dir).join(format!("{}.js", options.output_name));
    (!script.is_file()).then_some(script)
}

/// `url` with any password replaced, for messages.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// `Leptos.toml` at the root of the workspace this binary was built from.
fn default_site_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("Leptos.toml")
}
