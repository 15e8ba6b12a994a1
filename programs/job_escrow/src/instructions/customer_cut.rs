use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::payout;
use crate::state::*;
use crate::token::{Token, TokenAccount};

/// Accounts of the customer's cuts: `release` (one slot) and `end_job`
/// (every slot) take exactly the same accounts, checked the same way, so
/// both instructions share this struct (their IDL account lists are
/// unchanged).
#[event_cpi]
#[derive(Accounts)]
pub struct CustomerCut<'info> {
    pub customer: Signer<'info>,
    #[account(
        mut,
        dup,
        has_one = customer @ EscrowError::Unauthorized,
        constraint = job.state == JobState::Open @ EscrowError::JobNotOpen,
    )]
    pub job: Box<Account<'info, Job>>,
    #[account(mut, dup, seeds = [VAULT_SEED, job.key().as_ref()], bump = job.vault_bump)]
    pub vault: Box<Account<'info, TokenAccount>>,
    /// Refunds go only to a token account of the vault's mint owned by the
    /// job's customer.
    #[account(mut, dup, constraint = payout::paid_from_vault(&customer_token, &vault, &job.customer)?)]
    pub customer_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}
