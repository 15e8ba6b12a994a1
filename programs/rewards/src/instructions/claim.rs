use anchor_lang::prelude::*;
use anchor_lang::error::ErrorCode;

use token_cpi::CInfo;
use crate::errors::RewardsError;
use crate::events::Claimed;
use crate::merkle;
use crate::state::*;
use crate::token::{Token, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

/// The wallet of leaf `index` claims its `amount` with a Merkle proof, into
/// one of its token accounts of the distributor's mint, while
/// `now <= claim_deadline`. Each index is claimable once: its bit in the
/// claim bitmap is set here. No account is created, so a claim costs no
/// rent, only the transaction fee.
///
/// This is the one instruction every worker sends, so it is written for
/// compute units: the distributor and the claimant's token account are
/// `UncheckedAccount`s checked by hand in [`handler`] (same checks, same
/// error codes as `Account<Distributor>` / `Account<TokenAccount>` with the
/// constraints), the distributor is read and written at fixed offsets
/// instead of being deserialized and serialized whole, and the transfer and
/// the event are CPIs from stack structures (`token_cpi`).
#[event_cpi]
#[derive(Accounts)]
pub struct Claim<'info> {
    pub claimant: Signer<'info>,
    /// The epoch's `Distributor`.
    /// CHECK: owner, discriminator and size checked in the handler.
    #[account(mut)]
    pub distributor: UncheckedAccount<'info>,
    /// The distributor's own bitmap (address stored at creation; owned by
    /// this program since then).
    /// CHECK: the address is checked in the handler (`WrongClaimBitmap`).
    #[account(mut)]
    pub claims: UncheckedAccount<'info>,
    /// The distributor's vault; the Token program checks its balance and
    /// authority.
    /// CHECK: the address is checked in the handler (`WrongVault`).
    #[account(mut)]
    pub vault: UncheckedAccount<'info>,
    /// An initialized classic SPL Token account of the distributor's mint,
    /// owned by the claimant.
    /// CHECK: owner program, size, state, mint and owner checked in the handler.
    #[account(mut)]
    pub claimant_token: UncheckedAccount<'info>,
    pub token_program: Program<'info, Token>,
}

macro_rules! cu {
    () => {
        #[cfg(all(feature = "cu-trace", target_os = "solana"))]
        {
            extern "C" {
                fn sol_log_compute_units_();
            }
            // SAFETY: a syscall without arguments.
            unsafe { sol_log_compute_units_() }
        }
    };
}

fn account_error(code: ErrorCode, name: &str) -> Error {
    Error::from(code).with_account_name(name)
}

/// The accounts of a claim as `token_cpi::CInfo` views, in the instruction's
/// order (the Anchor entry builds them from `Claim`, `fast.rs` from the
/// program input).
pub struct ClaimViews {
    pub claimant: CInfo,
    pub distributor: CInfo,
    pub claims: CInfo,
    pub vault: CInfo,
    pub claimant_token: CInfo,
    pub event_authority: CInfo,
}

/// What [`validate`] read and decided; [`apply`] acts on it.
pub struct Checked {
    epoch: u64,
    bump: u8,
    creator: [u8; 32],
    mint: [u8; 32],
    claimed: u64,
    num_claimed: u32,
    byte: usize,
    mask: u8,
}

pub fn handler(ctx: Context<Claim>, index: u32, amount: u64, proof: Vec<[u8; 32]>) -> Result<()> {
    let a = &ctx.accounts;
    // No `RefCell` borrow of these accounts is taken from here on: the
    // handler reads and writes them through the views.
    let v = ClaimViews {
        claimant: CInfo::new(&a.claimant.to_account_info()),
        distributor: CInfo::new(&a.distributor.to_account_info()),
        claims: CInfo::new(&a.claims.to_account_info()),
        vault: CInfo::new(&a.vault.to_account_info()),
        claimant_token: CInfo::new(&a.claimant_token.to_account_info()),
        event_authority: CInfo::new(&a.event_authority.to_account_info()),
    };
    let now_ts = Clock::get()?.unix_timestamp;
    let checked = validate(&v, now_ts, index, amount, &proof)?;
    apply(&v, &checked, index, amount)
}

/// Every check of a claim, in order, each with its own error; nothing is
/// written. The accounts' Anchor-level checks (claimant signs, the four
/// writable, the Token program, the event authority's address) are done
/// by `Claim` or, on the fast entry, by `fast.rs` before this.
pub fn validate(v: &ClaimViews, now_ts: i64, index: u32, amount: u64, proof: &[[u8; 32]]) -> Result<Checked> {
    cu!();
    // -- the distributor: what `Account<Distributor>` checks, then the fields claim uses.
    if *v.distributor.owner() != crate::ID {
        return Err(account_error(ErrorCode::AccountOwnedByWrongProgram, "distributor"));
    }
    let d = v.distributor.data();
    if d.len() < 8 {
        return Err(account_error(ErrorCode::AccountDiscriminatorNotFound, "distributor"));
    }
    if d[..8] != *Distributor::DISCRIMINATOR {
        return Err(account_error(ErrorCode::AccountDiscriminatorMismatch, "distributor"));
    }
    if d.len() < layout::LEN {
        return Err(account_error(ErrorCode::AccountDidNotDeserialize, "distributor"));
    }
    // The stored links (`address = distributor.claims / .vault` before).
    require!(v.claims.key().as_ref() == key_at(d, layout::CLAIMS), RewardsError::WrongClaimBitmap);
    require!(v.vault.key().as_ref() == key_at(d, layout::VAULT), RewardsError::WrongVault);
    let mint = *key_at(d, layout::MINT);

    cu!();
    // -- the claimant's token account: owner program, exact size (not a mint
    // or a multisig), initialized or frozen (as `TokenAccount::unpack`), mint
    // at 0..32, owner at 32..64.
    if *v.claimant_token.owner() != TOKEN_PROGRAM_ID {
        return Err(account_error(ErrorCode::AccountOwnedByWrongProgram, "claimant_token"));
    }
    let t = v.claimant_token.data();
    require!(t.len() == TOKEN_ACCOUNT_LEN && (t[108] == 1 || t[108] == 2), RewardsError::InvalidTokenAccount);
    require!(t[0..32] == mint, RewardsError::WrongMint);
    let claimant = v.claimant.key().to_bytes();
    require!(t[32..64] == claimant, RewardsError::WrongOwner);

    cu!();
    let epoch = read_u64(d, layout::EPOCH);
    let num_leaves = read_u32(d, layout::NUM_LEAVES);
    let deadline = read_u64(d, layout::CLAIM_DEADLINE) as i64;
    require!(now_ts <= deadline && d[layout::CLAWED_BACK] == 0, RewardsError::ClaimDeadlinePassed);
    require!(index < num_leaves, RewardsError::IndexOutOfRange);
    require!(proof.len() == d[layout::DEPTH] as usize, RewardsError::WrongProofLength);
    cu!();
    let leaf = merkle::leaf_hash(epoch, index, &claimant, amount);
    cu!();
    require!(merkle::verify(key_at(d, layout::ROOT), num_leaves, leaf, index, proof), RewardsError::InvalidProof);
    cu!();
    let (byte, mask) = merkle::bit(index);
    // index < num_leaves and the bitmap's size was fixed from num_leaves at
    // creation, so the byte exists; `get` keeps a bad account from panicking.
    let cell = *v.claims.data().get(CLAIMS_HEADER + byte).ok_or(RewardsError::ClaimBitmapSize)?;
    require!(cell & mask == 0, RewardsError::AlreadyClaimed);
    // claimed <= total <= u64::MAX (checked at every claim), so the sum only
    // overflows for an amount no proof commits to; checked anyway.
    let claimed = read_u64(d, layout::CLAIMED).checked_add(amount).ok_or(RewardsError::MathOverflow)?;
    require!(claimed <= read_u64(d, layout::TOTAL), RewardsError::ExceedsTotal);
    let num_claimed = read_u32(d, layout::NUM_CLAIMED).checked_add(1).ok_or(RewardsError::MathOverflow)?;
    Ok(Checked {
        epoch,
        bump: d[layout::BUMP],
        creator: *key_at(d, layout::CREATOR),
        mint,
        claimed,
        num_claimed,
        byte: CLAIMS_HEADER + byte,
        mask,
    })
}

/// Sets the bit, pays, records the totals and emits `Claimed`. Only after
/// [`validate`] accepted the claim.
pub fn apply(v: &ClaimViews, c: &Checked, index: u32, amount: u64) -> Result<()> {
    v.claims.data_mut()[c.byte] |= c.mask;
    let epoch_le = c.epoch.to_le_bytes();
    let bump = [c.bump];
    cu!();
    token_cpi::transfer_view(
        &v.vault,
        &v.claimant_token,
        &v.distributor,
        amount,
        &[&[DISTRIBUTOR_SEED, &c.creator, &c.mint, &epoch_le, &bump]],
    )?;
    cu!();
    let d = v.distributor.data_mut();
    d[layout::CLAIMED..layout::CLAIMED + 8].copy_from_slice(&c.claimed.to_le_bytes());
    d[layout::NUM_CLAIMED..layout::NUM_CLAIMED + 4].copy_from_slice(&c.num_claimed.to_le_bytes());
    let event = Claimed {
        distributor: *v.distributor.key(),
        epoch: c.epoch,
        index,
        claimant: *v.claimant.key(),
        amount,
        claimed: c.claimed,
        num_claimed: c.num_claimed,
    };
    cu!();
    token_cpi::emit_event_cpi(&crate::ID, &v.event_authority, crate::EVENT_AUTHORITY_AND_BUMP.1, &event.cpi_ix_data())
}
