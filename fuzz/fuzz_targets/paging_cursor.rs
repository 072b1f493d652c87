#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| hearth::fuzz_checks::paging_cursor(data));
