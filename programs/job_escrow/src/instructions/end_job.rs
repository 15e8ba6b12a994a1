use anchor_lang::prelude::*;

use crate::events::JobEnded;
use crate::instructions::CustomerCut;
use crate::math;
use crate::payout::{self, Vault};
use crate::state::*;

/// Customer ends the job early. Every running slot is cut to what it has
/// earned: whole hours plus the seconds of the hour in progress, pro rata,
/// rounded up (the customer ended it, rounding favours the worker); never
/// below what was paid, whatever the clock says; a worker who never
/// accepted earned nothing. The unearned remainder, pay and fee, goes back to
/// the customer. Earned pay is paid in the same instruction to the listed
/// slots (`slots[i]` into remaining account `i`, as `settle`, closed or
/// frozen accounts skipped); the rest stays owed in the vault for `settle`.
/// No account outside the job (treasury, a worker's token account) can stop
/// it. Works while the market is paused.
pub fn handler<'info>(ctx: Context<'info, CustomerCut<'info>>, slots: Vec<u8>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let job_key = ctx.accounts.job.key();
    let mint = ctx.accounts.vault.mint;
    let vault = Vault::new(
        ctx.accounts.token_program.to_account_info(),
        ctx.accounts.vault.to_account_info(),
        &ctx.accounts.job,
    );
    let job = &mut ctx.accounts.job;
    let mut released = math::Totals::default();
    for slot in 0..job.workers.len() {
        released.add(payout::cut_to_earned(job, slot, now_ts, true)?)?;
    }
    job.state = JobState::Ended;
    job.ended_ts = now_ts;
    let refund = released.total()?;
    let batch = payout::pay_listed(job, &slots, ctx.remaining_accounts, &mint, &vault, now_ts)?;
    vault.pay(&ctx.accounts.customer_token.to_account_info(), refund)?;
    let owed = payout::vault_owed(job)?;
    let customer = job.customer;
    if !batch.paid.is_empty() || !batch.skipped.is_empty() {
        payout::emit_cpi_data(&ctx.accounts.event_authority, &batch.event_data(&job_key, now_ts)?)?;
    }
    emit_cpi!(JobEnded { job: job_key, customer, refund, owed, ended_ts: now_ts });
    Ok(())
}
