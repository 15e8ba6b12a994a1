use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;
use crate::token::{self, Token, MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

use crate::errors::CreditsError;
use crate::events::ConfigInitialized;
use crate::state::*;

/// Creates the credit reserve of a USD stablecoin: the config PDA (one per
/// mint) and its reserve vault. Restricted to the program's upgrade
/// authority so the canonical reserve of a mint cannot be squatted;
/// `authority` (any key, e.g. a governance PDA) administers it afterwards.
#[event_cpi]
#[derive(Accounts)]
pub struct InitConfig<'info> {
    #[account(mut)]
    pub payer: Signer<'info>,
    pub upgrade_authority: Signer<'info>,
    #[account(
        seeds = [crate::ID.as_ref()],
        bump,
        seeds::program = bpf_loader_upgradeable::ID,
        constraint = program_data.upgrade_authority_address == Some(upgrade_authority.key())
            @ CreditsError::Unauthorized,
    )]
    pub program_data: Account<'info, ProgramData>,
    /// CHECK: only the key is stored.
    #[account(constraint = authority.key() != Pubkey::default() @ CreditsError::InvalidAuthority)]
    pub authority: UncheckedAccount<'info>,
    /// A classic SPL Token mint with 6 decimals (checked in the handler).
    /// CHECK: owner and size constraints below.
    #[account(
        constraint = *mint.owner == TOKEN_PROGRAM_ID @ CreditsError::InvalidMint,
        constraint = mint.data_len() == MINT_LEN @ CreditsError::InvalidMint,
    )]
    pub mint: UncheckedAccount<'info>,
    #[account(
        init,
        payer = payer,
        space = 8 + Config::INIT_SPACE,
        seeds = [CONFIG_SEED, mint.key().as_ref()],
        bump,
    )]
    pub config: Account<'info, Config>,
    /// CHECK: created here as a token account owned by the config PDA.
    #[account(
        init,
        payer = payer,
        space = TOKEN_ACCOUNT_LEN,
        owner = TOKEN_PROGRAM_ID,
        seeds = [RESERVE_SEED, config.key().as_ref()],
        bump,
    )]
    pub reserve_vault: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitConfig>, cap: u64) -> Result<()> {
    // Mint layout: decimals at 44, is_initialized at 45.
    let data = ctx.accounts.mint.try_borrow_data()?;
    require!(data[44] == CREDIT_DECIMALS && data[45] == 1, CreditsError::InvalidMint);
    drop(data);
    let config_key = ctx.accounts.config.key();
    token::initialize_account3(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.reserve_vault.to_account_info(),
        &ctx.accounts.mint.to_account_info(),
        &config_key,
    )?;
    let config = &mut ctx.accounts.config;
    config.set_inner(Config {
        authority: ctx.accounts.authority.key(),
        pending_authority: Pubkey::default(),
        mint: ctx.accounts.mint.key(),
        reserve_vault: ctx.accounts.reserve_vault.key(),
        outstanding: 0,
        cap,
        paused: false,
        bump: ctx.bumps.config,
        reserve_bump: ctx.bumps.reserve_vault,
        accounts: 0,
        reserved: [0; 64],
    });
    emit_cpi!(ConfigInitialized {
        config: config_key,
        mint: config.mint,
        reserve_vault: config.reserve_vault,
        authority: config.authority,
        cap,
    });
    Ok(())
}
