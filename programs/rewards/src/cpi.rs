//! Lean signed CPIs for `claim`, the instruction every worker sends once per
//! epoch: the `sol_invoke_signed_c` syscall with the instruction, metas,
//! account infos and seeds laid out on the stack.
//!
//! `solana_program::program::invoke_signed` builds an `Instruction` (two
//! heap vectors), clones every `AccountInfo`, checks every `RefCell` borrow,
//! then goes through the Rust-ABI syscall; the runtime charges the same for
//! both ABIs, so the difference is all on our side. Callers must not hold a
//! borrow of any account passed here across the call (the runtime writes
//! the accounts back into the same memory when the callee returns).
use anchor_lang::prelude::*;

use crate::token::TOKEN_PROGRAM_ID;

const IX_TRANSFER: u8 = 3;

#[repr(C)]
struct SolInstruction {
    program_id: *const Pubkey,
    accounts: *const SolAccountMeta,
    accounts_len: u64,
    data: *const u8,
    data_len: u64,
}

#[repr(C)]
struct SolAccountMeta {
    pubkey: *const Pubkey,
    is_writable: bool,
    is_signer: bool,
}

/// An account as the C ABI of `sol_invoke_signed_c` describes it: pointers
/// into the program input. `claim` works on these in both of its entries
/// (Anchor's, and the input parser of `fast.rs`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SolAccountInfo {
    pub key: *const Pubkey,
    pub lamports: *const u64,
    pub data_len: u64,
    pub data: *mut u8,
    pub owner: *const Pubkey,
    pub rent_epoch: u64,
    pub is_signer: bool,
    pub is_writable: bool,
    pub executable: bool,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct SolSignerSeed {
    addr: *const u8,
    len: u64,
}

#[repr(C)]
struct SolSignerSeeds {
    addr: *const SolSignerSeed,
    len: u64,
}

impl SolAccountInfo {
    /// Points at the account's own memory (the runtime's serialized input),
    /// as the C ABI expects; nothing is copied.
    pub fn from(info: &AccountInfo) -> Self {
        // SAFETY: `as_ptr` reads the RefCell contents without borrowing;
        // the references inside (`&mut u64`, `&mut [u8]`) point into the
        // program input, valid for the whole instruction.
        let (lamports, data, data_len) = unsafe {
            let l: *const u64 = *info.lamports.as_ptr();
            let d: &mut [u8] = &mut *(*info.data.as_ptr());
            (l, d.as_mut_ptr(), d.len() as u64)
        };
        Self {
            key: info.key,
            lamports,
            data_len,
            data,
            owner: info.owner,
            // Formerly the rent epoch; the runtime no longer reads it.
            rent_epoch: u64::MAX,
            is_signer: info.is_signer,
            is_writable: info.is_writable,
            executable: info.executable,
        }
    }
}

impl SolAccountInfo {
    pub fn key(&self) -> &Pubkey {
        // SAFETY: points into the program input (see `from`, `fast.rs`).
        unsafe { &*self.key }
    }

    pub fn owner(&self) -> &Pubkey {
        // SAFETY: as `key`.
        unsafe { &*self.owner }
    }

    /// The account's data. The caller keeps no other reference to it alive
    /// across a CPI or a `data_mut` of the same account.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `data_len` bytes of the program input.
        unsafe { core::slice::from_raw_parts(self.data, self.data_len as usize) }
    }

    /// As `data`, writable; only for accounts the instruction writes.
    #[allow(clippy::mut_from_ref)]
    pub fn data_mut(&self) -> &mut [u8] {
        // SAFETY: as `data`; the runtime rejects writes to accounts the
        // transaction did not mark writable.
        unsafe { core::slice::from_raw_parts_mut(self.data, self.data_len as usize) }
    }
}

fn meta(info: &SolAccountInfo, is_writable: bool, is_signer: bool) -> SolAccountMeta {
    SolAccountMeta { pubkey: info.key, is_writable, is_signer }
}

#[cfg(target_os = "solana")]
extern "C" {
    fn sol_invoke_signed_c(
        instruction_addr: *const u8,
        account_infos_addr: *const u8,
        account_infos_len: u64,
        signers_seeds_addr: *const u8,
        signers_seeds_len: u64,
    ) -> u64;
}

/// One CPI signed by one PDA (`seeds`, bump included). The metas and the
/// infos are the callee's accounts in its order; the runtime checks the
/// privileges against the caller's.
fn invoke_signed_one(
    program_id: &Pubkey,
    metas: &[SolAccountMeta],
    infos: &[SolAccountInfo],
    data: &[u8],
    seeds: &[&[u8]],
) -> Result<()> {
    let ix = SolInstruction {
        program_id,
        accounts: metas.as_ptr(),
        accounts_len: metas.len() as u64,
        data: data.as_ptr(),
        data_len: data.len() as u64,
    };
    // At most 5 seeds here (the distributor's four and its bump).
    let mut seed_list = [SolSignerSeed { addr: core::ptr::null(), len: 0 }; 5];
    for (slot, s) in seed_list.iter_mut().zip(seeds) {
        *slot = SolSignerSeed { addr: s.as_ptr(), len: s.len() as u64 };
    }
    let signer = SolSignerSeeds { addr: seed_list.as_ptr(), len: seeds.len().min(5) as u64 };
    #[cfg(target_os = "solana")]
    {
        // SAFETY: every pointer is to a live stack value or to the program
        // input, in the layout of the C ABI (`solana_program`'s `SolInstruction`
        // and friends); the runtime validates all of them.
        let rc = unsafe {
            sol_invoke_signed_c(
                &ix as *const _ as *const u8,
                infos.as_ptr() as *const u8,
                infos.len() as u64,
                &signer as *const _ as *const u8,
                1,
            )
        };
        if rc != 0 {
            return Err(ProgramError::from(rc).into());
        }
        Ok(())
    }
    #[cfg(not(target_os = "solana"))]
    {
        let _ = (ix, infos, signer);
        Err(ProgramError::InvalidArgument.into())
    }
}

/// Token `Transfer` of `amount` from `from` to `to`, signed by the PDA
/// `authority` (`seeds`, bump included). Same instruction bytes and
/// accounts as `token::transfer`.
pub fn transfer_signed(
    from: &SolAccountInfo,
    to: &SolAccountInfo,
    authority: &SolAccountInfo,
    amount: u64,
    seeds: &[&[u8]],
) -> Result<()> {
    let mut data = [0u8; 9];
    data[0] = IX_TRANSFER;
    data[1..].copy_from_slice(&amount.to_le_bytes());
    let metas = [meta(from, true, false), meta(to, true, false), meta(authority, false, true)];
    let infos = [*from, *to, *authority];
    invoke_signed_one(&TOKEN_PROGRAM_ID, &metas, &infos, &data, seeds)
}

/// What `emit_cpi!` does, without its heap: invoke this program with
/// `ix_data` (`EVENT_IX_TAG_LE`, the event's discriminator, its Borsh body:
/// see `events::Claimed::cpi_ix_data`), signed by the event authority, whose
/// address and bump are constants of the program id. Anchor's event dispatch
/// in the callee checks the signer and the address.
pub fn emit_cpi_event(event_authority: &SolAccountInfo, ix_data: &[u8]) -> Result<()> {
    let metas = [meta(event_authority, false, true)];
    let infos = [*event_authority];
    let bump = [crate::EVENT_AUTHORITY_AND_BUMP.1];
    invoke_signed_one(&crate::ID, &metas, &infos, ix_data, &[b"__event_authority", &bump])
}
