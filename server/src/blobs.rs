//! Where uploaded files are kept (`hearth::blobs::BlobStore`): the data
//! directory by default (`<data dir>/blobs`), or S3-compatible object storage
//! when `HEARTH_BLOB_STORE` names a bucket (`s3://bucket/prefix`), for
//! deployments with several instances, which must all see the same files.
//! The bucket is reached with the `object_store` crate, configured from the
//! usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_REGION`, and `AWS_ENDPOINT` with `AWS_ALLOW_HTTP=true` for MinIO,
//! Garage or another S3-compatible server).

use std::io;
use std::ops::Range;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use hearth::blobs::{BlobStore, BlobStream, LocalBlobs};
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, PutPayload};

use crate::config::Config;
use crate::startup::BoxError;

/// The blob store `config` asks for.
pub async fn store(config: &Config) -> Result<Arc<dyn BlobStore>, BoxError> {
    match config.blob_store.as_deref() {
        None | Some("") => {
            let dir = config.data_dir.join("blobs");
            if config.bus_settings().is_some() {
                tracing::warn!(
                    dir = %dir.display(),
                    "several instances share live changes over NATS, but files are kept on this instance's disk: \
                     a file uploaded through one is missing on the others; set HEARTH_BLOB_STORE=s3://… \
                     (docs/deploy.md)"
                );
            }
            Ok(Arc::new(LocalBlobs::new(&dir).map_err(|err| format!("blob directory {}: {err}", dir.display()))?))
        }
        Some(url) if url.starts_with("s3://") => {
            let blobs = object_blobs(url, &[]).map_err(|err| format!("HEARTH_BLOB_STORE {url}: {err}"))?;
            tracing::info!(url, prefix = %blobs.prefix, "keeping files in object storage");
            Ok(Arc::new(blobs))
        }
        Some(other) => Err(format!("HEARTH_BLOB_STORE must be an s3:// URL, not {other}").into()),
    }
}

/// The bucket and prefix `url` (`s3://bucket/prefix`) names, configured from
/// the `AWS_*` variables and then `options`, each an `AmazonS3ConfigKey`
/// name and its value (`("aws_endpoint", "http://…")`): the tests reach their
/// own S3 server this way without touching the process's environment.
pub fn object_blobs(url: &str, options: &[(&str, &str)]) -> Result<ObjectBlobs, BoxError> {
    let parsed = url::Url::parse(url)?;
    if parsed.scheme() != "s3" {
        return Err(format!("not an s3:// URL: {url}").into());
    }
    let mut builder = AmazonS3Builder::from_env().with_url(url);
    for (key, value) in options {
        builder = builder.with_config(key.parse::<AmazonS3ConfigKey>()?, *value);
    }
    let prefix = Path::from(parsed.path().trim_matches('/'));
    Ok(ObjectBlobs { store: Arc::new(builder.build()?), prefix })
}

/// Blobs as objects `<prefix>/ab/abcdef…` of an object store.
pub struct ObjectBlobs {
    pub store: Arc<dyn ObjectStore>,
    pub prefix: Path,
}

impl ObjectBlobs {
    fn path(&self, key: &str) -> io::Result<Path> {
        if !hearth::blobs::is_key(key) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not a blob key"));
        }
        Ok(self.prefix.child(&key[..2]).child(key))
    }
}

fn io_error(err: object_store::Error) -> io::Error {
    io::Error::other(err)
}

#[async_trait]
impl BlobStore for ObjectBlobs {
    async fn put(&self, key: &str, bytes: Bytes) -> io::Result<()> {
        let path = self.path(key)?;
        match self.store.head(&path).await {
            Ok(_) => return Ok(()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(err) => return Err(io_error(err)),
        }
        self.store.put(&path, PutPayload::from_bytes(bytes)).await.map(|_| ()).map_err(io_error)
    }

    async fn get(&self, key: &str, range: Option<Range<u64>>) -> io::Result<Option<Bytes>> {
        let path = self.path(key)?;
        let got = match range {
            None => match self.store.get(&path).await {
                Ok(found) => found.bytes().await,
                Err(err) => Err(err),
            },
            Some(range) => self.store.get_range(&path, range).await,
        };
        match got {
            Ok(bytes) => Ok(Some(bytes)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(io_error(err)),
        }
    }

    async fn stream(&self, key: &str, range: Option<Range<u64>>) -> io::Result<Option<BlobStream>> {
        use futures_util::TryStreamExt;
        let path = self.path(key)?;
        let options = GetOptions { range: range.map(GetRange::Bounded), ..GetOptions::default() };
        match self.store.get_opts(&path, options).await {
            Ok(found) => Ok(Some(Box::pin(found.into_stream().map_err(io_error)))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(io_error(err)),
        }
    }

    async fn delete(&self, key: &str) -> io::Result<()> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(io_error(err)),
        }
    }
}
