use anchor_lang::prelude::*;

use crate::errors::RewardsError;
use crate::events::Claimed;
use crate::merkle;
use crate::state::*;
use crate::token::{self, Token, TokenAccount};

/// The wallet of leaf `index` claims its `amount` with a Merkle proof, into
/// one of its token accounts of the distributor's mint, while
/// `now <= claim_deadline`. Each index is claimable once: its bit in the
/// claim bitmap is set here. No account is created, so a claim costs no
/// rent, only the transaction fee.
#[event_cpi]
#[derive(Accounts)]
pub struct Claim<'info> {
    pub claimant: Signer<'info>,
    #[account(mut, dup)]
    pub distributor: Box<Account<'info, Distributor>>,
    /// CHECK: the distributor's own bitmap (address stored at creation;
    /// owned by this program since then).
    #[account(mut, address = distributor.claims @ RewardsError::WrongClaimBitmap)]
    pub claims: UncheckedAccount<'info>,
    /// CHECK: the distributor's vault (address stored at creation); the
    /// Token program checks its balance and authority.
    #[account(mut, address = distributor.vault @ RewardsError::WrongVault)]
    pub vault: UncheckedAccount<'info>,
    #[account(
        mut,
        dup,
        constraint = claimant_token.mint == distributor.mint @ RewardsError::WrongMint,
        constraint = claimant_token.owner == claimant.key() @ RewardsError::WrongOwner,
    )]
    pub claimant_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<Claim>, index: u32, amount: u64, proof: Vec<[u8; 32]>) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    let d = &ctx.accounts.distributor;
    require!(now_ts <= d.claim_deadline && !d.clawed_back, RewardsError::ClaimDeadlinePassed);
    require!(index < d.num_leaves, RewardsError::IndexOutOfRange);
    require!(proof.len() == d.depth as usize, RewardsError::WrongProofLength);
    let claimant = ctx.accounts.claimant.key();
    let leaf = merkle::leaf_hash(d.epoch, index, &claimant.to_bytes(), amount);
    require!(merkle::verify(&d.root, d.num_leaves, leaf, index, &proof), RewardsError::InvalidProof);
    {
        let (byte, mask) = merkle::bit(index);
        let mut bits = ctx.accounts.claims.try_borrow_mut_data()?;
        let cell = &mut bits[CLAIMS_HEADER + byte];
        require!(*cell & mask == 0, RewardsError::AlreadyClaimed);
        *cell |= mask;
    }
    let claimed = d.claimed.checked_add(amount).ok_or(RewardsError::MathOverflow)?;
    require!(claimed <= d.total, RewardsError::ExceedsTotal);
    let num_claimed = d.num_claimed.checked_add(1).ok_or(RewardsError::MathOverflow)?;

    let epoch = d.epoch.to_le_bytes();
    let bump = [d.bump];
    let seeds = d.signer_seeds(&epoch, &bump);
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.claimant_token.to_account_info(),
        &ctx.accounts.distributor.to_account_info(),
        amount,
        &[&seeds],
    )?;
    let d = &mut ctx.accounts.distributor;
    d.claimed = claimed;
    d.num_claimed = num_claimed;
    emit_cpi!(Claimed {
        distributor: d.key(),
        epoch: d.epoch,
        index,
        claimant,
        amount,
        claimed,
        num_claimed,
    });
    Ok(())
}
