//! Queries on `attachments`, `blobs` and uploaded avatars (issue 16). The
//! bytes live in the blob store (`crate::blobs`); these rows say which blobs
//! exist and who refers to them.

use std::collections::HashMap;

use super::{Store, WritePool, now, on_pool, on_writer};
use crate::error::AppError;
use crate::model::{Attachment, RoomId, UserId};

/// A blob to record: its key and size.
#[derive(Debug, Clone)]
pub struct BlobRef {
    pub hash: String,
    pub size: i64,
}

/// A file to record as uploaded to a room (not yet sent).
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub room: RoomId,
    pub uploader: UserId,
    pub name: String,
    pub content_type: String,
    pub file: BlobRef,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumbnail: Option<BlobRef>,
}

/// An attachment's row, for downloads and sends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: i64,
    pub room_id: RoomId,
    pub number: Option<i64>,
    pub uploader_id: UserId,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub blob_hash: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumb_hash: Option<String>,
}

impl AttachmentRow {
    pub fn to_model(&self) -> Attachment {
        Attachment {
            id: self.id,
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
            url: format!("/attachments/{}/{}", self.id, crate::attachments::path_segment(&self.name)),
            thumbnail_url: self.thumb_hash.as_ref().map(|_| format!("/attachments/thumbnails/{}", self.id)),
        }
    }
}

const SELECT_ATTACHMENT: &str = "SELECT id, room_id, number, uploader_id, name, content_type, size, blob_hash,
        width, height, thumb_hash FROM attachments";

/// Records `blob` as wanted now (inserted, or its time refreshed, so the
/// collector's grace period starts again), inside `$tx`.
macro_rules! keep_blob {
    ($tx:ident, $blob:expr, $at:expr) => {
        sqlx::query(
            "INSERT INTO blobs (hash, size, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (hash) DO UPDATE SET created_at = excluded.created_at",
        )
        .bind(&$blob.hash)
        .bind($blob.size)
        .bind($at)
        .execute(&mut *$tx)
        .await?
    };
}

/// No attachment, thumbnail or avatar refers to blob `b.hash`.
const UNUSED: &str = "NOT EXISTS (SELECT 1 FROM attachments a WHERE a.blob_hash = b.hash)
    AND NOT EXISTS (SELECT 1 FROM attachments a WHERE a.thumb_hash = b.hash)
    AND NOT EXISTS (SELECT 1 FROM users u WHERE u.avatar_hash = b.hash)";

impl Store {
    /// Records an upload and its blobs in one transaction; the caller puts
    /// the bytes in the blob store after it commits (see
    /// `Hearth::collect_blobs` for why in that order). Returns its id.
    pub async fn save_upload(&self, upload: &NewUpload) -> Result<i64, AppError> {
        let at = now();
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            keep_blob!(tx, upload.file, &at);
            if let Some(thumbnail) = &upload.thumbnail {
                keep_blob!(tx, thumbnail, &at);
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO attachments (room_id, number, uploader_id, name, content_type, size, blob_hash,
                                          width, height, thumb_hash, created_at)
                 VALUES ($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(upload.room)
            .bind(upload.uploader)
            .bind(&upload.name)
            .bind(&upload.content_type)
            .bind(upload.file.size)
            .bind(&upload.file.hash)
            .bind(upload.width)
            .bind(upload.height)
            .bind(upload.thumbnail.as_ref().map(|t| t.hash.as_str()))
            .bind(&at)
            .fetch_one(&mut *tx)
            .await?;
            tx.commit().await?;
            id
        }))
    }

    /// Forgets an upload whose bytes could not be stored.
    pub async fn forget_upload(&self, id: i64) -> Result<(), AppError> {
        on_writer!(self, pool => sqlx::query("DELETE FROM attachments WHERE id = $1 AND number IS NULL")
            .bind(id).execute(pool).await.map(|_| ())?);
        Ok(())
    }

    pub async fn attachment(&self, id: i64) -> Result<Option<AttachmentRow>, AppError> {
        let sql = format!("{SELECT_ATTACHMENT} WHERE id = $1");
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?))
    }

    /// Of `ids`, those `uploader` uploaded to `room` and has not sent yet.
    pub async fn unsent_attachments(
        &self,
        room: RoomId,
        uploader: UserId,
        ids: &[i64],
    ) -> Result<Vec<AttachmentRow>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "{SELECT_ATTACHMENT} WHERE room_id = $1 AND uploader_id = $2 AND number IS NULL AND id IN ({})",
            super::placeholders(3, ids.len())
        );
        Ok(on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(room).bind(uploader);
            for id in ids {
                query = query.bind(id);
            }
            query.fetch_all(pool).await?
        }))
    }

    /// The files of messages `numbers` of `room`, in upload order.
    pub async fn attachments_for(
        &self,
        room: RoomId,
        numbers: &[i64],
    ) -> Result<HashMap<i64, Vec<Attachment>>, AppError> {
        if numbers.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "{SELECT_ATTACHMENT} WHERE room_id = $1 AND number IN ({}) ORDER BY number, position, id",
            super::placeholders(2, numbers.len())
        );
        let rows: Vec<AttachmentRow> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql).bind(room);
            for number in numbers {
                query = query.bind(number);
            }
            query.fetch_all(pool).await?
        });
        let mut out: HashMap<i64, Vec<Attachment>> = HashMap::new();
        for row in rows {
            if let Some(number) = row.number {
                out.entry(number).or_default().push(row.to_model());
            }
        }
        Ok(out)
    }

    /// Sets `user`'s avatar to blob `avatar` (recorded now) and their
    /// `avatar_url` to `url`.
    pub async fn set_uploaded_avatar(&self, user: UserId, avatar: &BlobRef, url: &str) -> Result<(), AppError> {
        let at = now();
        on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            keep_blob!(tx, avatar, &at);
            sqlx::query("UPDATE users SET avatar_hash = $2, avatar_url = $3, updated_at = $4 WHERE id = $1")
                .bind(user)
                .bind(&avatar.hash)
                .bind(url)
                .bind(&at)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// `user`'s uploaded avatar's blob, if their avatar is one.
    pub async fn avatar_hash(&self, user: UserId) -> Result<Option<String>, AppError> {
        let row: Option<(Option<String>,)> = on_pool!(self, pool =>
            sqlx::query_as("SELECT avatar_hash FROM users WHERE id = $1").bind(user).fetch_optional(pool).await?);
        Ok(row.and_then(|(hash,)| hash))
    }

    /// Deletes uploads no message took that were made before `before`.
    pub async fn drop_unsent_uploads(&self, before: &str) -> Result<u64, AppError> {
        Ok(on_writer!(self, pool => sqlx::query("DELETE FROM attachments WHERE number IS NULL AND created_at < $1")
            .bind(before).execute(pool).await?.rows_affected()))
    }

    /// Up to `limit` blobs recorded before `before` that nothing refers to.
    pub async fn unused_blobs(&self, before: &str, limit: i64) -> Result<Vec<String>, AppError> {
        let sql = format!("SELECT hash FROM blobs b WHERE created_at < $1 AND {UNUSED} ORDER BY hash LIMIT $2");
        let rows: Vec<(String,)> =
            on_pool!(self, pool => sqlx::query_as(&sql).bind(before).bind(limit).fetch_all(pool).await?);
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    /// Deletes blob `hash`'s row if it is still unused and older than
    /// `before`, and calls `remove` (which deletes the bytes) before the
    /// transaction commits: an upload of the same bytes waits for the row
    /// (SQLite's write lock, Postgres's row lock) and then records it anew
    /// and puts the bytes back. Returns whether it was deleted.
    pub async fn delete_blob_if_unused<F>(&self, hash: &str, before: &str, remove: F) -> Result<bool, AppError>
    where
        F: AsyncFnOnce() -> std::io::Result<()>,
    {
        let sql = format!("DELETE FROM blobs AS b WHERE hash = $1 AND created_at < $2 AND {UNUSED}");
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let deleted = sqlx::query(&sql).bind(hash).bind(before).execute(&mut *tx).await?.rows_affected() > 0;
            if deleted {
                remove().await.map_err(AppError::internal)?;
            }
            tx.commit().await?;
            deleted
        }))
    }

    /// How many blobs are recorded (for tests and metrics).
    pub async fn blob_count(&self) -> Result<i64, AppError> {
        let (count,): (i64,) =
            on_pool!(self, pool => sqlx::query_as("SELECT COUNT(*) FROM blobs").fetch_one(pool).await?);
        Ok(count)
    }
}
