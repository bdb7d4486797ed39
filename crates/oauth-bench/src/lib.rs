//! What the benchmarks of `oauth-core` and `oauth-ureq` share: the inputs (from the
//! committed `payloads.json`), the fixtures built from them, each measured operation
//! of ours as one function, and a counting global allocator.
//!
//! The benchmarks themselves are in `benches/`:
//!
//! - `core`: the sans-IO core against the `oauth2` crate doing the same work where its
//!   API allows, and against the limits (a bare `serde_json::from_slice` into a plain
//!   struct, a bare SHA-256 + base64url);
//! - `driver`: `oauth-ureq` over loopback against a hand-written raw-ureq sequence
//!   making the same HTTP calls, and the shared `AuthorizedClient` under 64 threads;
//! - `footprint`: `size_of` of every flow and allocations per operation.
//!
//! Run them all with `cargo bench -p oauth-bench`.

pub mod alloc;
pub mod footprint;
pub mod loopback;
pub mod ops;
pub mod payloads;
pub mod report;

pub use payloads::{Payloads, payloads};
