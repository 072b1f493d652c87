//! The Web Push transport: the core's push worker (`hearth::push_queue`)
//! decides, encrypts and signs; this POSTs each request to its push service
//! with reqwest (rustls on ring, the system's roots) and reports the status.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hearth::push_queue::{PushRequest, PushTransport};

/// Longest wait for a push service's answer.
const TIMEOUT: Duration = Duration::from_secs(10);

/// One HTTP client (a connection pool) for every push.
pub struct Pusher {
    client: reqwest::Client,
}

impl Pusher {
    pub fn transport() -> Result<Arc<dyn PushTransport>, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Hearth/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Arc::new(Self { client }))
    }
}

#[async_trait]
impl PushTransport for Pusher {
    async fn send(&self, request: PushRequest) -> Result<u16, String> {
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
