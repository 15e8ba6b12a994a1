// Each module defines its accounts struct and a `handler`; the structs are
// re-exported at the crate root because `#[program]` looks them up there.
#![allow(ambiguous_glob_reexports)]

pub mod init_config;
pub mod set_paused;
pub mod set_cap;
pub mod propose_authority;
pub mod accept_authority;
pub mod open_account;
pub mod buy;
pub mod redeem;
pub mod set_delegate;
pub mod revoke_delegate;
pub mod open_job;
pub mod end_job;
pub mod cancel_job;
pub mod close_job;
pub mod reclaim;
pub mod withdraw_rent;
pub mod fund_inference;
pub mod pay_inference;
pub mod close_inference;

pub use init_config::*;
pub use set_paused::*;
pub use set_cap::*;
pub use propose_authority::*;
pub use accept_authority::*;
pub use open_account::*;
pub use buy::*;
pub use redeem::*;
pub use set_delegate::*;
pub use revoke_delegate::*;
pub use open_job::*;
pub use end_job::*;
pub use cancel_job::*;
pub use close_job::*;
pub use reclaim::*;
pub use withdraw_rent::*;
pub use fund_inference::*;
pub use pay_inference::*;
pub use close_inference::*;
