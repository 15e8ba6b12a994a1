use anchor_lang::prelude::*;

use crate::errors::PayError;
use crate::events::{ChannelsSettled, Settlement};
use crate::math;
use crate::pool::PoolVault;
use crate::state::*;
use crate::voucher::{self, ED25519_PROGRAM_ID, INSTRUCTIONS_SYSVAR_ID};
use crate::token::{Token, TokenAccount};

/// The provider redeems the best voucher of each channel passed as a
/// remaining account (writable), channel `i` with signature `i` of the
/// Ed25519 precompile instruction `ed25519_back` instructions before this one
/// (1 = immediately before; relative, so compute-budget instructions
/// prepended by a sender do not matter).
/// Each channel moves from `settled` to the voucher's cumulative amount;
/// the provider gets the sum minus the fees in one transfer, the fees stay
/// in the pool vault (`fees_accrued`) for `sweep_fees`. Only the provider's
/// own token account is paid: nothing outside can block a settlement.
#[event_cpi]
#[derive(Accounts)]
pub struct Settle<'info> {
    pub provider: Signer<'info>,
    #[account(mut, dup, seeds = [POOL_SEED, pool.mint.as_ref()], bump = pool.bump)]
    pub pool: Box<Account<'info, Pool>>,
    #[account(mut, dup, address = pool.vault @ PayError::WrongVault)]
    pub vault: Box<Account<'info, TokenAccount>>,
    #[account(
        mut,
        dup,
        constraint = provider_token.mint == pool.mint @ PayError::WrongMint,
        constraint = provider_token.owner == provider.key() @ PayError::WrongOwner,
        constraint = provider_token.key() != vault.key() @ PayError::WrongVault,
    )]
    pub provider_token: Box<Account<'info, TokenAccount>>,
    /// CHECK: the instructions sysvar, by address.
    #[account(address = INSTRUCTIONS_SYSVAR_ID @ PayError::InvalidInstructionsSysvar)]
    pub instructions: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

pub fn handler<'info>(ctx: Context<'info, Settle<'info>>, ed25519_back: u8) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let channels = ctx.remaining_accounts;
    require!(!channels.is_empty(), PayError::NoChannels);
    let provider = ctx.accounts.provider.key();
    let mint = ctx.accounts.pool.mint;

    let sysvar = ctx.accounts.instructions.try_borrow_data()?;
    let ed25519_ix = voucher::index_before(&sysvar, ed25519_back)?;
    let (program, data) = voucher::instruction_at(&sysvar, ed25519_ix)?;
    require!(program == ED25519_PROGRAM_ID.as_ref(), PayError::NotEd25519Instruction);
    let signed = voucher::parse_ed25519(data, ed25519_ix, channels.len())?;

    let mut settlements = Vec::with_capacity(channels.len());
    let mut paid = 0u64;
    let mut fees = 0u64;
    for (info, sig) in channels.iter().zip(signed) {
        require!(info.is_writable, PayError::NoChannels);
        // Owner and discriminator: only this program creates channels, at
        // their PDA. Loaded, updated and written one at a time, so a
        // channel listed twice sees its first settlement (a replay).
        let mut channel: Account<Channel> = Account::try_from(info)?;
        require_keys_eq!(channel.provider, provider, PayError::WrongProvider);
        require_keys_eq!(channel.mint, mint, PayError::WrongMint);
        require!(sig.pubkey == channel.voucher_signer.as_ref(), PayError::WrongVoucherSigner);
        let (cumulative, nonce) = voucher::parse_message(sig.message, &crate::ID, info.key, channel.open_slot)?;
        require!(
            channel.state == ChannelState::Open || now < channel.close_at,
            PayError::ChannelExpired
        );
        require!(nonce != channel.nonce, PayError::VoucherReplayed);
        require!(nonce > channel.nonce, PayError::VoucherOutdated);
        require!(cumulative >= channel.settled, PayError::AmountDecreased);
        require!(cumulative <= channel.deposit, PayError::ExceedsDeposit);
        let (amount, fee) = math::settlement(channel.settled, cumulative, channel.fee_bps)?;
        channel.settled = cumulative;
        channel.nonce = nonce;
        channel.exit(&crate::ID)?;
        paid = paid.checked_add(amount).ok_or(PayError::MathOverflow)?;
        fees = fees.checked_add(fee).ok_or(PayError::MathOverflow)?;
        settlements.push(Settlement { channel: info.key(), cumulative, nonce, amount, fee });
    }
    drop(sysvar);

    let pool = &mut ctx.accounts.pool;
    pool.fees_accrued = pool.fees_accrued.checked_add(fees).ok_or(PayError::MathOverflow)?;
    let vault = PoolVault::new(ctx.accounts.token_program.to_account_info(), ctx.accounts.vault.to_account_info(), pool);
    vault.pay(&ctx.accounts.provider_token.to_account_info(), paid)?;
    emit_cpi!(ChannelsSettled { provider, mint, settlements, paid, fees, settled_ts: now });
    Ok(())
}
