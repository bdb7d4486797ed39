#![no_main]
// Invariant: Ok or a typed error, never a panic (plus the assertions in the harness).
libfuzzer_sys::fuzz_target!(|data: &[u8]| oauth_testkit::fuzzing::registration(data));
