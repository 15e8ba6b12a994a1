// Each module defines its accounts struct and a `handler`; the structs are
// re-exported at the crate root because `#[program]` looks them up there.
//
// `dup` on mutable accounts: Anchor 1.x otherwise checks duplicate mutable
// accounts with a std `HashSet`, whose `RandomState` writes a thread-local at
// runtime, which our SBPF build must avoid. Duplicates are harmless here
// anyway: token accounts are never serialized by this program, program-owned
// accounts (market, job) cannot alias token accounts (owner check), and the
// pairs that would be wrong (vault vs payee) have explicit key constraints.
#![allow(ambiguous_glob_reexports)]

pub mod cancel;
pub mod init_market;
pub mod open_job;
pub mod set_market_authority;
pub mod set_market_paused;
pub mod settle;
pub mod update_market;

pub use cancel::*;
pub use init_market::*;
pub use open_job::*;
pub use set_market_authority::*;
pub use set_market_paused::*;
pub use settle::*;
pub use update_market::*;
