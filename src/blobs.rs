//! The blob store: uploaded files and thumbnails, each named by the SHA-256
//! of its bytes (so the same file uploaded twice is stored once). One small
//! trait, [`BlobStore`]: [`LocalBlobs`] keeps them under the data directory
//! (the default); the server puts S3-compatible object storage behind the
//! same trait for deployments with several instances (`object_store`, in
//! `server/src/blobs.rs`).
//!
//! Which blobs exist, and which are still wanted, is the database's
//! business (`blobs`, `attachments`, `users.avatar_hash`): the store only
//! puts, reads and deletes bytes. See `Hearth::collect_blobs` for the order
//! that keeps an upload in flight from being collected.

use std::io;
use std::ops::Range;
use std::path::PathBuf;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use sha2::{Digest, Sha256};

/// A blob's bytes as they are read, a piece at a time: a download of a big
/// file never holds the whole of it in memory, however slowly it is read.
pub type BlobStream = BoxStream<'static, io::Result<Bytes>>;

/// How much of a local file one piece of a [`BlobStream`] reads.
const PIECE: usize = 64 * 1024;

/// Where blobs are kept. Keys are [`key_of`] a blob's bytes.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under `key`; nothing happens when it is already there.
    async fn put(&self, key: &str, bytes: Bytes) -> io::Result<()>;
    /// The bytes of `key`, or the `range` of them (clamped to its size);
    /// `None` when there is no such blob.
    async fn get(&self, key: &str, range: Option<Range<u64>>) -> io::Result<Option<Bytes>>;
    /// [`Self::get`] as a stream of pieces; by default, the whole read at
    /// once (stores that can do better say so).
    async fn stream(&self, key: &str, range: Option<Range<u64>>) -> io::Result<Option<BlobStream>> {
        let got = self.get(key, range).await?;
        Ok(got.map(|bytes| -> BlobStream { Box::pin(futures_util::stream::once(async move { Ok(bytes) })) }))
    }
    /// Deletes `key`; deleting what is not there is not an error.
    async fn delete(&self, key: &str) -> io::Result<()>;
    /// Whether the store answers, for health checks: by default, a read of
    /// a key no blob has (an answer of "not there" counts).
    async fn reachable(&self) -> io::Result<()> {
        self.get(&"0".repeat(64), Some(0..1)).await.map(drop)
    }
}

/// A blob's key: the SHA-256 of its bytes, in lower-case hex.
pub fn key_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut key = String::with_capacity(64);
    for byte in digest {
        key.push_str(&format!("{byte:02x}"));
    }
    key
}

/// Whether `key` is one [`key_of`] makes (so that it can name a file).
pub fn is_key(key: &str) -> bool {
    key.len() == 64 && key.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Blobs as files under a directory: `ab/abcdef…`, written to `tmp/` first
/// and renamed into place, so a reader never sees half a file.
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        std::fs::create_dir_all(root.join("tmp"))?;
        remove_stale(&root.join("tmp"), STALE_TEMP);
        Ok(Self { root })
    }

    /// `key`'s file, at the start of `range` (clamped to its size), and how
    /// many bytes of it the range holds; `None` when there is no such blob.
    async fn open_at(&self, key: &str, range: Option<Range<u64>>) -> io::Result<Option<(tokio::fs::File, u64)>> {
        use tokio::io::AsyncSeekExt;
        let mut file = match tokio::fs::File::open(self.path(key)?).await {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err),
        };
        let size = file.metadata().await?.len();
        let range = range.unwrap_or(0..size);
        let (start, end) = (range.start.min(size), range.end.min(size));
        file.seek(io::SeekFrom::Start(start)).await?;
        Ok(Some((file, end.saturating_sub(start))))
    }

    fn path(&self, key: &str) -> io::Result<PathBuf> {
        if !is_key(key) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a blob key"));
        }
        Ok(self.root.join(&key[..2]).join(key))
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    /// The directory, and the one uploads are written into first, are
    /// there: a read of a missing file would say "not there" just the same
    /// with the whole directory gone (an unmounted volume).
    async fn reachable(&self) -> io::Result<()> {
        let temp = self.root.join("tmp");
        match tokio::fs::metadata(&temp).await {
            Ok(meta) if meta.is_dir() => Ok(()),
            Ok(_) => Err(io::Error::other(format!("{} is not a directory", temp.display()))),
            Err(err) => Err(io::Error::new(err.kind(), format!("{}: {err}", temp.display()))),
        }
    }

    async fn put(&self, key: &str, bytes: Bytes) -> io::Result<()> {
        let path = self.path(key)?;
        let temp = self.root.join("tmp").join(format!("{key}.{}", rand_suffix()));
        // On a task of its own: a caller dropped halfway (its client gone)
        // neither stops the write between its temporary file and the rename
        // nor leaves that file behind.
        tokio::spawn(write_into_place(temp, path, bytes)).await.map_err(io::Error::other)?
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> io::Result<Option<Bytes>> {
        use tokio::io::AsyncReadExt;
        let Some((mut file, length)) = self.open_at(key, range).await? else { return Ok(None) };
        let mut bytes = vec![0; usize::try_from(length).unwrap_or(0)];
        file.read_exact(&mut bytes).await?;
        Ok(Some(bytes.into()))
    }

    async fn stream(&self, key: &str, range: Option<Range<u64>>) -> io::Result<Option<BlobStream>> {
        use tokio::io::AsyncReadExt;
        let Some((file, left)) = self.open_at(key, range).await? else { return Ok(None) };
        let pieces = futures_util::stream::try_unfold((file, left), |(mut file, left)| async move {
            if left == 0 {
                return Ok(None);
            }
            let mut piece = vec![0; usize::try_from(left).unwrap_or(PIECE).min(PIECE)];
            file.read_exact(&mut piece).await?;
            let left = left - piece.len() as u64;
            Ok(Some((Bytes::from(piece), (file, left))))
        });
        Ok(Some(Box::pin(pieces)))
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        }
    }
}

/// A temporary file this old was left by a process that stopped while
/// writing it (a write takes seconds at most).
const STALE_TEMP: std::time::Duration = std::time::Duration::from_secs(3600);

/// Writes `bytes` to `temp`, synced, and renames it to `path`, unless `path`
/// is there already. The temporary file is gone afterwards either way.
async fn write_into_place(temp: PathBuf, path: PathBuf, bytes: Bytes) -> io::Result<()> {
    if tokio::fs::try_exists(&path).await? {
        return Ok(());
    }
    let written = async {
        use tokio::io::AsyncWriteExt;
        let mut file = tokio::fs::File::create(&temp).await?;
        file.write_all(&bytes).await?;
        file.sync_all().await?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        tokio::fs::rename(&temp, &path).await
    }
    .await;
    if written.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    written
}

/// Removes the files in `dir` last modified more than `age` ago: temporary
/// files of writes that never finished (the process stopped mid-write).
fn remove_stale(dir: &std::path::Path, age: std::time::Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let old = entry.metadata().and_then(|m| m.modified()).is_ok_and(|at| at.elapsed().is_ok_and(|e| e > age));
        if old && let Err(err) = std::fs::remove_file(entry.path()) {
            tracing::warn!(error = %err, file = %entry.path().display(), "removing a stale temporary blob failed");
        }
    }
}

/// A suffix that keeps two concurrent writes of one key apart.
fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!("{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sha256_in_hex_and_nothing_else_names_a_file() {
        let key = key_of(b"abc");
        assert_eq!(key, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert!(is_key(&key));
        for bad in ["", "../etc/passwd", &key.to_uppercase(), &key[..63], &format!("{key}0")] {
            assert!(!is_key(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn local_blobs_put_once_read_ranges_and_delete() {
        let dir = std::env::temp_dir().join(format!("hearth-blobs-{}", rand_suffix()));
        let blobs = LocalBlobs::new(&dir).expect("a blob dir");
        let key = key_of(b"hello, world");
        assert_eq!(blobs.get(&key, None).await.expect("read"), None);
        blobs.put(&key, Bytes::from_static(b"hello, world")).await.expect("put");
        blobs.put(&key, Bytes::from_static(b"hello, world")).await.expect("put again");
        assert_eq!(blobs.get(&key, None).await.expect("read").as_deref(), Some(&b"hello, world"[..]));
        assert_eq!(blobs.get(&key, Some(7..12)).await.expect("read").as_deref(), Some(&b"world"[..]));
        assert_eq!(blobs.get(&key, Some(7..99)).await.expect("read").as_deref(), Some(&b"world"[..]));
        let streamed = |range| {
            let blobs = &blobs;
            let key = &key;
            async move {
                use futures_util::TryStreamExt;
                let stream = blobs.stream(key, range).await.expect("open").expect("there");
                let read = stream.try_fold(Vec::new(), |mut all, piece| async move {
                    all.extend_from_slice(&piece);
                    Ok(all)
                });
                read.await.expect("read")
            }
        };
        assert_eq!(streamed(None).await, b"hello, world");
        assert_eq!(streamed(Some(7..99)).await, b"world");
        assert_eq!(streamed(Some(20..30)).await, b"");
        // Bigger than a piece: read in pieces, whole and in order.
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let big_key = key_of(&big);
        blobs.put(&big_key, Bytes::from(big.clone())).await.expect("put");
        let stream = blobs.stream(&big_key, Some(1_000..150_000)).await.expect("open").expect("there");
        let pieces: Vec<Bytes> = futures_util::TryStreamExt::try_collect(stream).await.expect("read");
        assert!(pieces.len() > 1 && pieces.iter().all(|p| p.len() <= PIECE), "{}", pieces.len());
        assert_eq!(pieces.concat(), big[1_000..150_000]);
        assert!(blobs.put("../../x", Bytes::new()).await.is_err());
        blobs.delete(&key).await.expect("delete");
        blobs.delete(&key).await.expect("delete again");
        assert_eq!(blobs.get(&key, None).await.expect("read"), None);
        assert_eq!(std::fs::read_dir(dir.join("tmp")).expect("tmp").count(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_put_whose_caller_is_dropped_still_stores_the_whole_blob_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("hearth-blobs-{}", rand_suffix()));
        let blobs = LocalBlobs::new(&dir).expect("a blob dir");
        let bytes = Bytes::from(vec![7u8; 4 << 20]);
        let key = key_of(&bytes);
        // Polled once, then dropped, as a request is when its client goes.
        let dropped = tokio::time::timeout(std::time::Duration::ZERO, blobs.put(&key, bytes.clone())).await;
        assert!(dropped.is_err(), "the put finished within one poll");
        let mut stored = None;
        for _ in 0..500 {
            stored = blobs.get(&key, None).await.expect("read");
            if stored.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(stored.as_deref(), Some(&bytes[..]), "the blob was not written whole");
        assert_eq!(std::fs::read_dir(dir.join("tmp")).expect("tmp").count(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn opening_the_store_removes_temporary_files_left_an_hour_ago_and_keeps_newer_ones() {
        let dir = std::env::temp_dir().join(format!("hearth-blobs-{}", rand_suffix()));
        std::fs::create_dir_all(dir.join("tmp")).expect("tmp");
        let (old, new) = (dir.join("tmp").join("left-by-a-crash"), dir.join("tmp").join("being-written"));
        let file = std::fs::File::create(&old).expect("old");
        file.set_modified(std::time::SystemTime::now() - STALE_TEMP - std::time::Duration::from_secs(60))
            .expect("mtime");
        std::fs::write(&new, b"half").expect("new");
        LocalBlobs::new(&dir).expect("a blob dir");
        assert!(!old.exists(), "a stale temporary file was kept");
        assert!(new.exists(), "a temporary file being written was removed");
        let _ = std::fs::remove_dir_all(dir);
    }
}
