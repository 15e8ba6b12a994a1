//! The program's entrypoint: `claim` on a fast path, everything else (and
//! every claim the fast path does not accept) through Anchor.
//!
//! Anchor's entry turns every account into an `AccountInfo` (two `Rc`
//! allocations each), then `try_accounts`, then `exit`: about 2,400 CU of a
//! claim's 8 accounts and its proof, measured, before the handler's first
//! line. `claim` is the instruction every worker sends once per epoch, so
//! here it reads the program input in place instead
//! (`token_cpi::parse_input`): the 8 accounts as `CInfo` views pointing into
//! the input, the proof as a slice of the instruction data.
//!
//! It runs only when the whole claim is accepted. Any difference from the
//! exact shape Anchor would accept (too few accounts, a duplicated one, a
//! missing signature or write flag, another token program or event
//! authority, arguments that are not exactly `index, amount, proof`), and
//! any rejection by [`claim::validate`], hands the instruction, untouched,
//! to Anchor's entry, which checks it again and fails with the specific
//! error and its logs. Both entries run the same `validate` and `apply`,
//! so an accepted claim does the same on both; the fast path never accepts
//! what the Anchor path rejects, because it requires every Anchor check to
//! hold and then runs the same handler checks.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;

use token_cpi::{parse_input, CInfo};

use crate::instructions::claim::{self, ClaimViews};
use crate::token::TOKEN_PROGRAM_ID;

/// `claim`'s accounts: claimant, distributor, claims, vault, claimant_token,
/// token_program, event_authority, program.
const CLAIM_ACCOUNTS: usize = 8;

/// Handles the instruction in `input` if it is a claim the fast path
/// accepts, or the self-CPI of its event (returning the program's result);
/// `None` to go through Anchor.
///
/// # Safety
/// `input` is the runtime's serialized program input (the entrypoint's).
pub unsafe fn try_claim(input: *mut u8) -> Option<u64> {
    let mut acc = [CInfo::EMPTY; CLAIM_ACCOUNTS];
    let (num_accounts, repeats, ix, program_id) = parse_input(input, &mut acc);
    let ix_len = ix.len();
    if *program_id != crate::ID || ix_len < 8 {
        return None;
    }
    // `Claimed`'s self-CPI (below) coming back: what Anchor's event dispatch
    // checks, the event authority signs. The event is in the instruction data.
    if ix[..8] == *anchor_lang::event::EVENT_IX_TAG_LE {
        let authority = &acc[0];
        let ok = num_accounts >= 1 && authority.is_signer() && *authority.key() == crate::EVENT_AUTHORITY_AND_BUMP.0;
        return if ok { Some(0) } else { None };
    }
    // Arguments, exactly: discriminator, index u32, amount u64, proof (u32 length, 32-byte siblings).
    // A duplicated account among a claim's own: Anchor's path decides.
    if num_accounts < CLAIM_ACCOUNTS || repeats || ix_len < 24 || ix[..8] != *crate::instruction::Claim::DISCRIMINATOR {
        return None;
    }
    let index = u32::from_le_bytes(ix[8..12].try_into().ok()?);
    let amount = u64::from_le_bytes(ix[12..20].try_into().ok()?);
    let n = u32::from_le_bytes(ix[20..24].try_into().ok()?) as usize;
    // n <= 2^32 - 1, so 32 * n fits in a u64 usize.
    if ix_len != 24 + 32 * n {
        return None;
    }
    // [u8; 32] has alignment 1: any address is a valid element.
    let proof = core::slice::from_raw_parts(ix.as_ptr().add(24) as *const [u8; 32], n);

    // What `Claim` checks before the handler.
    let [claimant, distributor, claims, vault, claimant_token, token_program, event_authority, _program] = acc;
    if !claimant.is_signer()
        || !(distributor.is_writable() && claims.is_writable() && vault.is_writable() && claimant_token.is_writable())
        || *token_program.key() != TOKEN_PROGRAM_ID
        || !token_program.executable()
        || *event_authority.key() != crate::EVENT_AUTHORITY_AND_BUMP.0
    {
        return None;
    }
    let v = ClaimViews { claimant, distributor, claims, vault, claimant_token, event_authority };
    let now_ts = Clock::get().ok()?.unix_timestamp;
    let checked = claim::validate(&v, now_ts, index, amount, proof).ok()?;
    // Accepted: from here the result is the claim's, whatever it is.
    Some(match claim::apply(&v, &checked, index, amount) {
        Ok(()) => 0,
        Err(e) => {
            e.log();
            u64::from(ProgramError::from(e))
        }
    })
}

/// The entrypoint (instead of the one Anchor's `#[program]` would declare;
/// `build.rs` switches that one off): a claim the fast path accepts, else
/// Anchor's `entry` exactly as its own entrypoint would call it.
#[cfg(all(rewards_fast_entrypoint, target_os = "solana"))]
mod entry_point {
    /// # Safety
    /// Called by the runtime with the serialized program input.
    #[no_mangle]
    pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
        if let Some(result) = super::try_claim(input) {
            return result;
        }
        let (program_id, accounts, data) = anchor_lang::solana_program::entrypoint::deserialize(input);
        match crate::entry(program_id, &accounts, data) {
            Ok(()) => anchor_lang::solana_program::entrypoint::SUCCESS,
            Err(error) => error.into(),
        }
    }

    anchor_lang::solana_program::entrypoint::custom_heap_default!();
    anchor_lang::solana_program::entrypoint::custom_panic_default!();
}
