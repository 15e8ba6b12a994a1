// Each module defines its accounts struct and a `handler`; the structs are
// re-exported at the crate root because `#[program]` looks them up there.
//
// `dup` on mutable accounts: Anchor 1.x otherwise checks duplicate mutable
// accounts with a std `HashSet`, whose `RandomState` writes a thread-local at
// runtime, which our SBPF build must avoid. Duplicates are harmless here
// anyway: token accounts are never serialized by this program, program-owned
// accounts (market, job, price feed) cannot alias token accounts (owner
// check), and the pairs that would be wrong (vault vs payee) have explicit
// key constraints or owner checks.
#![allow(ambiguous_glob_reexports)]

pub mod accept;
pub mod accept_market_authority;
pub mod cancel;
pub mod close_job;
pub mod customer_cut;
pub mod end_job;
pub mod extend;
pub mod init_market;
pub mod init_price_feed;
pub mod open_job;
pub mod open_job_funded;
pub mod quit;
pub mod release;
pub mod set_market_authority;
pub mod set_market_paused;
pub mod set_oracle_limits;
pub mod set_price;
pub mod settle;
pub mod sweep_fees;
pub mod update_market;

pub use accept::*;
pub use accept_market_authority::*;
pub use cancel::*;
pub use close_job::*;
pub use customer_cut::*;
pub use extend::*;
pub use init_market::*;
pub use init_price_feed::*;
pub use open_job::*;
pub use open_job_funded::*;
pub use quit::*;
pub use set_market_authority::*;
pub use set_market_paused::*;
pub use set_oracle_limits::*;
pub use set_price::*;
pub use settle::*;
pub use sweep_fees::*;
pub use update_market::*;
