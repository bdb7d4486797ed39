//! Fuzz harness bodies (filled in below).
