//! Pieces shared by several pages.

pub mod avatar;
pub mod avatar_upload;
pub mod desktop_notifications;
pub mod form;
pub mod header;
pub mod icons;
pub mod pause;
pub mod rich;
pub mod sidebar;
pub mod stamp;
