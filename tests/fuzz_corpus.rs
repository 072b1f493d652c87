//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! property checks the fuzz targets run, so CI re-checks every input the
//! fuzzer kept, cheaply and without libFuzzer. See `docs/fuzzing.md`.

use std::path::Path;

/// Runs `check` on every file of one target's corpus, and fails naming the
/// files whose check panicked.
fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no corpus at {}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable corpus entry").path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "the {target} corpus is empty");
    let failed: Vec<String> = inputs
        .iter()
        .filter_map(|path| {
            let data = std::fs::read(path).expect("a readable corpus file");
            let panic = std::panic::catch_unwind(|| check(&data)).err()?;
            let why = panic
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| panic.downcast_ref::<&str>().copied())
                .unwrap_or("(no message)");
            Some(format!("{}: {why}", path.display()))
        })
        .collect();
    assert!(failed.is_empty(), "{} of {} {target} inputs broke a property: {failed:#?}", failed.len(), inputs.len());
}

#[test]
fn every_client_event_in_the_corpus_keeps_its_properties() {
    replay("client_event", hearth::fuzz_checks::client_event);
}

#[test]
fn every_message_body_in_the_corpus_keeps_its_properties() {
    replay("message_body", hearth::fuzz_checks::message_body);
}

#[test]
fn every_paging_cursor_in_the_corpus_keeps_its_properties() {
    replay("paging_cursor", hearth::fuzz_checks::paging_cursor);
}

#[test]
fn every_next_path_in_the_corpus_keeps_its_properties() {
    replay("next_path", hearth::fuzz_checks::next_path);
}

#[test]
fn every_search_in_the_corpus_keeps_its_properties() {
    replay("search", hearth::fuzz_checks::search);
}
