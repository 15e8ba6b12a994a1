use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::FeesSwept;
use crate::payout::Vault;
use crate::state::*;
use crate::token::{self, Token, TokenAccount};

/// Permissionless: moves accrued protocol fees to the market treasury, from
/// the market fee vault (fees of closed jobs) and, when a job and its vault
/// are given, from that job's vault. The only instruction that writes to the
/// treasury: a closed or frozen treasury makes it fail and nothing else
/// (fees wait in the vaults until the treasury is usable or replaced with
/// `update_market`). `NothingToSweep` when there was nothing to move.
#[event_cpi]
#[derive(Accounts)]
pub struct SweepFees<'info> {
    #[account(
        seeds = [MARKET_SEED, market.mint.as_ref()],
        bump = market.bump,
        has_one = treasury @ EscrowError::WrongTreasury,
    )]
    pub market: Box<Account<'info, Market>>,
    #[account(mut, dup, seeds = [FEE_VAULT_SEED, market.key().as_ref()], bump = market.fee_vault_bump)]
    pub fee_vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, constraint = treasury.key() != fee_vault.key() @ EscrowError::WrongTreasury)]
    pub treasury: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, has_one = market @ EscrowError::WrongMarket)]
    pub job: Option<Box<Account<'info, Job>>>,
    /// The job's vault (required with `job`).
    /// CHECK: address checked against the job's vault PDA in the handler.
    #[account(mut, dup)]
    pub vault: Option<UncheckedAccount<'info>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<SweepFees>) -> Result<()> {
    let a = &mut *ctx.accounts;
    let token_program = a.token_program.to_account_info();
    let treasury = a.treasury.to_account_info();
    let market_key = a.market.key();
    let mut job_key = Pubkey::default();
    let mut from_job = 0;
    if let Some(job) = a.job.as_mut() {
        let vault = a.vault.as_ref().ok_or(EscrowError::WrongVault)?;
        job_key = job.key();
        let expected = Pubkey::create_program_address(&[VAULT_SEED, job_key.as_ref(), &[job.vault_bump]], &crate::ID)
            .map_err(|_| error!(EscrowError::WrongVault))?;
        require_keys_eq!(vault.key(), expected, EscrowError::WrongVault);
        from_job = job.fees_accrued;
        job.fees_accrued = 0;
        Vault::new(token_program.clone(), vault.to_account_info(), job).pay(&treasury, from_job)?;
    }
    let from_fee_vault = a.fee_vault.amount;
    if from_fee_vault > 0 {
        let mint = a.market.mint;
        let bump = [a.market.bump];
        let seeds: [&[u8]; 3] = [MARKET_SEED, mint.as_ref(), &bump];
        token::transfer(
            &token_program,
            &a.fee_vault.to_account_info(),
            &treasury,
            &a.market.to_account_info(),
            from_fee_vault,
            &[&seeds],
        )?;
    }
    require!(from_job > 0 || from_fee_vault > 0, EscrowError::NothingToSweep);

    emit_cpi!(FeesSwept { market: market_key, treasury: treasury.key(), job: job_key, from_job, from_fee_vault });
    Ok(())
}
