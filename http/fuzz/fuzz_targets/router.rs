#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| thicket_http_fuzz::router(data));
