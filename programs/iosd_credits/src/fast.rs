//! The program's entrypoint: `open_job_with_credits` and the self-CPI of
//! this program's events on a fast path, everything else (and every
//! instruction the fast path does not accept) through Anchor.
//!
//! Anchor's entry turns each of the instruction's 18 accounts into an
//! `AccountInfo` (two `Rc` allocations each), deserializes the arguments,
//! logs the instruction name and runs `try_accounts` and `exit`: about
//! 3,700 CU of `open_job_with_credits`, measured, before and after its
//! handler. Here the program input is read in place instead
//! (`token_cpi::parse_input`): the accounts as `CInfo` views pointing into
//! the input, the workers as the slice of the instruction data job_escrow
//! gets as is.
//!
//! `OpenJobWithCredits`' own checks (signers, write flags, the three
//! programs, the event authority, arguments that are exactly `job_id,
//! hours, accept_window, workers`) are made here first; any difference
//! hands the instruction, untouched, to Anchor's entry, which checks it
//! again and fails with the specific error and its logs. Then both entries
//! run the same `open_job::open` on the same accounts, with every check of
//! the handler and the same result (its errors included), so the fast path
//! never accepts what the Anchor path rejects.
use anchor_lang::prelude::*;
use anchor_lang::Discriminator;
use token_cpi::{input_instruction, parse_input, CInfo};

use crate::escrow::ESCROW_PROGRAM_ID;
use crate::instructions::open_job::{open, OpenJobViews};
use crate::token::TOKEN_PROGRAM_ID;

/// `OpenJobWithCredits`' accounts: authority, payer, config, credit_account,
/// delegation, reserve_vault, customer, refund_account, market, mint, job,
/// vault, escrow_event_authority, escrow_program, token_program,
/// system_program, event_authority, program.
const OPEN_ACCOUNTS: usize = 18;

/// Handles the instruction in `input` if it is an `open_job_with_credits`
/// the fast path accepts (returning the instruction's result), or the
/// self-CPI of one of this program's events; `None` to go through Anchor.
///
/// # Safety
/// `input` is the runtime's serialized program input (the entrypoint's).
pub unsafe fn try_fast(input: *mut u8) -> Option<u64> {
    // First only where the instruction data is: every other instruction
    // goes to Anchor for the cost of this walk.
    let (n, ix, program_id) = input_instruction(input);
    if *program_id != crate::ID || ix.len() < 8 {
        return None;
    }
    // An event's self-CPI coming back: what Anchor's event dispatch checks,
    // the event authority signs. The event is in the instruction data.
    if ix[..8] == *anchor_lang::event::EVENT_IX_TAG_LE {
        let mut acc = [CInfo::EMPTY; 1];
        parse_input(input, &mut acc);
        let a = &acc[0];
        let ok = n >= 1 && a.is_signer() && *a.key() == crate::EVENT_AUTHORITY_AND_BUMP.0;
        return if ok { Some(0) } else { None };
    }
    if n < OPEN_ACCOUNTS || ix[..8] != *crate::instruction::OpenJobWithCredits::DISCRIMINATOR || ix.len() < 28 {
        return None;
    }
    let mut acc = [CInfo::EMPTY; OPEN_ACCOUNTS];
    parse_input(input, &mut acc);
    // Arguments, exactly: job_id u64, hours u32, accept_window u32, workers
    // (u32 length, then 40 bytes per worker).
    let job_id = u64::from_le_bytes(ix[8..16].try_into().ok()?);
    let hours = u32::from_le_bytes(ix[16..20].try_into().ok()?);
    let accept_window = u32::from_le_bytes(ix[20..24].try_into().ok()?);
    let n_workers = u32::from_le_bytes(ix[24..28].try_into().ok()?) as u64;
    if (ix.len() - 28) as u64 != 40 * n_workers {
        return None;
    }
    let [authority, payer, config, credit_account, delegation, reserve_vault, customer, refund_account, market, mint, job, vault, escrow_event_authority, escrow_program, token_program, system_program, event_authority, _program] =
        acc;
    // An absent optional account is the program id itself (as Anchor reads it).
    let delegation = (*delegation.key() != crate::ID).then_some(delegation);
    // What `OpenJobWithCredits` checks before the handler.
    let writable = [config, credit_account, reserve_vault, customer, refund_account, market, job, vault];
    if !authority.is_signer()
        || !(payer.is_signer() && payer.is_writable())
        || !writable.iter().all(|a| a.is_writable())
        || delegation.is_some_and(|d| !d.is_writable())
        || !(*escrow_program.key() == ESCROW_PROGRAM_ID && escrow_program.executable())
        || !(*token_program.key() == TOKEN_PROGRAM_ID && token_program.executable())
        || !(*system_program.key() == System::id() && system_program.executable())
        || *event_authority.key() != crate::EVENT_AUTHORITY_AND_BUMP.0
    {
        return None;
    }
    let v = OpenJobViews {
        authority,
        payer,
        config,
        credit_account,
        delegation,
        reserve_vault,
        customer,
        refund_account,
        market,
        mint,
        job,
        vault,
        escrow_event_authority,
        escrow_program,
        token_program,
        system_program,
        event_authority,
    };
    // Accepted: from here the result is the instruction's, whatever it is.
    Some(match open(&v, job_id, hours, accept_window, &ix[24..]) {
        Ok(()) => 0,
        Err(e) => {
            e.log();
            u64::from(ProgramError::from(e))
        }
    })
}

/// The entrypoint (instead of the one Anchor's `#[program]` would declare;
/// `build.rs` switches that one off): an instruction the fast path accepts,
/// else Anchor's `entry` exactly as its own entrypoint would call it.
#[cfg(all(credits_fast_entrypoint, target_os = "solana"))]
mod entry_point {
    /// # Safety
    /// Called by the runtime with the serialized program input.
    #[no_mangle]
    pub unsafe extern "C" fn entrypoint(input: *mut u8) -> u64 {
        if let Some(result) = super::try_fast(input) {
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
