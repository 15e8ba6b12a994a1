use anchor_lang::prelude::*;

use crate::errors::RewardsError;
use crate::events::DistributorCreated;
use crate::merkle;
use crate::state::*;
use crate::token::{self, Token, TokenAccount, MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

/// Creates epoch `epoch`'s distributor of `mint` for `creator`, with the
/// Merkle root of `num_leaves` leaves, and funds its vault with `total`
/// from the creator's token account in the same instruction (a distributor
/// is never under-funded). `claims` is a zeroed account owned by this
/// program, created by the client in the same transaction (a top-level
/// `create_account`, so it can be larger than the 10 KiB a CPI may
/// allocate): `32 + ceil(num_leaves / 8)` bytes. It becomes the claim
/// bitmap; its rent is paid once by the creator, claims pay none.
#[event_cpi]
#[derive(Accounts)]
#[instruction(epoch: u64, root: [u8; 32], num_leaves: u32)]
pub struct NewDistributor<'info> {
    #[account(mut)]
    pub creator: Signer<'info>,
    /// The first admin; any key (e.g. a governance PDA).
    /// CHECK: only the key is stored.
    #[account(constraint = admin.key() != Pubkey::default() @ RewardsError::InvalidAdmin)]
    pub admin: UncheckedAccount<'info>,
    /// A classic SPL Token mint (owner and exact size checked).
    /// CHECK: owner and size constraints below.
    #[account(
        constraint = *mint.owner == TOKEN_PROGRAM_ID @ RewardsError::InvalidMint,
        constraint = mint.data_len() == MINT_LEN @ RewardsError::InvalidMint,
    )]
    pub mint: UncheckedAccount<'info>,
    /// Receives the unclaimed remainder after the deadline.
    #[account(constraint = treasury.mint == mint.key() @ RewardsError::WrongMint)]
    pub treasury: Box<Account<'info, TokenAccount>>,
    #[account(
        init,
        payer = creator,
        space = 8 + Distributor::INIT_SPACE,
        seeds = [DISTRIBUTOR_SEED, creator.key().as_ref(), mint.key().as_ref(), &epoch.to_le_bytes()],
        bump,
    )]
    pub distributor: Box<Account<'info, Distributor>>,
    /// CHECK: created and initialized by this instruction.
    #[account(
        init,
        payer = creator,
        space = TOKEN_ACCOUNT_LEN,
        owner = TOKEN_PROGRAM_ID,
        seeds = [VAULT_SEED, distributor.key().as_ref()],
        bump,
    )]
    pub vault: UncheckedAccount<'info>,
    /// Signs so nobody can take over a bitmap account the creator made for
    /// its own distributor. A program-owned account whose first 32 bytes
    /// are zero is fresh: this program writes the header first and never
    /// leaves it zero, so checking the header (not all the bytes) suffices.
    #[account(
        mut,
        constraint = *claims.owner == crate::ID @ RewardsError::ClaimBitmapOwner,
        constraint = claims.data_len() == CLAIMS_HEADER + merkle::bitmap_len(num_leaves)
            @ RewardsError::ClaimBitmapSize,
    )]
    pub claims: Signer<'info>,
    #[account(
        mut,
        dup,
        constraint = creator_token.mint == mint.key() @ RewardsError::WrongMint,
        constraint = creator_token.owner == creator.key() @ RewardsError::WrongOwner,
    )]
    pub creator_token: Box<Account<'info, TokenAccount>>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(
    ctx: Context<NewDistributor>,
    epoch: u64,
    root: [u8; 32],
    num_leaves: u32,
    total: u64,
    claim_deadline: i64,
) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;
    require!(num_leaves > 0, RewardsError::ZeroLeaves);
    require!(total > 0, RewardsError::ZeroTotal);
    require!(claim_deadline > now_ts, RewardsError::DeadlineInPast);
    let distributor_key = ctx.accounts.distributor.key();
    {
        let mut data = ctx.accounts.claims.try_borrow_mut_data()?;
        require!(data[..CLAIMS_HEADER].iter().all(|b| *b == 0), RewardsError::ClaimBitmapInUse);
        data[..CLAIMS_HEADER].copy_from_slice(distributor_key.as_ref());
    }

    token::initialize_account3(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.mint.to_account_info(),
        &distributor_key,
    )?;
    token::transfer(
        &ctx.accounts.token_program.to_account_info(),
        &ctx.accounts.creator_token.to_account_info(),
        &ctx.accounts.vault.to_account_info(),
        &ctx.accounts.creator.to_account_info(),
        total,
        &[],
    )?;

    let d = Distributor {
        creator: ctx.accounts.creator.key(),
        mint: ctx.accounts.mint.key(),
        epoch,
        admin: ctx.accounts.admin.key(),
        pending_admin: Pubkey::default(),
        root,
        num_leaves,
        depth: merkle::depth(num_leaves),
        vault: ctx.accounts.vault.key(),
        claims: ctx.accounts.claims.key(),
        treasury: ctx.accounts.treasury.key(),
        total,
        claimed: 0,
        num_claimed: 0,
        claim_deadline,
        clawed_back: false,
        clawback_amount: 0,
        created_ts: now_ts,
        bump: ctx.bumps.distributor,
        vault_bump: ctx.bumps.vault,
        reserved: [0; 32],
    };
    emit_cpi!(DistributorCreated {
        distributor: distributor_key,
        creator: d.creator,
        admin: d.admin,
        mint: d.mint,
        epoch,
        root,
        num_leaves,
        total,
        claim_deadline,
        treasury: d.treasury,
        vault: d.vault,
        claims: d.claims,
    });
    ctx.accounts.distributor.set_inner(d);
    Ok(())
}
