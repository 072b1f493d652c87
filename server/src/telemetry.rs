//! Logging through `tracing`, to stderr.

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber; later calls (as in tests) are no-ops.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_target(false).try_init();
}
