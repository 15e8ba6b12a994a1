// Each module defines its accounts struct and a `handler`; the structs are
// re-exported at the crate root because `#[program]` looks them up there.
//
// `dup` on mutable `Account`s: Anchor 1.x otherwise checks duplicate mutable
// accounts with a std `HashSet`, whose `RandomState` writes a thread-local at
// runtime, which our SBPF build must avoid (same as job_escrow). Aliasing is
// impossible here anyway: the distributor is owned by this program, token
// accounts by the Token program, and the vault (a PDA created with the
// distributor) can be neither the treasury nor a claimant's account (the
// latter is owned by the claimant, the vault by the distributor).
#![allow(ambiguous_glob_reexports)]

pub mod accept_admin;
pub mod claim;
pub mod clawback;
pub mod extend_deadline;
pub mod new_distributor;
pub mod propose_admin;

pub use accept_admin::*;
pub use claim::*;
pub use clawback::*;
pub use extend_deadline::*;
pub use new_distributor::*;
pub use propose_admin::*;
