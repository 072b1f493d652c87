//! Form helpers: errors beside their inputs, from a server action's result.

use leptos::prelude::*;

use crate::error::UiError;

/// The error of the last submission, if it failed.
pub fn last_error<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, UiError>>> + Send + Sync + 'static,
) -> Signal<Option<UiError>> {
    Signal::derive(move || value.get().and_then(Result::err))
}

/// Forgets the result of an earlier submission when its form is opened
/// again (a failed sign-in must not greet you after you registered and
/// signed out). An error in the URL (`__err`: a post made without
/// JavaScript, answered with a redirect) belongs to this visit and stays.
pub fn forget_earlier_result<T>(value: impl Set<Value = Option<T>>) {
    let from_this_visit = leptos_router::hooks::use_query_map().with_untracked(|q| q.get_str("__err").is_some());
    if !from_this_visit {
        value.set(None);
    }
}

/// The errors for one field, shown under its input, in an element with the
/// id [`errors_id`] that the input's `aria-describedby` names while they
/// show ([`described_by`]).
#[component]
pub fn FieldErrors(error: Signal<Option<UiError>>, field: &'static str) -> impl IntoView {
    let messages = move || error.get().map(|e| e.field(field)).unwrap_or_default();
    view! {
        <div class="field-errors" id=errors_id(field)>
            <For each=messages key=|m| m.clone() let:message>
                <p class="field-error" data-field=field>{message}</p>
            </For>
        </div>
    }
}

/// The id of `field`'s error list (one form field of a name per page).
fn errors_id(field: &str) -> String {
    format!("{field}-errors")
}

/// Whether the last submission had errors for `field` (tracked).
pub fn has_errors(error: Signal<Option<UiError>>, field: &'static str) -> bool {
    error.with(|e| e.as_ref().is_some_and(|e| !e.field(field).is_empty()))
}

/// `aria-invalid` for `field`'s input: "true" while it has errors.
pub fn aria_invalid(error: Signal<Option<UiError>>, field: &'static str) -> impl Fn() -> Option<&'static str> {
    move || has_errors(error, field).then_some("true")
}

/// `aria-describedby` for `field`'s input: its error list while it has errors.
pub fn described_by(error: Signal<Option<UiError>>, field: &'static str) -> impl Fn() -> Option<String> {
    move || has_errors(error, field).then(|| errors_id(field))
}

/// Errors that belong to no single field. When a submission fails, focus
/// moves to the first field marked invalid (`aria-invalid`), so keyboard
/// and screen-reader users land on what to fix.
#[component]
pub fn FormErrors(error: Signal<Option<UiError>>) -> impl IntoView {
    let messages = move || error.get().map(|e| e.messages).unwrap_or_default();
    Effect::new(move |_| {
        if error.with(Option::is_some) {
            request_animation_frame(focus_first_invalid);
        }
    });
    view! {
        <For each=messages key=|m| m.clone() let:message>
            <p class="form-error" role="alert">{message}</p>
        </For>
    }
}

/// Keeps what the visitor typed into the server-rendered input or textarea
/// `id` before the page hydrated. `bind:value` writes its (empty) signal into
/// the field as the page hydrates, which wiped text typed on a slow
/// connection. The text is read now, before hydration, and put back into
/// `signal` right after it, so the server's and the browser's first render
/// still agree. Outside hydration (the server, client-side navigation) it
/// does nothing, so a field of the page being left is never copied.
pub fn keep_typed_text(signal: RwSignal<String>, id: &'static str) {
    let hydrating = Owner::current_shared_context().is_some_and(|context| context.during_hydration());
    if !hydrating {
        return;
    }
    let typed = typed_before_hydration(id);
    if !typed.is_empty() {
        Effect::new(move |_| signal.set(typed.clone()));
    }
}

/// The value of the field `id` as the browser has it now; empty on the server.
fn typed_before_hydration(id: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let Some(element) = document().get_element_by_id(id) else {
            return String::new();
        };
        match element.dyn_into::<web_sys::HtmlInputElement>() {
            Ok(input) => input.value(),
            Err(element) => element.dyn_into::<web_sys::HtmlTextAreaElement>().map(|t| t.value()).unwrap_or_default(),
        }
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        String::new()
    }
}

fn focus_first_invalid() {
    #[cfg(feature = "hydrate")]
    if let Ok(Some(field)) = document().query_selector("main [aria-invalid=\"true\"]")
        && let Ok(field) = leptos::wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(field)
    {
        let _ = field.focus();
    }
}

/// Whether an entry whose lower-cased text is `key` is shown while a list is
/// narrowed to `filter` (the sidebar's "Jump to…", the open rooms' filter):
/// everything for an empty filter, else those holding it, in any case.
pub fn shown_for(key: &str, filter: &str) -> bool {
    let filter = filter.trim();
    filter.is_empty() || key.contains(&filter.to_lowercase())
}
