use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::payout::{self, Vault};
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
#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    /// Only ever created at its PDA by `open_job`: owner and discriminator
    /// (checked by `Account`) identify it, no seeds check needed.
    #[account(mut, dup)]
    pub job: Box<Account<'info, Job>>,
    /// The job's vault (a token account of the market mint, created by
    /// `open_job` at this PDA).
    /// CHECK: address checked by the seeds; the Token program checks the rest.
    #[account(mut, dup, seeds = [VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handler<'info>(ctx: Context<'info, Settle<'info>>, slots: Vec<u8>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let mint = payout::vault_mint(&ctx.accounts.vault)?;
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    let batch = payout::pay_listed(&mut ctx.accounts.job, &slots, ctx.remaining_accounts, &mint, &vault, now_ts)?;
    require!(!batch.paid.is_empty(), EscrowError::NothingToSettle);
    emit_cpi!(batch.event(ctx.accounts.job.key(), now_ts));
    Ok(())
}
