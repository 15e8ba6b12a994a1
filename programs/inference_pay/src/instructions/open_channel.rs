use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::ChannelOpened;
use crate::state::*;
use crate::market;
use crate::token::{self, Token, TokenAccount};

/// Opens a channel from `payer` to `provider` in the pool's mint and moves
/// `deposit` from `payer_token` into the pool vault. The protocol fee is the
/// one of job_escrow's market for the mint, snapshotted at open (later fee
/// changes do not reprice an open channel).
///
/// CPI seam (IOSD credits): `payer` only has to be a signer of this
/// instruction, so a PDA signs by `invoke_signed`; `rent_payer` pays the
/// rent and gets it back at close; `voucher_signer` is the ed25519 key whose
/// vouchers count (a PDA cannot sign them); `refund_to` (any token account
/// of the mint, e.g. the caller's vault) receives every refund. All four are
/// fixed for the channel's life.
#[event_cpi]
#[derive(Accounts)]
#[instruction(id: u64)]
pub struct OpenChannel<'info> {
    pub payer: Signer<'info>,
    #[account(mut)]
    pub rent_payer: Signer<'info>,
    /// CHECK: only the key is recorded.
    pub provider: UncheckedAccount<'info>,
    /// job_escrow's market of the mint (owner, discriminator, mint and PDA
    /// checked by `market::read`).
    /// CHECK: read by hand in the handler.
    pub market: UncheckedAccount<'info>,
    #[account(mut, dup, seeds = [POOL_SEED, pool.mint.as_ref()], bump = pool.bump)]
    pub pool: Box<Account<'info, Pool>>,
    #[account(mut, dup, address = pool.vault @ PayError::WrongVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        constraint = payer_token.mint == pool.mint @ PayError::WrongMint,
        constraint = payer_token.owner == payer.key() @ PayError::WrongOwner,
        constraint = payer_token.key() != vault.key() @ PayError::WrongVault,
    )]
    pub payer_token: Box<Account<'info, TokenAccount>>,
    #[account(
        constraint = refund_to.mint == pool.mint @ PayError::WrongMint,
        constraint = refund_to.key() != vault.key() @ PayError::WrongVault,
    )]
    pub refund_to: Box<Account<'info, TokenAccount>>,
    #[account(
        init,
        payer = rent_payer,
        space = 8 + Channel::INIT_SPACE,
        seeds = [CHANNEL_SEED, payer.key().as_ref(), provider.key().as_ref(), pool.mint.as_ref(), &id.to_le_bytes()],
        bump,
    )]
    pub channel: Box<Account<'info, Channel>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<OpenChannel>,
    id: u64,
    deposit: u64,
    expires_at: i64,
    dispute_window: u32,
    voucher_signer: Pubkey,
) -> Result<()> {
    let clock = Clock::get()?;
    let policy = market::read(&ctx.accounts.market, &ctx.accounts.pool.mint)?;
    require!(!policy.paused, PayError::MarketPaused);
    require!(deposit > 0, PayError::ZeroAmount);
    require!(
        expires_at > clock.unix_timestamp && expires_at - clock.unix_timestamp <= MAX_CHANNEL_LIFE,
        PayError::InvalidExpiry
    );
    require!(
        (MIN_DISPUTE_WINDOW..=MAX_DISPUTE_WINDOW).contains(&dispute_window),
        PayError::InvalidDisputeWindow
    );
    let payer = ctx.accounts.payer.key();
    let provider = ctx.accounts.provider.key();
    require!(
        voucher_signer != Pubkey::default() && provider != Pubkey::default() && provider != payer,
        PayError::InvalidParty
    );
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.payer_token.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.payer.to_account_info(),
        deposit,
        &[],
    )?;
    let mint = ctx.accounts.pool.mint;
    let fee_bps = policy.fee_bps;
    let channel = Channel {
        payer,
        provider,
        mint,
        voucher_signer,
        refund_to: ctx.accounts.refund_to.key(),
        rent_payer: ctx.accounts.rent_payer.key(),
        id,
        open_slot: clock.slot,
        deposit,
        settled: 0,
        nonce: 0,
        fee_bps,
        expires_at,
        dispute_window,
        close_at: 0,
        state: ChannelState::Open,
        bump: ctx.bumps.channel,
        reserved: [0; 16],
    };
    let pool = &mut ctx.accounts.pool;
    pool.channels_opened = pool.channels_opened.checked_add(1).ok_or(PayError::MathOverflow)?;
    emit_cpi!(ChannelOpened {
        channel: ctx.accounts.channel.key(),
        payer,
        provider,
        mint,
        voucher_signer,
        refund_to: channel.refund_to,
        rent_payer: channel.rent_payer,
        id,
        open_slot: channel.open_slot,
        deposit,
        fee_bps,
        expires_at,
        dispute_window,
    });
    ctx.accounts.channel.set_inner(channel);
    Ok(())
}
