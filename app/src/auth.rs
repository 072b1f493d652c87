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
    provide_context(Auth { login, register, logout, update_profile, me, admin });
}

pub fn use_auth() -> Auth {
    expect_context::<Auth>()
}
