use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;

use crate::errors::EscrowError;
use crate::events::MarketInitialized;
use crate::state::*;
use crate::token::{self, Token, TokenAccount, MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

/// Creates the market of a mint. The market PDA is unique per mint, so its
/// creation is restricted to the program's upgrade authority: otherwise
/// anyone could squat the canonical market of the IO mint.
#[event_cpi]
#[derive(Accounts)]
pub struct InitMarket<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    /// Upgrade authority of this program (checked against `program_data`).
    pub upgrade_authority: Signer<'info>,
    #[account(
        seeds = [crate::ID.as_ref()],
        bump,
        seeds::program = bpf_loader_upgradeable::ID,
        constraint = program_data.upgrade_authority_address == Some(upgrade_authority.key())
            @ EscrowError::Unauthorized,
    )]
    pub program_data: Account<'info, ProgramData>,
    /// The market's first authority; any key (e.g. a governance PDA).
    /// CHECK: only the key is stored.
    #[account(constraint = authority.key() != Pubkey::default() @ EscrowError::InvalidAuthority)]
    pub authority: UncheckedAccount<'info>,
    /// A classic SPL Token mint (owner and exact size checked).
    /// CHECK: owner and size constraints below.
    #[account(
        constraint = *mint.owner == TOKEN_PROGRAM_ID @ EscrowError::InvalidMint,
        constraint = mint.data_len() == MINT_LEN @ EscrowError::InvalidMint,
    )]
    pub mint: UncheckedAccount<'info>,
    #[account(constraint = treasury.mint == mint.key() @ EscrowError::WrongMint)]
    pub treasury: Account<'info, TokenAccount>,
    #[account(
        init,
        payer = payer,
        space = 8 + Market::INIT_SPACE,
        seeds = [MARKET_SEED, mint.key().as_ref()],
        bump,
    )]
    pub market: Account<'info, Market>,
    /// The market's fee vault: a token account of the mint owned by the
    /// market PDA, receiving the accrued fees of closed jobs until
    /// `sweep_fees` moves them to the treasury.
    /// CHECK: created and initialized by this instruction.
    #[account(
        init,
        payer = payer,
        space = TOKEN_ACCOUNT_LEN,
        owner = TOKEN_PROGRAM_ID,
        seeds = [FEE_VAULT_SEED, market.key().as_ref()],
        bump,
    )]
    pub fee_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn validate_params(fee_bps: u16, max_workers: u16, max_hours: u32) -> Result<()> {
    require!(fee_bps <= BPS_DENOMINATOR, EscrowError::InvalidFee);
    require!(
        max_workers > 0 && max_workers <= MAX_WORKERS_CAP && max_hours > 0 && max_hours <= MAX_HOURS_CAP,
        EscrowError::InvalidMarketLimits
    );
    Ok(())
}

pub fn handler(ctx: Context<InitMarket>, fee_bps: u16, max_workers: u16, max_hours: u32) -> Result<()> {
    validate_params(fee_bps, max_workers, max_hours)?;
    token::initialize_account3(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.fee_vault.to_account_info(),
        &ctx.accounts.mint.to_account_info(),
        &ctx.accounts.market.key(),
    )?;
    let market = &mut ctx.accounts.market;
    market.set_inner(Market {
        authority: ctx.accounts.authority.key(),
        mint: ctx.accounts.mint.key(),
        treasury: ctx.accounts.treasury.key(),
        fee_bps,
        max_workers,
        max_hours,
        paused: false,
        bump: ctx.bumps.market,
        job_count: 0,
        oracle: Pubkey::default(),
        max_staleness: 0,
        max_conf_bps: 0,
        pending_authority: Pubkey::default(),
        fee_vault_bump: ctx.bumps.fee_vault,
        reserved: [0; 31],
    });
    emit_cpi!(MarketInitialized {
        market: market.key(),
        authority: market.authority,
        mint: market.mint,
        treasury: market.treasury,
        fee_bps,
        max_workers,
        max_hours,
    });
    Ok(())
}
