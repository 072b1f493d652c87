//! How a resource's value crosses from the server-rendered page to the
//! browser: JSON, read from bytes.
//!
//! Leptos's default resource codec reads JSON from a `&str`, while server
//! functions read their answers from bytes. serde_json's reader is a type
//! parameter, so each type the browser receives got two copies of its
//! decoding code, one per reader. Reading hydration data as bytes too leaves
//! one (`docs/benchmarks.md`, the WASM's size).

use codee::{Decoder, Encoder};
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// JSON written as text, read back as bytes.
pub struct Json;

impl<T: Serialize> Encoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(val: &T) -> Result<String, Self::Error> {
        serde_json::to_string(val)
    }
}

impl<T: DeserializeOwned> Decoder<T> for Json {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(val: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(val.as_bytes())
    }
}

/// A resource read on the server during rendering and hydrated from the page
/// (Leptos's `Resource::new`, with [`Json`]).
pub type Loaded<T> = Resource<T, Json>;

/// [`Resource::new`] with [`Json`].
#[track_caller]
pub fn load<S, T, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> Loaded<T>
where
    S: Send + Sync + Clone + PartialEq + 'static,
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}
