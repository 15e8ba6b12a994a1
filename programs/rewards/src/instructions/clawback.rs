use anchor_lang::prelude::*;

use crate::errors::RewardsError;
use crate::events::ClawedBack;
use crate::state::*;
use crate::token::{self, Token, TokenAccount};

/// Permissionless after the claim deadline: sends everything left in the
/// vault to the distributor's treasury, once. Claims are refused from then
/// on, so `claimed + clawback_amount` is the pool (plus any tokens sent to
/// the vault by mistake).
#[event_cpi]
#[derive(Accounts)]
pub struct Clawback<'info> {
    #[account(mut, dup)]
    pub distributor: Box<Account<'info, Distributor>>,
    #[account(mut, dup, address = distributor.vault @ RewardsError::WrongVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(mut, dup, address = distributor.treasury @ RewardsError::WrongTreasury)]
    pub treasury: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Clawback>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let d = &ctx.accounts.distributor;
    require!(!d.clawed_back, RewardsError::AlreadyClawedBack);
    require!(now_ts > d.claim_deadline, RewardsError::ClawbackTooEarly);
    let amount = ctx.accounts.vault.amount;
    let epoch = d.epoch.to_le_bytes();
    let bump = [d.bump];
    let seeds = d.signer_seeds(&epoch, &bump);
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.treasury.to_account_info(),
        &ctx.accounts.distributor.to_account_info(),
        amount,
        &[&seeds],
    )?;
    let d = &mut ctx.accounts.distributor;
    d.clawed_back = true;
    d.clawback_amount = amount;
    emit_cpi!(ClawedBack {
        distributor: d.key(),
        epoch: d.epoch,
        treasury: d.treasury,
        amount,
        claimed: d.claimed,
    });
    Ok(())
}
