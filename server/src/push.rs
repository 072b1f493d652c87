//! The Web Push transport: the core's push worker (`hearth::push_queue`)
//! decides, encrypts and signs; this POSTs each request to its push service
//! with reqwest (rustls on ring, the system's roots) and reports the status.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth::outbound::{self, Policy};
use hearth::push_queue::{PushRequest, PushTransport};

/// Longest wait for a push service's answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One HTTP client (a connection pool) for every push.
pub struct Pusher {
    client: reqwest::Client,
    policy: Policy,
}

impl Pusher {
    /// A subscription's endpoint is an address a user chose, so pushes go
    /// through the SSRF guard (`hearth::outbound`) as link previews do:
    /// public addresses only (loopback too under the test-only policy),
    /// each name resolved once, no proxy from the environment.
    pub fn transport(policy: Policy) -> Result<Arc<dyn PushTransport>, reqwest::Error> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(crate::outbound::GuardedResolver { policy }))
            .no_proxy()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Hearth/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Arc::new(Self { client, policy }))
    }
}

#[async_trait]
impl PushTransport for Pusher {
    async fn send(&self, request: PushRequest) -> Result<u16, String> {
        // An endpoint whose host is a non-public address is never contacted;
        // it is answered as a push service answers a subscription that is
        // gone (410), so it is removed.
        let url = reqwest::Url::parse(&request.endpoint).map_err(|err| err.to_string())?;
        if outbound::check_url(&url, self.policy).is_err() {
            return Ok(410);
        }
        let response = self
            .client
            .post(&request.endpoint)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("TTL", request.ttl.to_string())
            .header("Urgency", request.urgency)
            .header("Topic", request.topic)
            .header("Authorization", request.authorization)
            .body(request.body)
            .send()
            .await
            .map_err(|err| err.to_string())?;
        Ok(response.status().as_u16())
    }
}
