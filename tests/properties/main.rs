//! Property tests. Case counts are kept quick by default; raise them with
//! `PROPTEST_CASES=10000 cargo test -p oauth-tests --test properties`.

mod auth_code_machine;
mod device_machine;
mod parsers;
mod refresh_machine;
mod resource_chain;
mod secrets;
