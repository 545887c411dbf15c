#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| seedrig::fuzz_targets::modem_at(data));
