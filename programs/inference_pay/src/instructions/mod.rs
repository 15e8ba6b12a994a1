// Each module defines its accounts struct and a `handler`; the structs are
// re-exported at the crate root because `#[program]` looks them up there.
//
// `dup` on mutable accounts: as in job_escrow, Anchor 1.x otherwise checks
// duplicate mutable accounts with a std `HashSet` (thread-local RandomState),
// which the SBPF build must avoid. The pairs that would be wrong (vault vs
// payee) have explicit key constraints; settle re-reads and writes each
// channel one at a time, so a channel listed twice is a replay.
#![allow(ambiguous_glob_reexports)]

pub mod close_listing;
pub mod coop_close;
pub mod create_listing;
pub mod finish_close;
pub mod init_pool;
pub mod open_channel;
pub mod settle;
pub mod start_close;
pub mod sweep_fees;
pub mod top_up;
pub mod update_listing;

pub use close_listing::*;
pub use coop_close::*;
pub use create_listing::*;
pub use finish_close::*;
pub use init_pool::*;
pub use open_channel::*;
pub use settle::*;
pub use start_close::*;
pub use sweep_fees::*;
pub use top_up::*;
pub use update_listing::*;
