//! Outbound HTTP on a user's behalf (link previews, avatars given by URL,
//! Web Push), through the core's SSRF guard (`hearth::outbound`): this is
//! the reqwest side of it. Every client here resolves names with
//! [`GuardedResolver`], takes no proxy from the environment, and checks a
//! host written as an address (which never reaches a resolver) before each
//! request and each redirect.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use hearth::outbound::{self, Policy};
use hearth::previews::{FETCH_TIMEOUT, HTML_MAX, PageFetcher, REDIRECTS_MAX};

/// The DNS resolver of every outbound reqwest client (link previews, Web
/// Push): resolves each name once and answers only when every address it
/// gives is one the policy admits, so the connection goes to exactly the
/// addresses that were checked. Hosts written as addresses never reach a
/// resolver: check them with [`outbound::check_url`] before each request.
pub struct GuardedResolver {
    pub policy: Policy,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addresses.is_empty() {
                return Err(Box::new(outbound::Refused::Unresolved) as Box<dyn std::error::Error + Send + Sync>);
            }
            if let Some(bad) = addresses.iter().find(|a| !policy.admits(a.ip())) {
                return Err(
                    Box::new(outbound::Refused::NotPublic(bad.ip())) as Box<dyn std::error::Error + Send + Sync>
                );
            }
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The link-preview fetcher: GET with at most [`REDIRECTS_MAX`] redirects
/// (each target checked), [`FETCH_TIMEOUT`] for the whole exchange, and at
/// most [`HTML_MAX`] bytes of HTML read.
pub struct WebFetcher {
    client: reqwest::Client,
    policy: Policy,
}

impl WebFetcher {
    pub fn fetcher(policy: Policy) -> Result<Arc<dyn PageFetcher>, reqwest::Error> {
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > REDIRECTS_MAX {
                attempt.error("too many redirects")
            } else if let Err(refused) = outbound::check_url(attempt.url(), policy) {
                attempt.error(refused)
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver { policy }))
            .no_proxy()
            .timeout(FETCH_TIMEOUT)
            .redirect(redirects)
            .user_agent(concat!("Hearth/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Arc::new(Self { client, policy }))
    }
}

#[async_trait]
impl PageFetcher for WebFetcher {
    async fn fetch_html(&self, url: &reqwest::Url) -> Result<Option<String>, String> {
        outbound::check_url(url, self.policy).map_err(|refused| refused.to_string())?;
        let mut response = self
            .client
            .get(url.clone())
            .header(reqwest::header::ACCEPT, "text/html,application/xhtml+xml;q=0.9")
            .send()
            .await
            .map_err(|err| err.to_string())?;
        let html_type =
            response.headers().get(reqwest::header::CONTENT_TYPE).and_then(|t| t.to_str().ok()).is_some_and(|t| {
                let t = t.trim_start().to_ascii_lowercase();
                t.starts_with("text/html") || t.starts_with("application/xhtml+xml")
            });
        if !response.status().is_success() || !html_type {
            return Ok(None);
        }
        let mut html = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| err.to_string())? {
            let room = HTML_MAX - html.len();
            html.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if html.len() == HTML_MAX {
                break;
            }
        }
        Ok(Some(String::from_utf8_lossy(&html).into_owned()))
    }

    async fn fetch_bytes(&self, url: &reqwest::Url, max: u64) -> Result<Vec<u8>, String> {
        outbound::check_url(url, self.policy).map_err(|refused| refused.to_string())?;
        let mut response = self.client.get(url.clone()).send().await.map_err(|err| err.to_string())?;
        if !response.status().is_success() {
            return Err(format!("answered {}", response.status()));
        }
        let too_large = || format!("larger than {max} bytes");
        if response.content_length().is_some_and(|length| length > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|err| err.to_string())? {
            if (body.len() + chunk.len()) as u64 > max {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}
