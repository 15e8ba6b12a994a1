//! Minimal classic SPL Token support, written by hand so the program does not
//! pull anchor-spl (which drags in spl-token-2022 and the zk SDK).
//!
//! Only the classic Token program is supported. Layouts and instruction tags
//! are the stable ones of `spl-token` (account = 165 bytes: mint 0..32,
//! owner 32..64, amount 64..72, ..., state at 108).
use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};

use crate::errors::EscrowError;

pub const TOKEN_PROGRAM_ID: Pubkey = pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_ACCOUNT_LEN: usize = 165;
pub const MINT_LEN: usize = 82;

const IX_TRANSFER: u8 = 3;
const IX_CLOSE_ACCOUNT: u8 = 9;
const IX_INITIALIZE_ACCOUNT3: u8 = 18;

/// `Program<'info, Token>` checks the account is the classic Token program,
/// which rules out arbitrary CPI targets.
#[derive(Clone)]
pub struct Token;

impl anchor_lang::Id for Token {
    fn id() -> Pubkey {
        TOKEN_PROGRAM_ID
    }
}

/// The fields of an SPL Token account the escrow relies on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenAccount {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    /// 1 = initialized, 2 = frozen.
    pub state: u8,
}

impl TokenAccount {
    pub fn unpack(data: &[u8]) -> Result<Self> {
        // Exact length: rejects mints (82 bytes) and multisigs (355 bytes).
        require!(data.len() == TOKEN_ACCOUNT_LEN, EscrowError::InvalidTokenAccount);
        let state = data[108];
        require!(state == 1 || state == 2, EscrowError::InvalidTokenAccount);
        let mut amount = [0u8; 8];
        amount.copy_from_slice(&data[64..72]);
        Ok(Self {
            mint: Pubkey::try_from(&data[0..32]).map_err(|_| EscrowError::InvalidTokenAccount)?,
            owner: Pubkey::try_from(&data[32..64]).map_err(|_| EscrowError::InvalidTokenAccount)?,
            amount: u64::from_le_bytes(amount),
            state,
        })
    }
}

impl anchor_lang::AccountDeserialize for TokenAccount {
    fn try_deserialize_unchecked(buf: &mut &[u8]) -> Result<Self> {
        Self::unpack(buf)
    }
}

/// Never written by this program (its owner is the Token program, so
/// `Account::exit` skips it).
impl anchor_lang::AccountSerialize for TokenAccount {}

impl anchor_lang::Owner for TokenAccount {
    fn owner() -> Pubkey {
        TOKEN_PROGRAM_ID
    }
}

// Foreign accounts are not described in the IDL (same as anchor-spl).
#[cfg(feature = "idl-build")]
impl anchor_lang::IdlBuild for TokenAccount {}
#[cfg(feature = "idl-build")]
impl anchor_lang::Discriminator for TokenAccount {
    const DISCRIMINATOR: &'static [u8] = &[];
}

/// Token `Transfer`, signed by `authority` (a wallet, or a PDA via seeds):
/// built on the stack and sent through the C ABI ([`invoke_c`]): no heap,
/// no `Instruction` clone, no `AccountInfo` clones.
pub fn transfer<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    let mut data = [0u8; 9];
    data[0] = IX_TRANSFER;
    data[1..].copy_from_slice(&amount.to_le_bytes());
    let metas = [
        CAccountMeta::new(from.key, true, false),
        CAccountMeta::new(to.key, true, false),
        CAccountMeta::new(authority.key, false, true),
    ];
    let infos = [CAccountInfo::new(from), CAccountInfo::new(to), CAccountInfo::new(authority), CAccountInfo::new(token_program)];
    invoke_c(&TOKEN_PROGRAM_ID, &metas, &data, &infos, signer_seeds.first().copied())
}

/// Many Token `Transfer`s out of one account (a job's vault), signed by one
/// PDA, prepared once: each [`VaultTransfers::pay`] only fills in the payee
/// and the amount (settle's per-worker cost).
pub struct VaultTransfers {
    metas: [CAccountMeta; 3],
    infos: [CAccountInfo; 4],
    seeds: [CSeed; MAX_SIGNER_SEEDS],
    n_seeds: u64,
}

impl VaultTransfers {
    /// `seeds` (the PDA `authority`'s, bump included) must outlive every
    /// [`VaultTransfers::pay`]: they are referred to, not copied.
    pub fn new(token_program: &AccountInfo, from: &AccountInfo, authority: &AccountInfo, seeds: &[&[u8]]) -> Result<Self> {
        require!(seeds.len() <= MAX_SIGNER_SEEDS, EscrowError::MathOverflow);
        let mut c_seeds: [CSeed; MAX_SIGNER_SEEDS] = core::array::from_fn(|_| CSeed { addr: core::ptr::null(), len: 0 });
        for (c, s) in c_seeds.iter_mut().zip(seeds) {
            *c = CSeed { addr: s.as_ptr(), len: s.len() as u64 };
        }
        Ok(Self {
            metas: [
                CAccountMeta::new(from.key, true, false),
                CAccountMeta::new(from.key, true, false),
                CAccountMeta::new(authority.key, false, true),
            ],
            infos: [CAccountInfo::new(from), CAccountInfo::new(from), CAccountInfo::new(authority), CAccountInfo::new(token_program)],
            seeds: c_seeds,
            n_seeds: seeds.len() as u64,
        })
    }

    /// Transfers `amount` to `to`.
    pub fn pay(&mut self, to: &AccountInfo, amount: u64) -> Result<()> {
        let mut data = [0u8; 9];
        data[0] = IX_TRANSFER;
        data[1..].copy_from_slice(&amount.to_le_bytes());
        self.metas[1] = CAccountMeta::new(to.key, true, false);
        self.infos[1] = CAccountInfo::new(to);
        let signers = [CSeeds { addr: self.seeds.as_ptr(), len: self.n_seeds }];
        invoke_c_raw(&TOKEN_PROGRAM_ID, &self.metas, &data, &self.infos, &signers)
    }
}

/// `SolAccountMeta` of the runtime's C ABI.
#[repr(C)]
pub struct CAccountMeta {
    pubkey: *const Pubkey,
    is_writable: bool,
    is_signer: bool,
}

impl CAccountMeta {
    pub fn new(pubkey: &Pubkey, is_writable: bool, is_signer: bool) -> Self {
        Self { pubkey, is_writable, is_signer }
    }
}

/// `SolAccountInfo` of the runtime's C ABI, pointing at the same serialized
/// account (key, lamports, data, owner) as the Rust `AccountInfo`, so the
/// runtime's pointer checks pass and what the callee changes is seen by the
/// Rust view afterwards.
#[repr(C)]
pub struct CAccountInfo {
    key: *const Pubkey,
    lamports: *const u64,
    data_len: u64,
    data: *const u8,
    owner: *const Pubkey,
    rent_epoch: u64,
    is_signer: bool,
    is_writable: bool,
    executable: bool,
}

impl CAccountInfo {
    /// No `RefCell` borrow is taken: the caller must not hold a borrow of
    /// `info`'s lamports or data across the invocation (nothing here does).
    #[allow(deprecated)]
    pub fn new(info: &AccountInfo) -> Self {
        // SAFETY: pointers only, read by the runtime during the call.
        let (lamports, data) = unsafe { (&**info.lamports.as_ptr() as *const u64, &**info.data.as_ptr()) };
        Self {
            key: info.key,
            lamports,
            data_len: data.len() as u64,
            data: data.as_ptr(),
            owner: info.owner,
            rent_epoch: info._unused,
            is_signer: info.is_signer,
            is_writable: info.is_writable,
            executable: info.executable,
        }
    }
}

#[repr(C)]
struct CSeed {
    addr: *const u8,
    len: u64,
}

#[repr(C)]
struct CSeeds {
    addr: *const CSeed,
    len: u64,
}

#[repr(C)]
struct CInstruction {
    program_id: *const Pubkey,
    accounts: *const CAccountMeta,
    accounts_len: u64,
    data: *const u8,
    data_len: u64,
}

/// Most seeds of the one PDA signer [`invoke_c`] takes (a job has 5).
const MAX_SIGNER_SEEDS: usize = 6;

/// A cross-program invocation through `sol_invoke_signed_c`, signed by at
/// most one PDA of this program (`seeds`, bump included). Same checks by
/// the runtime as `invoke_signed` (signer seeds, privileges, account
/// pointers), without building an `Instruction` on the heap. Off-chain (unit
/// tests) it does nothing.
#[allow(unused_variables)]
pub fn invoke_c(
    program_id: &Pubkey,
    metas: &[CAccountMeta],
    data: &[u8],
    infos: &[CAccountInfo],
    seeds: Option<&[&[u8]]>,
) -> Result<()> {
    let mut c_seeds: [CSeed; MAX_SIGNER_SEEDS] = core::array::from_fn(|_| CSeed { addr: core::ptr::null(), len: 0 });
    let n_seeds = seeds.map_or(0, |s| s.len());
    require!(n_seeds <= MAX_SIGNER_SEEDS, EscrowError::MathOverflow);
    if let Some(seeds) = seeds {
        for (c, s) in c_seeds.iter_mut().zip(seeds) {
            *c = CSeed { addr: s.as_ptr(), len: s.len() as u64 };
        }
    }
    let signers = [CSeeds { addr: c_seeds.as_ptr(), len: n_seeds as u64 }];
    invoke_c_raw(program_id, metas, data, infos, if seeds.is_some() { &signers[..] } else { &[] })
}

/// [`invoke_c`] with the signers already in the C layout.
#[allow(unused_variables)]
fn invoke_c_raw(
    program_id: &Pubkey,
    metas: &[CAccountMeta],
    data: &[u8],
    infos: &[CAccountInfo],
    signers: &[CSeeds],
) -> Result<()> {
    let ix = CInstruction {
        program_id,
        accounts: metas.as_ptr(),
        accounts_len: metas.len() as u64,
        data: data.as_ptr(),
        data_len: data.len() as u64,
    };
    #[cfg(target_os = "solana")]
    {
        // SAFETY: every pointer refers to a live value of the caller or to
        // the serialized input, in the layouts the runtime reads.
        let rc = unsafe {
            anchor_lang::solana_program::program::syscalls::sol_invoke_signed_c(
                &ix as *const CInstruction as *const u8,
                infos.as_ptr() as *const u8,
                infos.len() as u64,
                signers.as_ptr() as *const u8,
                signers.len() as u64,
            )
        };
        if rc != 0 {
            return Err(anchor_lang::solana_program::program_error::ProgramError::from(rc).into());
        }
    }
    #[cfg(not(target_os = "solana"))]
    let _ = ix;
    Ok(())
}

/// Token `CloseAccount`: the (empty) account's lamports go to `destination`.
pub fn close_account<'info>(
    token_program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    destination: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    let ix = Instruction {
        program_id: TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(account.key(), false),
            AccountMeta::new(destination.key(), false),
            AccountMeta::new_readonly(authority.key(), true),
        ],
        data: vec![IX_CLOSE_ACCOUNT],
    };
    invoke_signed(
        &ix,
        &[account.clone(), destination.clone(), authority.clone(), token_program.clone()],
        signer_seeds,
    )
    .map_err(Into::into)
}

/// Token `InitializeAccount3`: no rent sysvar account needed.
pub fn initialize_account3<'info>(
    token_program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    owner: &Pubkey,
) -> Result<()> {
    let mut data = Vec::with_capacity(33);
    data.push(IX_INITIALIZE_ACCOUNT3);
    data.extend_from_slice(owner.as_ref());
    let ix = Instruction {
        program_id: TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(account.key(), false),
            AccountMeta::new_readonly(mint.key(), false),
        ],
        data,
    };
    invoke_signed(&ix, &[account.clone(), mint.clone(), token_program.clone()], &[])
        .map_err(Into::into)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account_bytes(state: u8) -> Vec<u8> {
        let mut d = vec![0u8; TOKEN_ACCOUNT_LEN];
        d[0..32].copy_from_slice(&[1u8; 32]);
        d[32..64].copy_from_slice(&[2u8; 32]);
        d[64..72].copy_from_slice(&42u64.to_le_bytes());
        d[108] = state;
        d
    }

    #[test]
    fn unpacks_layout() {
        let a = TokenAccount::unpack(&account_bytes(1)).unwrap();
        assert_eq!(a.mint, Pubkey::new_from_array([1u8; 32]));
        assert_eq!(a.owner, Pubkey::new_from_array([2u8; 32]));
        assert_eq!(a.amount, 42);
    }

    #[test]
    fn rejects_uninitialized_and_wrong_length() {
        assert!(TokenAccount::unpack(&account_bytes(0)).is_err());
        assert!(TokenAccount::unpack(&account_bytes(1)[..MINT_LEN]).is_err());
        let mut long = account_bytes(1);
        long.push(0);
        assert!(TokenAccount::unpack(&long).is_err());
    }
}
