// Each module defines its accounts struct and a `handler`; the structs are
// re-exported at the crate root because `#[program]` looks them up there.
//
// The spending and refund instructions (jobs, channels) take `config` and
// `credit_account` without `seeds` constraints: an `Account<Config>` /
// `Account<CreditAccount>` is owned by this program with that type's
// discriminator, so this program created it with `init` at its PDA; the
// seeds (config's mint, credit account's config and user) are its own
// fields, so re-deriving them (`create_program_address`, 1,500 CU each)
// checks nothing more. What ties the accounts together is checked on the
// stored fields: `credit_account.config == config`, `config.reserve_vault`,
// `credit_account.customer`, `credit_account.refund_account`.
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
pub mod open_channel;
pub mod top_up_channel;
pub mod start_close_channel;
pub mod coop_close_channel;
pub mod finish_close_channel;

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
pub use open_channel::*;
pub use top_up_channel::*;
pub use start_close_channel::*;
pub use coop_close_channel::*;
pub use finish_close_channel::*;
