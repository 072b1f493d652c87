#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth::fuzz_checks::next_path(data));
