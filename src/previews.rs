//! Link previews (issue 16): the OpenGraph title, description and site name
//! of a message's first link, fetched by the server after the message is
//! saved and shown under it. The preview arrives as an edit-like room event
//! (`message_edited`, logged as an `edited` change, so a resume replays it;
//! `edited_at` stays as it was, so it does not read as an edit).
//!
//! The core decides what is fetched and reads what comes back; the page is
//! fetched by the server's [`PageFetcher`] (reqwest: the core has no HTTP),
//! which goes through the SSRF guard ([`crate::outbound`]):
//! - only `http` and `https`, no credentials in the URL;
//! - every name is resolved once, and the connection goes to the addresses
//!   that were checked (public unicast only), so DNS rebinding gains
//!   nothing; a host written as an address is checked before the request;
//! - at most [`REDIRECTS_MAX`] redirects, each target checked the same way;
//! - [`FETCH_TIMEOUT`] for the whole exchange, body included;
//! - at most [`HTML_MAX`] bytes of HTML read;
//! - no proxy from the environment (a proxy would resolve names itself).
//!
//! No image is kept: a preview image would make every reader's browser
//! fetch from the linked site (or Hearth proxy it). The issue allows either
//! proxying or dropping it; Hearth drops it.
//!
//! Answers are kept per URL in `link_previews` for [`CACHE_SECS`], failures
//! included, and shared by every instance. Previews can be turned off per
//! instance (`HEARTH_LINK_PREVIEWS=false`).

use std::cell::RefCell;
use std::sync::Arc;
use std::time::Duration;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, EndTag, StartTag, Tag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use url::Url;

use crate::model::{LinkPreview, RoomId};

/// The longest a fetch may take, from connecting to the last byte read (for
/// the server's [`PageFetcher`]).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The most HTML read from a page; what follows is never downloaded.
pub const HTML_MAX: usize = 512 * 1024;
/// The most redirects followed.
pub const REDIRECTS_MAX: usize = 3;
/// How long an answer for a URL is reused.
pub const CACHE_SECS: i64 = 24 * 3600;
/// Previews fetched at once by one instance; more wait their turn.
const CONCURRENT: usize = 8;
const TITLE_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 300;
const SITE_NAME_MAX: usize = 100;

/// The server's HTTP client for link previews (`server/src/outbound.rs`):
/// GETs a page through the SSRF guard with the limits above.
#[async_trait::async_trait]
pub trait PageFetcher: Send + Sync {
    /// The page's HTML (at most [`HTML_MAX`] bytes of it, as text), `None`
    /// when it answers with an error status or is not HTML, or why the
    /// fetch failed.
    async fn fetch_html(&self, url: &Url) -> Result<Option<String>, String>;

    /// The body at `url`, for a picture to copy (an avatar set by its
    /// URL): at most `max` bytes, else why not (an error status, a body
    /// over `max`, a refused address, a timeout).
    async fn fetch_bytes(&self, url: &Url, max: u64) -> Result<Vec<u8>, String>;
}

/// The instance's link previews: off until the server installs a fetcher
/// ([`crate::Hearth::set_page_fetcher`]).
pub(crate) struct Previews {
    fetcher: std::sync::OnceLock<Arc<dyn PageFetcher>>,
    running: tokio::sync::Semaphore,
}

impl Previews {
    pub(crate) fn new() -> Self {
        Self { fetcher: std::sync::OnceLock::new(), running: tokio::sync::Semaphore::new(CONCURRENT) }
    }

    fn enabled(&self) -> bool {
        self.fetcher.get().is_some()
    }

    /// Fetches `url` and reads its preview; `Ok(None)` when the page says
    /// nothing worth showing.
    async fn fetch(&self, url: &Url) -> Result<Option<LinkPreview>, String> {
        let Some(fetcher) = self.fetcher.get() else { return Ok(None) };
        let _turn = self.running.acquire().await.ok();
        Ok(fetcher.fetch_html(url).await?.and_then(|html| parse(&html, url.as_str())))
    }
}

/// What a page's `<head>` says of it, read with html5ever's tokenizer:
/// `og:title`, `og:description`, `og:site_name`, else `<title>` and
/// `<meta name=description>`. Script and style bodies are skipped as the
/// browser skips them. `None` without a title.
pub fn parse(html: &str, url: &str) -> Option<LinkPreview> {
    let tokenizer = Tokenizer::new(HeadSink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // A `Script` result only pauses for a script to run; there is none.
    while !matches!(tokenizer.feed(&input), html5ever::TokenizerResult::Done) {}
    tokenizer.end();
    let found = tokenizer.sink.found.into_inner();
    let title = clean(found.og_title.or(found.title).as_deref(), TITLE_MAX)?;
    Some(LinkPreview {
        url: url.to_owned(),
        title,
        description: clean(found.og_description.or(found.description).as_deref(), DESCRIPTION_MAX),
        site_name: clean(found.og_site_name.as_deref(), SITE_NAME_MAX),
    })
}

/// Whitespace folded, control characters dropped, cut to `max` characters.
fn clean(text: Option<&str>, max: usize) -> Option<String> {
    let folded = text?.split_whitespace().collect::<Vec<_>>().join(" ");
    let kept: String = folded.chars().filter(|c| !c.is_control()).collect();
    if kept.is_empty() {
        return None;
    }
    Some(match kept.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", kept[..cut].trim_end()),
        None => kept,
    })
}

#[derive(Default)]
struct Found {
    og_title: Option<String>,
    og_description: Option<String>,
    og_site_name: Option<String>,
    title: Option<String>,
    description: Option<String>,
    in_title: bool,
}

#[derive(Default)]
struct HeadSink {
    found: RefCell<Found>,
}

impl HeadSink {
    fn meta(&self, tag: &Tag) {
        let attr = |name: &str| tag.attrs.iter().find(|a| &*a.name.local == name).map(|a| a.value.to_string());
        let (Some(key), Some(content)) = (attr("property").or_else(|| attr("name")), attr("content")) else {
            return;
        };
        let mut found = self.found.borrow_mut();
        let slot = match key.to_ascii_lowercase().as_str() {
            "og:title" => &mut found.og_title,
            "og:description" => &mut found.og_description,
            "og:site_name" => &mut found.og_site_name,
            "description" => &mut found.description,
            _ => return,
        };
        // The first one counts, as with every consumer of OpenGraph.
        slot.get_or_insert(content);
    }
}

impl TokenSink for HeadSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            TagToken(tag) => match (tag.kind, &*tag.name) {
                (StartTag, "meta") => self.meta(&tag),
                (StartTag, "title") => {
                    self.found.borrow_mut().in_title = true;
                    return TokenSinkResult::RawData(RawKind::Rcdata);
                }
                (EndTag, "title") => self.found.borrow_mut().in_title = false,
                (StartTag, "script") => return TokenSinkResult::RawData(RawKind::ScriptData),
                (StartTag, "style" | "noscript" | "template") => return TokenSinkResult::RawData(RawKind::Rawtext),
                _ => {}
            },
            Token::CharacterTokens(text) => {
                let mut found = self.found.borrow_mut();
                if found.in_title {
                    found.title.get_or_insert_with(String::new).push_str(&text);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

impl crate::Hearth {
    /// Fetches link previews through `fetcher` from now on (startup, unless
    /// `HEARTH_LINK_PREVIEWS=false`). A second call is ignored.
    pub fn set_page_fetcher(&self, fetcher: Arc<dyn PageFetcher>) {
        let _ = self.previews.fetcher.set(fetcher);
    }

    /// After a message is saved or edited: when previews are on and its
    /// first link has (or, fetched now, gets) a preview, shows it on the
    /// message and publishes the message as it is now. Runs in its own task;
    /// failures are logged, never the sender's concern.
    pub(crate) fn preview_later(&self, room: RoomId, number: i64, body: &str) {
        // Most messages have no link: no second Markdown pass for them.
        if !self.previews.enabled() || !body.contains("http") {
            return;
        }
        let Some(url) = previewed_link(body) else {
            return;
        };
        let hearth = self.clone();
        let body = body.to_owned();
        tokio::spawn(async move {
            if let Err(error) = hearth.preview(room, number, &body, &url).await {
                tracing::warn!(error = ?error, room = room.0, number, "link preview failed");
            }
        });
    }

    async fn preview(&self, room: RoomId, number: i64, body: &str, url: &Url) -> Result<(), crate::AppError> {
        let found = match self.store.cached_preview(url.as_str(), CACHE_SECS).await? {
            Some(found) => found,
            None => {
                let found = self.previews.fetch(url).await.unwrap_or_else(|error| {
                    tracing::info!(%error, url = url.as_str(), "no link preview");
                    None
                });
                self.store.save_preview(url.as_str(), found.as_ref()).await?;
                found
            }
        };
        if found.is_none() {
            return Ok(());
        }
        let _order = self.hub.order_room(room).await;
        if let Some((seq, message)) = self.store.attach_preview(room, number, body, url.as_str()).await? {
            self.hub.publish_room(room, &crate::protocol::ServerEvent::MessageEdited { room_id: room, seq, message });
        }
        Ok(())
    }
}

/// The link of `body` a preview is for (its first), as the preview cache
/// (`link_previews`) keys it.
pub(crate) fn previewed_link(body: &str) -> Option<Url> {
    crate::markdown::first_link(body).and_then(|u| Url::parse(&u).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_graph_wins_over_the_title_and_the_first_of_each_counts() {
        let html = r#"<!doctype html><html><head><title>Plain  title</title>
            <meta property="og:title" content="The &amp; OG title">
            <meta property="og:title" content="a second one">
            <meta name="description" content="meta description">
            <meta property="og:description" content="OG description">
            <meta property="og:site_name" content="Example"></head><body>x</body></html>"#;
        let p = parse(html, "https://example.com/a").expect("a preview");
        assert_eq!(p.title, "The & OG title");
        assert_eq!(p.description.as_deref(), Some("OG description"));
        assert_eq!(p.site_name.as_deref(), Some("Example"));
        assert_eq!(p.url, "https://example.com/a");
    }

    #[test]
    fn without_open_graph_the_title_and_meta_description_serve() {
        let html = "<html><head><title>\n  Hello &lt;world&gt;\n</title><meta name=description content='Said  here'></head></html>";
        let p = parse(html, "https://e.com/").expect("a preview");
        assert_eq!(p.title, "Hello <world>");
        assert_eq!(p.description.as_deref(), Some("Said here"));
        assert_eq!(p.site_name, None);
    }

    #[test]
    fn tags_inside_scripts_styles_and_titles_are_text_not_tags() {
        let html = r#"<head><script>var s = '<meta property="og:title" content="from a script">';</script>
            <style>/* <meta property="og:title" content="from a style"> */</style>
            <title>a <b>bold</b> title</title></head>"#;
        let p = parse(html, "https://e.com/").expect("a preview");
        assert_eq!(p.title, "a <b>bold</b> title");
    }

    #[test]
    fn a_page_without_a_title_has_no_preview_and_long_text_is_cut() {
        assert_eq!(parse("<html><body><p>just text</p></body></html>", "https://e.com/"), None);
        assert_eq!(parse("<title>   </title>", "https://e.com/"), None);
        let long = format!("<title>{}</title>", "word ".repeat(100));
        let title = parse(&long, "https://e.com/").expect("a preview").title;
        assert!(title.ends_with('…') && title.chars().count() <= TITLE_MAX + 1, "{title}");
    }
}
