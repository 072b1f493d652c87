//! The session as the UI sees it: the current user as a resource that
//! refetches whenever a session action completes.

use hearth::model::Profile;
use leptos::prelude::*;

use crate::api::{Login, Logout, Register, UpdateProfile, am_admin, get_me};
use crate::codec::{Loaded, load};
use crate::error::UiError;

/// Shared by every page through context.
#[derive(Clone, Copy)]
pub struct Auth {
    pub login: ServerAction<Login>,
    pub register: ServerAction<Register>,
    pub logout: ServerAction<Logout>,
    pub update_profile: ServerAction<UpdateProfile>,
    /// `None` inside `Ok` when signed out.
    pub me: Loaded<Result<Option<Profile>, UiError>>,
    /// Whether the signed-in user is an admin (false when signed out),
    /// asked again with `me`.
    pub admin: Loaded<Result<bool, UiError>>,
    /// My name as changed since `me` was read (in another tab or device),
    /// for the header; cleared whenever `me` is read again. Reading `me`
    /// again would rebuild every page drawn from it.
    pub renamed: RwSignal<Option<String>>,
    /// My notifications' pause as changed since `me` was read (here, or in
    /// another tab: `ServerEvent::NotificationsPaused`); cleared whenever
    /// `me` is read again.
    pub pause_changed: RwSignal<Option<Option<String>>>,
}

impl Auth {
    /// Until when my notifications are paused, as last known (tracked).
    pub fn paused_until(self) -> Option<String> {
        self.pause_changed.get().unwrap_or_else(|| match self.me.get() {
            Some(Ok(Some(me))) => me.notifications_paused_until,
            _ => None,
        })
    }

    /// The end of a pause that holds now (tracked, though not the clock):
    /// one gone by is no pause ([`hearth::model::paused_at`]).
    pub fn pause_holding(self) -> Option<String> {
        self.paused_until().filter(|end| hearth::model::paused_at(Some(end), &crate::browser::now_stamp()))
    }

    /// Whether my notifications are paused now (untracked: for handlers).
    pub fn paused_now(self) -> bool {
        untrack(|| self.pause_holding().is_some())
    }

    /// Reads my profile and, if my name is no longer the one the header
    /// shows, shows the new one ([`Self::renamed`]).
    pub fn check_name(self) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let Ok(Some(profile)) = get_me().await else { return };
            let name = profile.display_name().to_owned();
            let shown = self.renamed.get_untracked().or_else(|| match self.me.get_untracked() {
                Some(Ok(Some(me))) => Some(me.display_name().to_owned()),
                _ => None,
            });
            if shown.is_some_and(|shown| shown != name) {
                self.renamed.set(Some(name));
            }
        });
    }
}

pub fn provide_auth() {
    let login = ServerAction::<Login>::new();
    let register = ServerAction::<Register>::new();
    let logout = ServerAction::<Logout>::new();
    let update_profile = ServerAction::<UpdateProfile>::new();
    // Only a saved profile is read again: a refused one leaves the form as
    // typed (its fields are drawn from `me`), so a mistake can be fixed.
    let profile_saves = RwSignal::new(0_u32);
    Effect::new(move |_| {
        if matches!(update_profile.value().get(), Some(Ok(_))) {
            profile_saves.update(|n| *n += 1);
        }
    });
    let versions =
        move || (login.version().get(), register.version().get(), logout.version().get(), profile_saves.get());
    let me = load(versions, |_| get_me());
    let admin = load(versions, |_| am_admin());
    let renamed = RwSignal::new(None);
    let pause_changed = RwSignal::new(None);
    Effect::new(move |_| {
        me.track();
        renamed.set(None);
        pause_changed.set(None);
    });
    provide_context(Auth { login, register, logout, update_profile, me, admin, renamed, pause_changed });
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
