//! The program declares its own entrypoint (`src/fast.rs`: a fast path for
//! `open_job_with_credits` and this program's event self-CPIs, then
//! Anchor's `entry`), so Anchor's `#[program]` must not declare one.
//! Anchor's is behind `#[cfg(not(feature = "no-entrypoint"))]`: when this
//! crate is built as the program (the `no-entrypoint` feature not asked
//! for), this sets that cfg for this crate only, and
//! `credits_fast_entrypoint` for ours. A dependent asking for
//! `no-entrypoint` (or `cpi`) gets neither. (As programs/rewards/build.rs.)
fn main() {
    println!("cargo::rustc-check-cfg=cfg(credits_fast_entrypoint)");
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_NO_ENTRYPOINT").is_none() {
        println!("cargo::rustc-cfg=credits_fast_entrypoint");
        println!("cargo::rustc-cfg=feature=\"no-entrypoint\"");
    }
}
