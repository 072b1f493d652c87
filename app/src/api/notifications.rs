//! Notifications: my level per room (the room header), and this browser's
//! Web Push subscription (`/profile`, the sidebar's offer).

use hearth::model::NotificationSettings;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::ssr;
use crate::error::UiError;

/// Sets my level for a room: `everything`, `mentions`, `nothing` or
/// `default` (the room kind's own).
#[server(prefix = "/fn")]
pub async fn set_notification_level(room_id: i64, level: String) -> Result<NotificationSettings, UiError> {
    use hearth::model::RoomId;
    let (hearth, me) = ssr::user().await?;
    Ok(hearth.set_notification_level(me.id, RoomId(room_id), &level).await?)
}

/// The server's VAPID public key (base64url), the browser's
/// `applicationServerKey`.
#[server(prefix = "/fn")]
pub async fn push_key() -> Result<String, UiError> {
    let (hearth, _) = ssr::user().await?;
    Ok(hearth.push_public_key().await?)
}

/// Keeps this browser's push subscription (its `PushSubscription.toJSON()`
/// fields) for me; the same endpoint again replaces it.
#[server(prefix = "/fn")]
pub async fn save_push_subscription(endpoint: String, p256dh: String, auth: String) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    let session = hearth::auth::stored_session_id(&ssr::session().await?.session);
    hearth.subscribe_push(me.id, session.as_deref(), &endpoint, &p256dh, &auth).await?;
    Ok(())
}

/// Forgets this browser's push subscription (gone already is fine).
#[server(prefix = "/fn")]
pub async fn delete_push_subscription(endpoint: String) -> Result<(), UiError> {
    let (hearth, me) = ssr::user().await?;
    match hearth.unsubscribe_push(me.id, &endpoint).await {
        Ok(()) | Err(hearth::AppError::NotFound(_)) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Pauses my notifications for `minutes` from now, or resumes them
/// (`None`).
#[server(prefix = "/fn")]
pub async fn pause_notifications(minutes: Option<i64>) -> Result<hearth::model::NotificationPause, UiError> {
    let (hearth, me) = ssr::user().await?;
    Ok(match minutes {
        Some(minutes) => hearth.pause_notifications(me.id, &hearth::pause::PauseFor::Minutes(minutes)).await?,
        None => hearth.resume_notifications(me.id).await?,
    })
}
