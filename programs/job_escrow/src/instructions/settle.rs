use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::payout::{self, SettledEvent};
use crate::raw;
use crate::state::*;
use crate::token::Token;

/// Permissionless crank: pays every listed worker slot each whole hour it
/// has earned and not yet been paid (`slots[i]` is paid into remaining
/// account `i`, a token account of the market mint owned by that slot's
/// worker); a finished slot (quit, released, job ended) is paid all it is
/// owed, including a final partial hour. Fee shares accrue in the job for
/// `sweep_fees`: settle never touches the treasury. A slot whose token
/// account is closed or frozen is skipped and reported in the event, the
/// others are paid. Works while the market is paused and after the job was
/// ended. `NothingToSettle` when no listed slot was paid, so replays are
/// harmless. One `HoursSettled` event carries every payout.
///
/// The hot path of the protocol: the job is read and written in place
/// (`raw`), only the listed slots, with the same checks as `Account<Job>`.
#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    /// Only ever created at its PDA by `open_job`: owner and discriminator
    /// (checked as `Account` would, by `raw::check_job`) identify it, no
    /// seeds check needed.
    /// CHECK: `raw::check_job`.
    #[account(mut, dup, constraint = raw::check_job(&job)?)]
    pub job: UncheckedAccount<'info>,
    /// The job's vault (a token account of the market mint, created by
    /// `open_job` at this PDA).
    /// CHECK: address checked by the seeds; the Token program checks the rest.
    #[account(mut, dup, seeds = [VAULT_SEED, job.key().as_ref()], bump = raw::vault_bump(&job))]
    pub vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handler<'info>(ctx: Context<'info, Settle<'info>>, slots: Vec<u8>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let a = &ctx.accounts;
    let mint = payout::vault_mint(&a.vault)?;
    let mut event = SettledEvent::new(a.job.key, now_ts, slots.len());
    let skipped = payout::settle_in_place(
        &a.job,
        &a.vault,
        &a.token_program,
        &slots,
        ctx.remaining_accounts,
        &mint,
        now_ts,
        &mut event,
    )?;
    require!(!event.is_empty(), EscrowError::NothingToSettle);
    payout::emit_cpi_data(&a.event_authority, &event.finish(&skipped))
}
