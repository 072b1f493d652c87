//! Form helpers: errors beside their inputs, from a server action's result.

use leptos::prelude::*;

use crate::error::UiError;

/// The error of the last submission, if it failed.
pub fn last_error<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, UiError>>> + Send + Sync + 'static,
) -> Signal<Option<UiError>> {
    Signal::derive(move || value.get().and_then(Result::err))
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
