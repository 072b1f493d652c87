//! Files in messages (issue 16): uploads to a room, sent with a message,
//! downloaded by its members only; uploaded avatars; and collecting blobs
//! nothing refers to any more.
//!
//! **An upload** is admitted before its body is read (`Hearth::admit_upload`:
//! a member of a writable room, a declared length within the size setting,
//! 60 a minute, at most [`RECEIVING_PER_USER`] bodies of one user and
//! [`RECEIVING_LIMITS`] limits' worth of bytes on the instance being received
//! at once), so no one holds the server's memory with bodies it would refuse.
//! Then (`Hearth::upload_attachment`) it is checked again (not empty, within
//! the setting, still a member), typed
//! from its bytes ([`served_type`]: a safe list of images, PDF and text;
//! everything else is `application/octet-stream`), and, for an image,
//! thumbnailed off the async threads (`crate::images`: limits against
//! decompression bombs, EXIF orientation applied, metadata dropped). Its row
//! and its blobs' rows are written in one transaction, then the bytes are put
//! in the blob store; nothing is written before the whole body has arrived,
//! so a refused or broken upload leaves nothing behind.
//!
//! **A send** names its uploads (`attachment_ids`, at most
//! [`MAX_PER_MESSAGE`]): they must be the sender's own, to the same room, not
//! yet sent. The group-commit writer gives them the message's number in the
//! message's own transaction (`Store::append_messages`).
//!
//! **A download** (`Hearth::open_attachment`) checks membership of the
//! attachment's room on every request (an unsent upload: its uploader only);
//! anyone else gets the same 404 as for a file that does not exist.
//!
//! **Collection** (`Hearth::collect_blobs`, run hourly by the server): uploads
//! no message took within a day are dropped; then each blob that nothing
//! refers to and that was recorded before the grace period is deleted, its
//! row and its bytes in one transaction (see `Store::delete_blob_if_unused`).
//! An upload records its blob's row (refreshing its time) *before* putting
//! the bytes, so the collector either sees it wanted, or has finished
//! deleting before the upload records it again and puts the bytes back.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use image::ImageFormat;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::auth::Limiter;
use crate::blobs::{BlobStore, key_of};
use crate::error::{AppError, FieldError};
use crate::images::{self, Encoded, ImageError};
use crate::model::{Attachment, Profile, RoomId, UserId};
use crate::store::{BlobRef, NewUpload};

/// Files one message may carry.
pub const MAX_PER_MESSAGE: usize = 10;
/// The longest file name kept, in characters.
pub const NAME_MAX: usize = 255;
/// Uploads per user per minute.
pub const UPLOADS_PER_MINUTE: u32 = 60;
/// Images decoded at once (each may take up to `images::MAX_DECODE_BYTES`).
const DECODING_AT_ONCE: usize = 2;
/// Upload bodies one user may be sending at once.
pub const RECEIVING_PER_USER: usize = 2;
/// Upload bytes the instance holds while receiving them, in upload limits
/// (8 × 25 MB by default): a body is admitted with its declared length's
/// share, or a whole limit's when it declares none.
pub const RECEIVING_LIMITS: u64 = 8;
/// Retry-After for an upload refused because others are being received.
const RECEIVING_RETRY_SECS: u64 = 5;
/// An upload no message took is dropped after this long.
pub const UNSENT_KEPT: Duration = Duration::from_secs(24 * 60 * 60);
/// A blob nothing refers to is kept this long after it was last recorded.
pub const BLOB_GRACE: Duration = Duration::from_secs(60 * 60);

/// The blob store and the limits on using it.
pub(crate) struct Files {
    blobs: OnceLock<Arc<dyn BlobStore>>,
    /// What copies an avatar given by its URL (through the SSRF guard).
    web: OnceLock<Arc<dyn crate::previews::PageFetcher>>,
    decoding: Semaphore,
    /// Each person's one turn at decoding (see `Hearth::decode`).
    decoding_by_user: Mutex<HashMap<UserId, Arc<Semaphore>>>,
    uploads: Limiter<UserId>,
    /// KiB of upload bodies being received (see [`RECEIVING_LIMITS`]).
    receiving: Arc<Semaphore>,
    /// Upload bodies being received, per user (see [`RECEIVING_PER_USER`]).
    receiving_by_user: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Files {
    pub(crate) fn new(upload_limit: u64) -> Self {
        let kib = usize::try_from(kib(upload_limit).saturating_mul(RECEIVING_LIMITS)).unwrap_or(usize::MAX);
        Self {
            blobs: OnceLock::new(),
            web: OnceLock::new(),
            decoding: Semaphore::new(DECODING_AT_ONCE),
            decoding_by_user: Mutex::default(),
            uploads: Limiter::per_minute(UPLOADS_PER_MINUTE),
            receiving: Arc::new(Semaphore::new(kib.min(Semaphore::MAX_PERMITS))),
            receiving_by_user: Arc::default(),
        }
    }
}

/// `bytes` in KiB, rounded up.
fn kib(bytes: u64) -> u64 {
    bytes.div_ceil(1024)
}

/// Leave to receive one upload body ([`Hearth::admit_upload`]), held until
/// the upload is stored or refused: while it lives, its bytes count against
/// the instance's share and its body against its user's.
#[derive(Debug)]
pub struct UploadPass {
    me: UserId,
    room: Option<RoomId>,
    _bytes: OwnedSemaphorePermit,
    by_user: Arc<Mutex<HashMap<UserId, usize>>>,
}

impl Drop for UploadPass {
    fn drop(&mut self) {
        let mut by_user = self.by_user.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = by_user.get_mut(&self.me) {
            *count -= 1;
            if *count == 0 {
                by_user.remove(&self.me);
            }
        }
    }
}

/// Which of an attachment's files to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    File,
    Thumbnail,
}

/// A file to send: where its bytes are, and how to serve them.
#[derive(Debug, Clone)]
pub struct Download {
    pub key: String,
    pub file_name: String,
    pub content_type: String,
    /// Shown in the browser (safe types) rather than saved.
    pub inline: bool,
    /// Its size in bytes when recorded (files; not thumbnails or avatars).
    pub size: Option<u64>,
}

/// The type an upload is served with, decided from its bytes (a client's
/// claim only tells text from binary): `(media type, image format)`.
pub fn served_type(bytes: &[u8], declared: Option<&str>, name: &str) -> (String, Option<ImageFormat>) {
    if let Some(format) = images::sniff(bytes) {
        return (images::media_type(format).to_owned(), Some(format));
    }
    if bytes.starts_with(b"%PDF-") {
        return ("application/pdf".to_owned(), None);
    }
    let declared = declared.unwrap_or("").to_ascii_lowercase();
    let extension = name.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).unwrap_or_default();
    // Text by its type or its name: a known text extension, or none at all
    // (README, Makefile, LICENSE), when its bytes are UTF-8 text. Never HTML
    // or SVG, which are saved, not shown.
    let text_name = !name.contains('.')
        || matches!(
            extension.as_str(),
            "txt"
                | "md"
                | "log"
                | "csv"
                | "tsv"
                | "json"
                | "rs"
                | "py"
                | "toml"
                | "yaml"
                | "yml"
                | "ini"
                | "cfg"
                | "conf"
                | "sh"
                | "js"
                | "ts"
                | "go"
                | "c"
                | "h"
                | "cpp"
                | "java"
                | "rb"
                | "sql"
                | "diff"
                | "patch"
        );
    let says_text = declared.starts_with("text/plain") || text_name;
    if says_text && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        return ("text/plain; charset=utf-8".to_owned(), None);
    }
    ("application/octet-stream".to_owned(), None)
}

/// Whether a served type is shown in the browser rather than saved: images
/// and text. (A PDF is saved: every response's `default-src 'none'` policy
/// would keep the browser's viewer from showing it.)
pub fn is_inline(content_type: &str) -> bool {
    content_type.starts_with("image/") || content_type.starts_with("text/plain")
}

/// A file name as kept: the last path component, without control or
/// direction-changing characters, trimmed, at most [`NAME_MAX`] characters
/// (keeping its extension); "file" when nothing is left.
pub fn clean_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let kept: String = last
        .chars()
        .filter(|c| {
            !c.is_control() && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    let kept = kept.trim().trim_start_matches('.').trim();
    if kept.is_empty() {
        return "file".to_owned();
    }
    if kept.chars().count() <= NAME_MAX {
        return kept.to_owned();
    }
    let extension: String = match kept.rsplit_once('.') {
        Some((_, ext)) if ext.chars().count() <= 16 => format!(".{ext}"),
        _ => String::new(),
    };
    let stem: String = kept.chars().take(NAME_MAX - extension.chars().count()).collect();
    format!("{stem}{extension}")
}

/// `name` as one URL path segment: unreserved characters kept, the rest
/// percent-encoded as UTF-8.
pub fn path_segment(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn image_refused(err: ImageError) -> AppError {
    match err {
        ImageError::TooLarge { width, height } => FieldError::new(
            "file",
            format!(
                "The image is too large to process ({width} × {height} pixels; at most {} megapixels and {} pixels a side)",
                images::MAX_PIXELS / 1_000_000,
                images::MAX_SIDE
            ),
        )
        .into(),
        ImageError::Unreadable(_) => FieldError::new("file", "The image could not be read").into(),
    }
}

/// A limit in bytes as people read it, never rounded: "25 MB" or "64 KB"
/// for a whole number (or exact tenths) of them (1 KB = 1024 bytes, as the
/// default limit is counted), else the bytes themselves ("1,500,000 bytes").
fn megabytes(bytes: u64) -> String {
    for (unit, size) in [("GB", 1u64 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] {
        // Tenths of the unit, when they are exact: "1.5 MB".
        let tenths = u128::from(bytes) * 10;
        if bytes >= size && tenths.is_multiple_of(u128::from(size)) {
            let tenths = tenths / u128::from(size);
            return match tenths % 10 {
                0 => format!("{} {unit}", tenths / 10),
                tenth => format!("{}.{tenth} {unit}", tenths / 10),
            };
        }
    }
    let digits = bytes.to_string();
    let mut grouped = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{grouped} {}", if bytes == 1 { "byte" } else { "bytes" })
}

impl crate::Hearth {
    /// Keeps files in `blobs` from now on (startup). A second call is ignored.
    pub fn set_blob_store(&self, blobs: Arc<dyn BlobStore>) {
        let _ = self.files.blobs.set(blobs);
    }

    /// Copies avatars given by URL through `fetcher` from now on (startup).
    /// A second call is ignored.
    pub fn set_image_fetcher(&self, fetcher: Arc<dyn crate::previews::PageFetcher>) {
        let _ = self.files.web.set(fetcher);
    }

    fn blobs(&self) -> Result<&Arc<dyn BlobStore>, AppError> {
        self.files.blobs.get().ok_or_else(|| AppError::internal("no blob store is configured"))
    }

    /// Whether the blob store answers, for health checks: a read of a key
    /// no blob has (a missing file, or S3's 404) within `within`. `None`
    /// when no store is set; otherwise why it did not answer.
    pub async fn blobs_reachable(&self, within: std::time::Duration) -> Option<Result<(), String>> {
        let blobs = self.files.blobs.get()?;
        Some(match tokio::time::timeout(within, blobs.reachable()).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err(format!("no answer within {} ms", within.as_millis())),
        })
    }

    /// The largest upload accepted, in bytes (`HEARTH_UPLOAD_MAX_BYTES`).
    pub fn upload_limit(&self) -> u64 {
        self.settings.upload_max_bytes
    }

    /// "File is too large (maximum is 25 MB)".
    pub fn too_large(&self) -> AppError {
        AppError::TooLarge(format!("File is too large (maximum is {})", megabytes(self.upload_limit())))
    }

    /// Runs `work` (decoding `who`'s picture) on a blocking thread, a few at
    /// a time, and one of each person's at a time: someone uploading big
    /// pictures holds one of the instance's turns, never all of them, and
    /// everyone else's screenshots go by in the others.
    async fn decode<T: Send + 'static>(
        &self,
        who: UserId,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let mine = {
            let mut turns = self.files.decoding_by_user.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            turns.entry(who).or_insert_with(|| Arc::new(Semaphore::new(1))).clone()
        };
        let done = async {
            let _my_turn = mine.acquire().await.map_err(AppError::internal)?;
            let _permit = self.files.decoding.acquire().await.map_err(AppError::internal)?;
            tokio::task::spawn_blocking(work).await.map_err(AppError::internal)
        }
        .await;
        // The last one of this person's out removes their entry.
        let mut turns = self.files.decoding_by_user.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        drop(mine);
        if turns.get(&who).is_some_and(|turn| Arc::strong_count(turn) == 1) {
            turns.remove(&who);
        }
        done
    }

    /// Puts `bytes` under their key, after their row was recorded.
    async fn put_blob(&self, key: &str, bytes: Bytes) -> Result<(), AppError> {
        self.blobs()?.put(key, bytes).await.map_err(|err| {
            tracing::error!(error = %err, key, "storing a blob failed");
            AppError::internal(err)
        })
    }

    /// Admits an upload by `me` (to `room`, or of an avatar) whose body
    /// declares `length` bytes (none when it is chunked), before a byte of it
    /// is read: a member of a writable room, a length within the setting
    /// (413), within the minute's budget and not more bodies at once than
    /// [`RECEIVING_PER_USER`] for one user or [`RECEIVING_LIMITS`] limits'
    /// worth for the instance (429). The pass goes to the upload itself.
    pub async fn admit_upload(
        &self,
        me: UserId,
        room: Option<RoomId>,
        length: Option<u64>,
    ) -> Result<UploadPass, AppError> {
        if let Some(room) = room {
            self.member_room(me, room).await?;
            self.writable_room(room).await?;
        }
        if length.is_some_and(|length| length > self.upload_limit()) {
            return Err(self.too_large());
        }
        let files = &self.files;
        let busy = || AppError::RateLimited { retry_after_secs: RECEIVING_RETRY_SECS };
        let mut by_user = files.receiving_by_user.lock().unwrap_or_else(PoisonError::into_inner);
        let mine = by_user.get(&me).copied().unwrap_or(0);
        if mine >= RECEIVING_PER_USER {
            return Err(busy());
        }
        let share = u32::try_from(kib(length.unwrap_or(self.upload_limit()).max(1))).unwrap_or(u32::MAX);
        let bytes = Arc::clone(&files.receiving).try_acquire_many_owned(share).map_err(|_| busy())?;
        // Spent last: a refusal above costs no attempt.
        files.uploads.check(&me)?;
        by_user.insert(me, mine + 1);
        drop(by_user);
        Ok(UploadPass { me, room, _bytes: bytes, by_user: Arc::clone(&files.receiving_by_user) })
    }

    /// Uploads a file for a message I am about to send, to the room `pass`
    /// admitted it to.
    #[tracing::instrument(skip(self, pass, declared, bytes), fields(me = %pass.me, room = ?pass.room, size = bytes.len()))]
    pub async fn upload_attachment(
        &self,
        pass: UploadPass,
        name: &str,
        declared: Option<&str>,
        bytes: Bytes,
    ) -> Result<Attachment, AppError> {
        let (me, room) = (pass.me, pass.room.ok_or(AppError::NotFound("conversation"))?);
        // Checked again: the body may have taken a while.
        self.member_room(me, room).await?;
        self.writable_room(room).await?;
        if bytes.len() as u64 > self.upload_limit() {
            return Err(self.too_large());
        }
        if bytes.is_empty() {
            return Err(FieldError::new("file", "File is empty").into());
        }
        FieldError::reject_nul("name", "Name", name)?;
        let name = clean_name(name);
        let (content_type, format) = served_type(&bytes, declared, &name);
        let (mut file, mut thumbnail, mut size) = (bytes, None, (None, None));
        if let Some(format) = format {
            let original = file.clone();
            let processed =
                self.decode(me, move || images::process(&original, format)).await?.map_err(image_refused)?;
            if let Some(replacement) = processed.replacement {
                file = Bytes::from(replacement.bytes);
            }
            size = (Some(i64::from(processed.width)), Some(i64::from(processed.height)));
            thumbnail = Some(Bytes::from(processed.thumbnail.bytes));
        }
        let file_ref = BlobRef { hash: key_of(&file), size: file.len() as i64 };
        let thumb_ref = thumbnail.as_ref().map(|t| BlobRef { hash: key_of(t), size: t.len() as i64 });
        let upload = NewUpload {
            room,
            uploader: me,
            name,
            content_type,
            file: file_ref.clone(),
            width: size.0,
            height: size.1,
            thumbnail: thumb_ref.clone(),
        };
        let id = self.store.save_upload(&upload).await?;
        let mut stored = self.put_blob(&file_ref.hash, file).await;
        if let (Ok(()), Some(thumb), Some(bytes)) = (&stored, &thumb_ref, thumbnail) {
            stored = self.put_blob(&thumb.hash, bytes).await;
        }
        if let Err(err) = stored {
            // Its blobs' rows stay until the collector finds them unused.
            self.store.forget_upload(id).await?;
            return Err(err);
        }
        crate::metrics::uploaded(upload.file.size);
        // What was written, without reading it back.
        let row = crate::store::AttachmentRow {
            id,
            room_id: room,
            number: None,
            uploader_id: me,
            name: upload.name,
            content_type: upload.content_type,
            size: upload.file.size,
            blob_hash: upload.file.hash,
            width: upload.width,
            height: upload.height,
            thumb_hash: upload.thumbnail.map(|t| t.hash),
        };
        Ok(row.to_model())
    }

    /// My uploads `ids` to `room`, checked for sending: at most
    /// [`MAX_PER_MESSAGE`], each mine, to this room, not sent yet; in upload
    /// order (as a message shows them, live or read back).
    pub(crate) async fn sendable_attachments(
        &self,
        me: UserId,
        room: RoomId,
        ids: &[i64],
    ) -> Result<Vec<Attachment>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        if ids.len() > MAX_PER_MESSAGE {
            return Err(FieldError::new(
                "attachment_ids",
                format!("A message can carry at most {MAX_PER_MESSAGE} files"),
            )
            .into());
        }
        let mut wanted = ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let rows = self.store.unsent_attachments(room, me, &wanted).await?;
        if rows.len() != wanted.len() || wanted.len() != ids.len() {
            return Err(FieldError::new(
                "attachment_ids",
                "attachment_ids must be your own uploads to this conversation, not sent yet, each once",
            )
            .into());
        }
        // In the order the sender listed them (which is how they chose
        // them), not the order their uploads finished in.
        let mut files: Vec<Attachment> = rows.iter().map(crate::store::AttachmentRow::to_model).collect();
        files.sort_by_key(|file| ids.iter().position(|id| *id == file.id));
        Ok(files)
    }

    /// A file of attachment `id`, for me to download: I must be a member of
    /// its room (and, for an upload not sent yet, its uploader); otherwise
    /// it does not exist for me.
    pub async fn open_attachment(&self, me: UserId, id: i64, part: Part) -> Result<Download, AppError> {
        let row = self.store.attachment(id).await?.ok_or(AppError::NotFound("attachment"))?;
        if row.number.is_none() && row.uploader_id != me {
            return Err(AppError::NotFound("attachment"));
        }
        self.member_room(me, row.room_id).await.map_err(|err| match err {
            AppError::Forbidden(_) | AppError::NotFound(_) => AppError::NotFound("attachment"),
            other => other,
        })?;
        match part {
            Part::File => Ok(Download {
                key: row.blob_hash,
                size: u64::try_from(row.size).ok(),
                inline: is_inline(&row.content_type),
                content_type: row.content_type,
                file_name: row.name,
            }),
            Part::Thumbnail => {
                let key = row.thumb_hash.ok_or(AppError::NotFound("thumbnail"))?;
                Ok(Download {
                    key,
                    file_name: format!("thumbnail-{}", row.name),
                    content_type: String::new(),
                    inline: true,
                    size: None,
                })
            }
        }
    }

    /// [`Self::read_download`] a piece at a time, for files: a big one is
    /// never all in memory while a slow client reads it.
    pub async fn stream_download(
        &self,
        download: &Download,
        range: Option<Range<u64>>,
    ) -> Result<Option<crate::blobs::BlobStream>, AppError> {
        self.blobs()?.stream(&download.key, range).await.map_err(AppError::internal)
    }

    /// The bytes of `download` (`range` of them): `None` when the blob is
    /// missing from the store.
    pub async fn read_download(
        &self,
        download: &Download,
        range: Option<Range<u64>>,
    ) -> Result<Option<Bytes>, AppError> {
        self.blobs()?.get(&download.key, range).await.map_err(AppError::internal)
    }

    /// Sets my avatar from an uploaded image: cropped to a square, re-encoded
    /// (no metadata), served by Hearth at `/users/:id/avatar`.
    pub async fn upload_avatar(&self, pass: UploadPass, bytes: Bytes) -> Result<Profile, AppError> {
        let me = pass.me;
        if bytes.len() as u64 > self.upload_limit() {
            return Err(self.too_large());
        }
        let square = self.square_avatar(me, bytes).await?;
        self.save_avatar(me, square).await?;
        self.announce_profile(me).await;
        self.profile(me).await
    }

    /// An avatar given by its URL is copied, as if uploaded: fetched once
    /// through the SSRF guard (at most the upload limit), cropped and
    /// re-encoded, and served by Hearth. So the page's strict
    /// `img-src 'self'` shows it, and no viewer's browser is sent to the
    /// picture's site. Any failure is `avatar_url`'s error; nothing is saved.
    pub(crate) async fn fetch_avatar(&self, me: UserId, url: &str) -> Result<Encoded, AppError> {
        let refused = |why: &str| AppError::from(FieldError::new("avatar_url", format!("Avatar url {why}")));
        let fetcher = self.files.web.get().ok_or_else(|| refused("can't be fetched here; upload a picture instead"))?;
        let parsed = url::Url::parse(url).map_err(|_| refused("must be an http(s) URL"))?;
        self.files.uploads.check(&me)?;
        let bytes = fetcher.fetch_bytes(&parsed, self.upload_limit()).await.map_err(|error| {
            tracing::info!(%error, url, "an avatar could not be fetched");
            refused("could not be fetched")
        })?;
        if images::sniff(&bytes).is_none() {
            return Err(refused("is not a PNG, JPEG, GIF or WebP image"));
        }
        // An image that cannot be used says why, on this field.
        self.square_avatar(me, Bytes::from(bytes)).await.map_err(|err| match err {
            AppError::Validation(errors) => {
                AppError::Validation(errors.into_iter().map(|e| FieldError::new("avatar_url", e.message)).collect())
            }
            other => other,
        })
    }

    /// `bytes` as an avatar: a square, re-encoded without metadata.
    async fn square_avatar(&self, me: UserId, bytes: Bytes) -> Result<Encoded, AppError> {
        let format = images::sniff(&bytes)
            .ok_or_else(|| FieldError::new("file", "An avatar must be a PNG, JPEG, GIF or WebP image"))?;
        self.decode(me, move || images::avatar(&bytes, format)).await?.map_err(image_refused)
    }

    /// Makes `square` my avatar, served at `/users/:id/avatar`; returns
    /// that URL, as `avatar_url` now reads.
    pub(crate) async fn save_avatar(&self, me: UserId, square: Encoded) -> Result<String, AppError> {
        let avatar = BlobRef { hash: key_of(&square.bytes), size: square.bytes.len() as i64 };
        let url = format!("/users/{me}/avatar?v={}", &avatar.hash[..16]);
        self.store.set_uploaded_avatar(me, &avatar, &url).await?;
        self.put_blob(&avatar.hash, Bytes::from(square.bytes)).await?;
        self.forget_user(me);
        Ok(url)
    }

    /// `user`'s uploaded avatar, for any signed-in user to see.
    pub async fn open_avatar(&self, user: UserId) -> Result<Download, AppError> {
        let key = self.store.avatar_hash(user).await?.ok_or(AppError::NotFound("avatar"))?;
        Ok(Download { key, file_name: format!("avatar-{user}"), content_type: String::new(), inline: true, size: None })
    }

    /// Drops uploads no message took within [`UNSENT_KEPT`], then deletes
    /// the blobs nothing refers to that were recorded more than `grace` ago.
    /// Returns how many blobs were deleted.
    pub async fn collect_blobs(&self, grace: Duration) -> Result<u64, AppError> {
        let ago = |d: Duration| {
            crate::store::format_time(time::OffsetDateTime::now_utc() - time::Duration::try_from(d).unwrap_or_default())
        };
        self.store.drop_unsent_uploads(&ago(UNSENT_KEPT)).await?;
        let before = ago(grace);
        let blobs = self.blobs()?.clone();
        let mut deleted = 0;
        loop {
            let unused = self.store.unused_blobs(&before, 200).await?;
            let (batch, deleted_before) = (unused.len(), deleted);
            for key in unused {
                let (blobs, doomed) = (blobs.clone(), key.clone());
                let removed =
                    self.store.delete_blob_if_unused(&key, &before, async move || blobs.delete(&doomed).await);
                if removed.await? {
                    deleted += 1;
                }
            }
            // A short batch is the last; one where nothing could be deleted
            // (each taken again meanwhile) would only come back the same.
            if batch < 200 || deleted == deleted_before {
                break;
            }
        }
        if deleted > 0 {
            tracing::info!(deleted, "collected unused blobs");
        }
        Ok(deleted)
    }

    /// Collects blobs every `period` until `stop` resolves (started by the
    /// server on each instance; the deletes are safe to race).
    pub async fn run_blob_collector(&self, period: Duration, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(period);
        tick.tick().await;
        loop {
            tokio::select! {
                () = &mut stop => return,
                _ = tick.tick() => {
                    if let Err(err) = self.collect_blobs(BLOB_GRACE).await {
                        tracing::warn!(error = %err, "collecting unused blobs failed");
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_person_decoding_pictures_holds_one_turn_and_others_go_by() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let url = crate::testing::fresh_database_url_on(crate::store::Backend::Sqlite, dir.path()).await;
        let store = crate::store::Store::open(&url).await.expect("a store");
        let hearth = crate::Hearth::new(store, crate::Settings::default());
        let (alice, bob) = (UserId(1), UserId(2));
        // Alice's two pictures take as long as the test says.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let held = Arc::new(Mutex::new(held));
        let slow = |hearth: crate::Hearth, held: Arc<Mutex<std::sync::mpsc::Receiver<()>>>| async move {
            hearth.decode(alice, move || held.lock().expect("the lock").recv().is_ok()).await
        };
        let first = tokio::spawn(slow(hearth.clone(), held.clone()));
        let second = tokio::spawn(slow(hearth.clone(), held.clone()));
        tokio::time::sleep(Duration::from_millis(100)).await;
        // Bob's goes by while both of alice's are still going.
        let bobs = tokio::time::timeout(Duration::from_secs(5), hearth.decode(bob, || "bob's screenshot")).await;
        assert_eq!(bobs.expect("not kept waiting behind alice's").expect("decoded"), "bob's screenshot");
        release.send(()).expect("released");
        release.send(()).expect("released");
        assert!(first.await.expect("ran").expect("decoded") && second.await.expect("ran").expect("decoded"));
        // Nobody's turn is kept once they are done.
        assert!(hearth.files.decoding_by_user.lock().expect("the lock").is_empty());
    }

    #[test]
    fn the_upload_limit_is_said_as_it_is() {
        assert_eq!(megabytes(25 * 1024 * 1024), "25 MB");
        assert_eq!(megabytes(64 * 1024), "64 KB");
        assert_eq!(megabytes(4 << 30), "4 GB");
        assert_eq!(megabytes(1536 * 1024), "1.5 MB");
        assert_eq!(megabytes(1_000_448), "977 KB");
        assert_eq!(megabytes(1_000), "1,000 bytes");
        assert_eq!(megabytes(1_500_000), "1,500,000 bytes");
        assert_eq!(megabytes(999), "999 bytes");
        assert_eq!(megabytes(1), "1 byte");
    }

    #[test]
    fn the_served_type_comes_from_the_bytes_not_the_claim() {
        let png = crate::testing::images::png(2, 2);
        assert_eq!(served_type(&png, Some("text/html"), "x.html").0, "image/png");
        assert_eq!(served_type(b"%PDF-1.7\n...", None, "a.bin").0, "application/pdf");
        assert_eq!(served_type(b"hello", Some("text/plain"), "notes").0, "text/plain; charset=utf-8");
        assert_eq!(served_type(b"hello", None, "notes.md").0, "text/plain; charset=utf-8");
        // Text named without an extension, as README and Makefile are; a
        // browser declares no type for them.
        assert_eq!(served_type(b"# Hearth\n", Some(""), "README").0, "text/plain; charset=utf-8");
        assert_eq!(served_type(b"all:\n\tcargo build\n", None, "Makefile").0, "text/plain; charset=utf-8");
        assert_eq!(served_type(b"ELF\0\x01", None, "a.out").0, "application/octet-stream");
        assert_eq!(served_type(b"\x7fELF\0\x01", None, "program").0, "application/octet-stream");
        // HTML and SVG are never served as themselves.
        let html = b"<html><script>alert(1)</script></html>";
        assert_eq!(served_type(html, Some("text/html"), "x.html").0, "application/octet-stream");
        assert_eq!(served_type(b"<svg onload=alert(1)>", Some("image/svg+xml"), "x.svg").0, "application/octet-stream");
        // "Text" that is not UTF-8, or has NULs, is binary.
        assert_eq!(served_type(&[0xff, 0xfe, 0], Some("text/plain"), "a.txt").0, "application/octet-stream");
        assert!(is_inline("image/gif") && is_inline("text/plain; charset=utf-8"));
        assert!(!is_inline("application/octet-stream") && !is_inline("application/pdf"));
    }

    #[test]
    fn names_lose_their_directories_controls_and_excess() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\me\\photo.jpg"), "photo.jpg");
        assert_eq!(clean_name("evil\u{202E}gpj.exe"), "evilgpj.exe");
        assert_eq!(clean_name("a\nb\r.txt"), "ab.txt");
        assert_eq!(clean_name("  "), "file");
        assert_eq!(clean_name(".."), "file");
        assert_eq!(clean_name(".bashrc"), "bashrc");
        let long = format!("{}.tar.gz", "x".repeat(400));
        let kept = clean_name(&long);
        assert_eq!(kept.chars().count(), NAME_MAX);
        assert!(kept.ends_with(".gz"));
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("a b/c?.png"), "a%20b%2Fc%3F.png");
        assert_eq!(path_segment("é.txt"), "%C3%A9.txt");
    }
}
