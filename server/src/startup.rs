//! [`Application`]: build (bind first, so tests can ask for port 0), then run
//! until SIGTERM or Ctrl-C ([`Application::run_until_stopped`]) or any future
//! ([`Application::run_until`]), finishing in-flight requests up to the
//! shutdown deadline (see [`crate::serve`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};

use app::{App, shell};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::IntoResponse;
use axum::{Extension, Router};
use axum_login::AuthManagerLayerBuilder;
use hearth::Hearth;
use hearth::blobs::BlobStore;
use hearth::store::{Sessions, Store};
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{ExpiredDeletion, Expiry, SessionManagerLayer};

use crate::config::Config;
use crate::headers::provide_page_nonce;
use crate::limits::Limits;
use crate::metrics::Endpoint;
use crate::middleware::{refuse_cross_site_writes, require_sign_in_for_pages};
use crate::negotiate::json_errors;
use crate::origin::Scheme;
use crate::rest;
use crate::serve::{ServeSettings, Shutdown};
use crate::state::AppState;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The largest request body accepted, anywhere but uploads: twice the
/// longest message written as JSON escapes (10,000 characters outside the
/// BMP, 12 bytes each), so no one holds much memory with bodies that could
/// only be refused (`hardening.rs`).
pub const BODY_LIMIT: usize = 256 << 10;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "hearth_session";

/// Whether the request sends a session cookie (valid or not).
pub fn carries_session_cookie(headers: &axum::http::HeaderMap) -> bool {
    headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).any(|cookies| {
        cookies.split(';').any(|c| c.trim().split_once('=').is_some_and(|(name, _)| name == SESSION_COOKIE))
    })
}

pub struct Application {
    listener: TcpListener,
    router: Router,
    hearth: Hearth,
    serve: ServeSettings,
    shutdown: Shutdown,
    /// `/metrics` on its own address (`HEARTH_METRICS_LISTEN`), if set.
    metrics_listener: Option<(TcpListener, Router)>,
    /// Stops the expired-session cleanup when the application is dropped,
    /// which `run_until_stopped` does once the server has shut down.
    _session_cleanup: AbortOnDrop,
    /// Collects unused blobs hourly (`Hearth::run_blob_collector`) until the
    /// application is dropped.
    _blob_collector: AbortOnDrop,
    /// The Web Push worker (`Hearth::run_push_worker`), stopped after the
    /// server: dropping `stop` ends it once its job in hand is sent.
    push_worker: PushWorker,
    /// Held while this instance serves a SQLite database, so that another
    /// started on it warns (`hearth::store::serve_marker`).
    _serving: Option<hearth::store::ServeMarker>,
}

struct PushWorker {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl PushWorker {
    fn start(hearth: &Hearth) -> Result<Self, BoxError> {
        let policy = hearth::outbound::Policy { allow_loopback: hearth.settings().test_allow_loopback_fetch };
        let transport = crate::push::Pusher::transport(policy)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let hearth = hearth.clone();
        let task = tokio::spawn(async move {
            hearth
                .run_push_worker(transport, async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self { stop, task })
    }

    /// Stops claiming jobs, and waits (up to `deadline`) for the one in hand.
    async fn stop(self, deadline: std::time::Duration) {
        drop(self.stop);
        if tokio::time::timeout(deadline, self.task).await.is_err() {
            tracing::warn!("the push worker did not finish its job before the deadline");
        }
    }
}

/// Opens the store and applies migrations: every subcommand starts here.
pub async fn open_store(config: &Config) -> Result<Store, BoxError> {
    let url = config.database_url()?;
    Ok(Store::open_with(&url, config.store_options()).await?)
}

impl Application {
    pub async fn build(config: Config, leptos: LeptosOptions) -> Result<Self, BoxError> {
        Self::build_with_blobs(config, leptos, None).await
    }

    /// [`Application::build`], keeping files in `blobs` when given rather
    /// than where `config` says (the tests' own S3 server, whose address and
    /// keys are not in the environment).
    pub async fn build_with_blobs(
        config: Config,
        leptos: LeptosOptions,
        blobs: Option<Arc<dyn BlobStore>>,
    ) -> Result<Self, BoxError> {
        let store = open_store(&config).await?;
        let with_bus = config.bus_settings().is_some();
        let serving = match hearth::store::serve_marker(&config.database_url()?, with_bus).await {
            hearth::store::Serving::Alone(marker) => Some(marker),
            hearth::store::Serving::Shared(lock) => {
                tracing::warn!(
                    %lock,
                    "another `hearth serve` is using this database, and not every instance on it shares live \
                     changes over NATS: a message posted through one never reaches the sockets of another. \
                     Run one instance, or several on Postgres, each with HEARTH_NATS_URL (docs/deploy.md)"
                );
                None
            }
            hearth::store::Serving::Unknown => None,
        };
        // Before the bus connects: what it records from then on is kept.
        let metrics = match config.metrics_enabled() {
            true => Some(crate::metrics::install()?),
            false => None,
        };
        let hearth = match config.bus_settings() {
            Some(bus) => {
                let url = hearth::store::redact_password(&bus.url);
                tracing::info!(%url, prefix = %bus.prefix, "sharing live changes over NATS");
                Hearth::clustered(store.clone(), config.settings(), bus).await?
            }
            None => Hearth::new(store.clone(), config.settings()),
        };
        if config.demo {
            let report = hearth.seed_demo().await?;
            if report.users_created > 0 {
                tracing::info!(users = report.users_created, "seeded demo accounts");
            }
        }
        hearth.follow_the_log();
        hearth::auth::password::warm_up();
        if let Some(outbox) = crate::mail::outbox(&config)? {
            hearth.set_outbox(outbox);
        }
        hearth.set_blob_store(match blobs {
            Some(blobs) => blobs,
            None => crate::blobs::store(&config).await?,
        });
        let policy = hearth::outbound::Policy { allow_loopback: config.test_allow_loopback_fetch };
        let web = crate::outbound::WebFetcher::fetcher(policy)?;
        hearth.set_image_fetcher(web.clone());
        if config.link_previews {
            hearth.set_page_fetcher(web);
        }

        let sessions = store.sessions().await?;
        let session_cleanup =
            delete_expired_sessions(sessions.clone(), store.clone(), config.session_cleanup_interval());
        // Each request's session and user come from memory when they can
        // (`hearth::cache`); sign-out deletes through the cache.
        let sessions = hearth.session_store(sessions);
        let session_layer = SessionManagerLayer::new(sessions)
            .with_name(SESSION_COOKIE)
            .with_same_site(SameSite::Lax)
            .with_http_only(true)
            .with_secure(config.secure_cookies)
            .with_expiry(Expiry::OnInactivity(time::Duration::days(14)));
        let auth_layer = AuthManagerLayerBuilder::new(hearth.auth_backend(), session_layer).build();

        let shutdown = Shutdown::new();
        let state = AppState::new(hearth.clone(), leptos.clone(), shutdown.clone());
        let mut router = routes(state);
        let mut metrics_listener = None;
        if let Some(handle) = &metrics {
            if let Some(token) = config.metrics_token() {
                router = router.merge(Endpoint::new(handle.clone(), hearth.clone(), Some(token)).router());
            }
            if let Some(addr) = config.metrics_listen {
                let listener = TcpListener::bind(addr).await.map_err(|err| format!("metrics address {addr}: {err}"))?;
                metrics_listener = Some((listener, Endpoint::new(handle.clone(), hearth.clone(), None).router()));
            }
        }
        let serve = config.serve_settings();
        // The layers every request passes, outermost first, as one layer of
        // the router: it runs once a route has matched, so the metrics know
        // the route's pattern. One layer, not one per middleware: each request
        // clones its route's service, and with a router layer per middleware
        // that was a boxed service per layer, cloned again below each
        // middleware (a refused post took 1.8 times the core's time that way,
        // about 55 µs against 31 µs; docs/benchmarks.md).
        let router = router.layer(
            ServiceBuilder::new()
                // The request head limits and the body timeout (`crate::limits`).
                .layer(from_fn_with_state(Limits::new(serve.body_read_timeout), crate::limits::enforce))
                // Outside the others, so that their refusals (403, 413, …) are
                // counted too.
                .option_layer(metrics.is_some().then(|| from_fn(crate::metrics::track_http)))
                .map_response(IntoResponse::into_response)
                .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span))
                .layer(from_fn_with_state(crate::headers::page_policy(&leptos), crate::headers::security_headers))
                // The WASM bundle and pages shrink about 3x in transit.
                .layer(CompressionLayer::new())
                .layer(from_fn(crate::negotiate::pages_for_browsers))
                .layer(from_fn(json_errors))
                .layer(from_fn(crate::middleware::refuse_unreadable_requests))
                .layer(from_fn(crate::middleware::limit_bodies))
                // Read by the cross-site guard below and by the WebSocket upgrade.
                .layer(Extension(Scheme::served_over(config.secure_cookies)))
                .layer(from_fn(refuse_cross_site_writes))
                .layer(config.client_ip_source.clone().into_extension())
                .layer(auth_layer)
                // Inside the auth layer: each signed-in session's last request.
                .layer(from_fn_with_state(hearth.clone(), crate::rest::touch_session)),
        );

        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|err| format!("cannot listen on {} (HEARTH_LISTEN): {err}", config.listen))?;
        let push_worker = PushWorker::start(&hearth)?;
        let collector = hearth.clone();
        let blob_collector = AbortOnDrop(
            tokio::spawn(async move {
                collector.run_blob_collector(std::time::Duration::from_secs(3600), std::future::pending()).await;
            })
            .abort_handle(),
        );
        Ok(Self {
            listener,
            router,
            hearth,
            serve,
            shutdown,
            metrics_listener,
            _session_cleanup: session_cleanup,
            _blob_collector: blob_collector,
            push_worker,
            _serving: serving,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// Where `/metrics` is served on its own, if `HEARTH_METRICS_LISTEN` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().and_then(|(listener, _)| listener.local_addr().ok())
    }

    pub fn hearth(&self) -> &Hearth {
        &self.hearth
    }

    /// Serves until SIGTERM or Ctrl-C, then shuts down (see [`Self::run_until`]).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` resolves; then stops accepting, lets requests
    /// in flight finish and WebSockets close with 1012, and returns once they
    /// are done or the shutdown deadline has passed, whichever comes first.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        if let Some((listener, router)) = self.metrics_listener {
            tracing::info!(addr = %listener.local_addr()?, "serving /metrics");
            let stopped = self.shutdown.begun();
            tokio::spawn(async move {
                if let Err(err) = axum::serve(listener, router).with_graceful_shutdown(stopped).await {
                    tracing::warn!(error = %err, "the metrics listener failed");
                }
            });
        }
        let hearth = self.hearth.clone();
        let deadline = self.serve.shutdown_timeout;
        // One deadline for the whole shutdown: the push worker gets what the
        // connections left of it.
        let (begun, began) = tokio::sync::oneshot::channel();
        let shutdown = async move {
            shutdown.await;
            let _ = begun.send(std::time::Instant::now());
        };
        let served = crate::serve::serve(self.listener, self.router, self.serve, self.shutdown, shutdown).await;
        let left = began.await.map_or(std::time::Duration::ZERO, |at| deadline.saturating_sub(at.elapsed()));
        self.push_worker.stop(left).await;
        hearth.leave_cluster().await;
        served
    }
}

/// The page routes, generated once per process. `generate_route_list`
/// renders the app while a process-wide flag suppresses resource loading, and
/// a resource first polled by some request while that flag is up never loads,
/// so its page never finishes (leptos issue #4773). Generating once, before
/// any server in the process answers, keeps every render out of that window.
/// It matters where several servers share a process: the test suite hung on
/// it now and then.
static PAGE_ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));

/// REST, server functions and pages on one router. Pages (not the API) send
/// anonymous visitors to `/login`.
fn routes(state: AppState) -> Router {
    let leptos = state.leptos.clone();
    let page_routes = PAGE_ROUTES.clone();
    let hearth = state.hearth.clone();
    let hearth_for_errors = state.hearth.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            page_routes,
            move || {
                provide_context(hearth.clone());
                provide_page_nonce();
            },
            {
                let leptos = leptos.clone();
                move || shell(leptos.clone())
            },
        )
        .route_layer(from_fn_with_state(state.clone(), require_sign_in_for_pages));
    Router::new()
        .merge(rest::router())
        .merge(crate::ws::router())
        .merge(crate::cable::router())
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || {
                provide_context(hearth_for_errors.clone());
                provide_page_nonce();
            },
            shell,
        ))
        .merge(rest::upload_router())
        .with_state(state)
}

/// Deletes expired sessions every `period`, and then the records of them
/// (`user_sessions`, which a device's push subscription hangs on), until
/// the returned guard is dropped. A failed sweep (say, the database busy)
/// is logged and the next one still runs.
fn delete_expired_sessions(sessions: Sessions, store: Store, period: std::time::Duration) -> AbortOnDrop {
    let task = tokio::spawn(async move {
        loop {
            match sessions.delete_expired().await {
                Err(err) => tracing::warn!(error = %err, "deleting expired sessions failed"),
                Ok(()) => {
                    if let Err(err) = store.forget_ended_user_sessions().await {
                        tracing::warn!(error = %err, "forgetting expired sessions failed");
                    }
                }
            }
            tokio::time::sleep(period).await;
        }
    });
    AbortOnDrop(task.abort_handle())
}

/// Aborts a background task when dropped.
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn shutdown_signal() {
    stop_requested().await;
    tracing::info!("shutting down");
}

/// Ctrl-C or SIGTERM, whichever comes first.
pub async fn stop_requested() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Raises this process's soft open-file limit to its hard limit, and logs
/// it: every connection is a descriptor, and distributions still start
/// services at a soft 1,024, which a few hundred stalled clients would use up.
pub fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
            tracing::warn!(error = %std::io::Error::last_os_error(), "cannot read the open-file limit");
            return;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
            // SAFETY: as above.
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                limit = raised;
            } else {
                let error = std::io::Error::last_os_error();
                tracing::warn!(%error, soft = limit.rlim_cur, hard = limit.rlim_max, "cannot raise the open-file limit");
            }
        }
        tracing::info!(soft = limit.rlim_cur, hard = limit.rlim_max, "open-file limit");
    }
}

/// glibc raises its mmap threshold to the size of the largest block freed.
/// After the first argon2 hash (a 19 MiB block) every later one is carved
/// from a thread's arena instead, and each blocking thread keeps ~19 MiB of
/// RSS for good. A fixed threshold keeps blocks this large in `mmap`, which
/// gives them back to the system as soon as they are freed. Call it first
/// thing in `main`, before other threads start.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes an allocator setting (under the allocator's
    // own lock); it is called at startup.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}
