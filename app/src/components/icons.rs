//! Icons drawn as inline SVG in the text's colour. An emoji used as an icon
//! shows as an empty box where no emoji font is installed (as the logo did),
//! so controls use these instead. Each is hidden from screen readers: the
//! control it sits in carries the words.

use leptos::prelude::*;

/// A 24×24 line drawing, `size` pixels square, stroked in the text's colour.
#[component]
fn LineIcon(size: u16, children: Children) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width=size
            height=size
            aria-hidden="true"
            focusable="false"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
        >
            {children()}
        </svg>
    }
}

/// A paperclip: attaching files, and a file that is not a picture.
#[component]
pub fn PaperclipIcon() -> impl IntoView {
    view! {
        <LineIcon size=18>
            <path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9" />
        </LineIcon>
    }
}

/// A pushpin: a message pinned to its room.
#[component]
pub fn PinIcon() -> impl IntoView {
    view! {
        <LineIcon size=14>
            <path d="M9 4h6l-1 6 4 4H6l4-4zM12 14v7" />
        </LineIcon>
    }
}

/// A bookmark: a message saved for later.
#[component]
pub fn BookmarkIcon() -> impl IntoView {
    view! {
        <LineIcon size=14>
            <path d="M7 3h10v18l-5-4-5 4z" />
        </LineIcon>
    }
}

/// A bell: notifications.
#[component]
pub fn BellIcon() -> impl IntoView {
    view! {
        <LineIcon size=18>
            <path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 21h4" />
        </LineIcon>
    }
}

/// A bell struck through: notifications paused.
#[component]
pub fn BellOffIcon() -> impl IntoView {
    view! {
        <LineIcon size=18>
            <path d="M6 16V11a6 6 0 0 1 12 0v5l2 2H4zM10 21h4M3 3l18 18" />
        </LineIcon>
    }
}
