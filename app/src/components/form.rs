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

/// The errors for one field, shown under its input.
#[component]
pub fn FieldErrors(error: Signal<Option<UiError>>, field: &'static str) -> impl IntoView {
    let messages = move || error.get().map(|e| e.field(field)).unwrap_or_default();
    view! {
        <For each=messages key=|m| m.clone() let:message>
            <p class="field-error" data-field=field>{message}</p>
        </For>
    }
}

/// Errors that belong to no single field.
#[component]
pub fn FormErrors(error: Signal<Option<UiError>>) -> impl IntoView {
    let messages = move || error.get().map(|e| e.messages).unwrap_or_default();
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
