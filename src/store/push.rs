//! Queries on `push_keys` and `push_subscriptions` (Web Push, issue 17).

use super::{Store, WritePool, now, on_pool, on_writer};
use crate::error::AppError;
use crate::model::UserId;

/// A device's push subscription: where to send, and the keys to encrypt for.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushSubscription {
    pub id: i64,
    pub user_id: UserId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

impl Store {
    /// The VAPID key pair (PKCS#8, public key), inserting `candidate` if
    /// there is none yet: whoever inserts first wins, and every instance
    /// then reads that one.
    pub async fn push_key_or_insert(&self, candidate: (&str, &str)) -> Result<(String, String), AppError> {
        let insert = "INSERT INTO push_keys (id, private_pkcs8, public_key, created_at) VALUES (1, $1, $2, $3)
                      ON CONFLICT (id) DO NOTHING";
        let select = "SELECT private_pkcs8, public_key FROM push_keys WHERE id = 1";
        let at = now();
        Ok(on_writer!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(insert).bind(candidate.0).bind(candidate.1).bind(&at).execute(&mut *tx).await?;
            let row: (String, String) = sqlx::query_as(select).fetch_one(&mut *tx).await?;
            tx.commit().await?;
            row
        }))
    }

    /// The stored VAPID key pair, if one was made.
    pub async fn push_key(&self) -> Result<Option<(String, String)>, AppError> {
        let sql = "SELECT private_pkcs8, public_key FROM push_keys WHERE id = 1";
        Ok(on_pool!(self, pool => sqlx::query_as(sql).fetch_optional(pool).await?))
    }

    /// Saves `user`'s subscription for a device (its endpoint), made in
    /// session `session` (its store id): a new row, or the device's row
    /// taken over with the new keys (and user and session).
    pub async fn save_push_subscription(
        &self,
        user: UserId,
        session: Option<&str>,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
    ) -> Result<i64, AppError> {
        let sql = "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at, session_id)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh,
                       auth = excluded.auth, created_at = excluded.created_at, session_id = excluded.session_id
                   RETURNING id";
        let at = now();
        let (id,): (i64,) = on_writer!(self, pool => sqlx::query_as(sql)
            .bind(user)
            .bind(endpoint)
            .bind(p256dh)
            .bind(auth)
            .bind(&at)
            .bind(session)
            .fetch_one(pool)
            .await?);
        Ok(id)
    }

    /// Removes `user`'s subscription at `endpoint`; says whether there was one.
    pub async fn delete_push_subscription(&self, user: UserId, endpoint: &str) -> Result<bool, AppError> {
        let sql = "DELETE FROM push_subscriptions WHERE user_id = $1 AND endpoint = $2";
        let n =
            on_writer!(self, pool => sqlx::query(sql).bind(user).bind(endpoint).execute(pool).await?.rows_affected());
        Ok(n > 0)
    }

    /// Removes a subscription the push service no longer knows (404/410).
    pub async fn forget_push_subscription(&self, id: i64) -> Result<(), AppError> {
        let sql = "DELETE FROM push_subscriptions WHERE id = $1";
        on_writer!(self, pool => sqlx::query(sql).bind(id).execute(pool).await?.rows_affected());
        Ok(())
    }

    /// `user`'s subscriptions that may be pushed, oldest first.
    pub async fn push_subscriptions_of(&self, user: UserId) -> Result<Vec<PushSubscription>, AppError> {
        // Only those that may be pushed: a device whose session ended hears
        // nothing more, not even a withdrawal.
        let sql = format!(
            "SELECT s.id, s.user_id, s.endpoint, s.p256dh, s.auth FROM push_subscriptions s
             WHERE s.user_id = $1 AND {} ORDER BY s.id",
            super::push_jobs::PUSHABLE
        );
        Ok(on_pool!(self, pool => sqlx::query_as(&sql).bind(user).fetch_all(pool).await?))
    }
}
