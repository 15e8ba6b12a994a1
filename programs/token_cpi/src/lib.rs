//! Classic SPL Token, written by hand for iopay's programs (inference_pay,
//! iosd_credits, rewards) so none of them pulls anchor-spl, which drags in
//! spl-token-2022 and the zk SDK (not buildable by tools/sbpf today): the
//! Token program id and marker type, the token account fields the programs
//! read, and the two CPIs they make (`Transfer`, `InitializeAccount3`).
//!
//! Only the classic Token program is supported. Layouts and instruction tags
//! are the stable ones of `spl-token` (account = 165 bytes: mint 0..32,
//! owner 32..64, amount 64..72, ..., state at 108).
//!
//! Each program reports an account that is not a token account with its own
//! error code, so the `TokenAccount` type Anchor deserializes is generated in
//! the program's crate by [`token_account!`] with that error; everything else
//! lives here once, for job_escrow too.
//!
//! [`invoke_c`]: any cross-program invocation through the runtime's C ABI
//! (`sol_invoke_signed_c`) with the instruction, metas, account infos and
//! signer seeds on the stack, for hot paths: job_escrow's payouts
//! ([`VaultTransfers`]), iosd_credits' job opening, rewards' claim; and
//! [`emit_event_cpi`], the self-invocation `emit_cpi!` makes, without its heap.
//! [`parse_input`] reads the program input in place for the programs' own
//! entrypoints (rewards' claim, iosd_credits' job opening).
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};

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

/// The fields of an SPL Token account the programs rely on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenFields {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
    /// 1 = initialized, 2 = frozen.
    pub state: u8,
}

/// The fields of an initialized (or frozen) token account, None for
/// anything else. Exact length: rejects mints (82 bytes) and multisigs
/// (355 bytes).
pub fn parse_token_account(data: &[u8]) -> Option<TokenFields> {
    if data.len() != TOKEN_ACCOUNT_LEN || !(data[108] == 1 || data[108] == 2) {
        return None;
    }
    Some(TokenFields {
        mint: Pubkey::new_from_array(data[0..32].try_into().ok()?),
        owner: Pubkey::new_from_array(data[32..64].try_into().ok()?),
        amount: u64::from_le_bytes(data[64..72].try_into().ok()?),
        state: data[108],
    })
}

/// Defines `TokenAccount` in the calling program: the fields of
/// [`TokenFields`], deserialized by Anchor's `Account<'info, TokenAccount>`
/// (owner checked: the Token program), `$err` when the data is not an
/// initialized token account. Never written by a program (its owner is the
/// Token program, so `Account::exit` skips it); not described in the IDL
/// (as anchor-spl's).
#[macro_export]
macro_rules! token_account {
    ($err:expr) => {
        /// An SPL Token account's fields (`token_cpi::TokenFields`).
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub struct TokenAccount {
            pub mint: anchor_lang::prelude::Pubkey,
            pub owner: anchor_lang::prelude::Pubkey,
            pub amount: u64,
            /// 1 = initialized, 2 = frozen.
            pub state: u8,
        }

        impl TokenAccount {
            pub fn unpack(data: &[u8]) -> anchor_lang::Result<Self> {
                let f = $crate::parse_token_account(data).ok_or_else(|| anchor_lang::error!($err))?;
                Ok(Self { mint: f.mint, owner: f.owner, amount: f.amount, state: f.state })
            }
        }

        impl anchor_lang::AccountDeserialize for TokenAccount {
            fn try_deserialize_unchecked(buf: &mut &[u8]) -> anchor_lang::Result<Self> {
                Self::unpack(buf)
            }
        }

        impl anchor_lang::AccountSerialize for TokenAccount {}

        impl anchor_lang::Owner for TokenAccount {
            fn owner() -> anchor_lang::prelude::Pubkey {
                $crate::TOKEN_PROGRAM_ID
            }
        }

        #[cfg(feature = "idl-build")]
        impl anchor_lang::IdlBuild for TokenAccount {}
        #[cfg(feature = "idl-build")]
        impl anchor_lang::Discriminator for TokenAccount {
            const DISCRIMINATOR: &'static [u8] = &[];
        }
    };
}

/// Token `Transfer` of `amount` from `from` to `to`, signed by `authority`
/// (a wallet, or a PDA through `signer_seeds`).
pub fn transfer<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    invoke_signed(&transfer_ix(from.key, to.key, authority.key, amount),
                  &[from.clone(), to.clone(), authority.clone(), token_program.clone()], signer_seeds)
        .map_err(Into::into)
}

/// [`transfer`] through the C ABI ([`invoke_c`]): the same instruction and
/// accounts, signed by at most [`MAX_SIGNERS`] PDAs, without building an
/// `Instruction` or cloning an `AccountInfo`. The caller must not hold a
/// borrow of any of the accounts' data or lamports across the call.
#[inline(always)]
pub fn transfer_c(
    token_program: &AccountInfo,
    from: &AccountInfo,
    to: &AccountInfo,
    authority: &AccountInfo,
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    let data = transfer_data(amount);
    let metas = [CMeta::new(from, true, false), CMeta::new(to, true, false), CMeta::new(authority, false, true)];
    let infos = [CInfo::new(from), CInfo::new(to), CInfo::new(authority), CInfo::new(token_program)];
    invoke_c(&TOKEN_PROGRAM_ID, &metas, &infos, &data, signer_seeds)
}

/// [`transfer_c`] between accounts already seen as [`CInfo`]s (a fast
/// entry's): the same instruction; the Token program's own account is not
/// needed among the infos.
#[inline(always)]
pub fn transfer_view(from: &CInfo, to: &CInfo, authority: &CInfo, amount: u64, signer_seeds: &[&[&[u8]]])
    -> Result<()> {
    let data = transfer_data(amount);
    let metas = [CMeta::of(from, true, false), CMeta::of(to, true, false), CMeta::of(authority, false, true)];
    invoke_c(&TOKEN_PROGRAM_ID, &metas, &[*from, *to, *authority], &data, signer_seeds)
}

#[inline(always)]
fn transfer_data(amount: u64) -> [u8; 9] {
    let mut data = [0u8; 9];
    data[0] = IX_TRANSFER;
    data[1..].copy_from_slice(&amount.to_le_bytes());
    data
}

/// Many Token `Transfer`s out of one account (a job's vault), signed by one
/// PDA, prepared once: each [`VaultTransfers::pay`] only fills in the payee
/// and the amount (job_escrow's per-worker cost of a settle).
pub struct VaultTransfers {
    metas: [CMeta; 3],
    infos: [CInfo; 4],
    seeds: [CSeed; MAX_SEEDS],
    n_seeds: u64,
}

impl VaultTransfers {
    /// `seeds` (the PDA `authority`'s, bump included, at most [`MAX_SEEDS`])
    /// must outlive every [`VaultTransfers::pay`]: they are referred to, not
    /// copied.
    pub fn new(token_program: &AccountInfo, from: &AccountInfo, authority: &AccountInfo, seeds: &[&[u8]])
        -> Result<Self> {
        if seeds.len() > MAX_SEEDS {
            return Err(ProgramError::InvalidArgument.into());
        }
        let mut c_seeds = [CSeed { addr: core::ptr::null(), len: 0 }; MAX_SEEDS];
        for (c, s) in c_seeds.iter_mut().zip(seeds) {
            *c = CSeed { addr: s.as_ptr(), len: s.len() as u64 };
        }
        Ok(Self {
            // The payee (index 1) is filled in by each `pay`.
            metas: [CMeta::new(from, true, false), CMeta::new(from, true, false), CMeta::new(authority, false, true)],
            infos: [CInfo::new(from), CInfo::new(from), CInfo::new(authority), CInfo::new(token_program)],
            seeds: c_seeds,
            n_seeds: seeds.len() as u64,
        })
    }

    /// Transfers `amount` to `to`.
    pub fn pay(&mut self, to: &AccountInfo, amount: u64) -> Result<()> {
        let data = transfer_data(amount);
        self.metas[1] = CMeta::new(to, true, false);
        self.infos[1] = CInfo::new(to);
        let signers = [CSeeds { addr: self.seeds.as_ptr(), len: self.n_seeds }];
        invoke_c_raw(&TOKEN_PROGRAM_ID, &self.metas, &self.infos, &data, &signers)
    }
}

/// Token `CloseAccount`: the (empty) `account`'s lamports go to
/// `destination`, signed by `authority` (a wallet, or a PDA through
/// `signer_seeds`).
pub fn close_account<'info>(
    token_program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    destination: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    invoke_signed(&close_account_ix(account.key, destination.key, authority.key),
                  &[account.clone(), destination.clone(), authority.clone(), token_program.clone()], signer_seeds)
        .map_err(Into::into)
}

/// The `CloseAccount` instruction (pure).
pub fn close_account_ix(account: &Pubkey, destination: &Pubkey, authority: &Pubkey) -> Instruction {
    signed_by_authority(account, destination, authority, vec![IX_CLOSE_ACCOUNT])
}

/// A Token instruction on two writable accounts signed by the third
/// (`Transfer`, `CloseAccount`: the owner or a delegate authorizes).
fn signed_by_authority(a: &Pubkey, b: &Pubkey, authority: &Pubkey, data: Vec<u8>) -> Instruction {
    Instruction {
        program_id: TOKEN_PROGRAM_ID,
        accounts: vec![AccountMeta::new(*a, false), AccountMeta::new(*b, false), AccountMeta::new_readonly(*authority, true)],
        data,
    }
}

/// What `emit_cpi!` does, without its heap: invoke `program_id` (the
/// calling program) with `ix_data` (`EVENT_IX_TAG_LE`, the event's
/// discriminator, its Borsh body), signed by the program's event authority
/// PDA (`__event_authority`, `bump`). Anchor's event dispatch in the callee,
/// or a fast entry's answer to it, checks the signer and its address.
#[inline(always)]
pub fn emit_event_cpi(program_id: &Pubkey, event_authority: &CInfo, bump: u8, ix_data: &[u8]) -> Result<()> {
    let bump = [bump];
    invoke_c(program_id, &[CMeta::of(event_authority, false, true)], &[*event_authority], ix_data,
             &[&[b"__event_authority", &bump]])
}

/// The `Transfer` instruction (pure).
pub fn transfer_ix(from: &Pubkey, to: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    signed_by_authority(from, to, authority, transfer_data(amount).to_vec())
}

/// Token `InitializeAccount3` of `account` for `mint`, owned by `owner` (no
/// rent sysvar account needed).
pub fn initialize_account3<'info>(
    token_program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    owner: &Pubkey,
) -> Result<()> {
    invoke_signed(&initialize_account3_ix(account.key, mint.key, owner),
                  &[account.clone(), mint.clone(), token_program.clone()], &[])
        .map_err(Into::into)
}

/// The `InitializeAccount3` instruction (pure).
pub fn initialize_account3_ix(account: &Pubkey, mint: &Pubkey, owner: &Pubkey) -> Instruction {
    let mut data = Vec::with_capacity(33);
    data.push(IX_INITIALIZE_ACCOUNT3);
    data.extend_from_slice(owner.as_ref());
    Instruction {
        program_id: TOKEN_PROGRAM_ID,
        accounts: vec![AccountMeta::new(*account, false), AccountMeta::new_readonly(*mint, false)],
        data,
    }
}

/// `SolAccountMeta` of the runtime's C ABI.
#[repr(C)]
pub struct CMeta {
    pubkey: *const Pubkey,
    is_writable: bool,
    is_signer: bool,
}

impl CMeta {
    pub fn new(info: &AccountInfo, is_writable: bool, is_signer: bool) -> Self {
        Self { pubkey: info.key, is_writable, is_signer }
    }

    pub fn of(info: &CInfo, is_writable: bool, is_signer: bool) -> Self {
        Self { pubkey: info.key, is_writable, is_signer }
    }
}

/// `SolAccountInfo` of the runtime's C ABI, pointing at the same serialized
/// account (key, lamports, data, owner) as the Rust `AccountInfo`: the
/// runtime's pointer checks pass and what the callee changes is seen
/// through the `AccountInfo` afterwards.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CInfo {
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

impl CInfo {
    /// No account: null pointers (a placeholder for [`parse_input`]).
    pub const EMPTY: CInfo = CInfo {
        key: core::ptr::null(),
        lamports: core::ptr::null(),
        data_len: 0,
        data: core::ptr::null(),
        owner: core::ptr::null(),
        rent_epoch: u64::MAX,
        is_signer: false,
        is_writable: false,
        executable: false,
    };

    /// No `RefCell` borrow is taken: the caller must not hold a borrow of
    /// `info`'s lamports or data across the invocation.
    pub fn new(info: &AccountInfo) -> Self {
        // SAFETY: pointers only, read by the runtime during the call; they
        // point into the program input, valid for the whole instruction.
        let (lamports, data) = unsafe { (&**info.lamports.as_ptr() as *const u64, &**info.data.as_ptr()) };
        Self {
            key: info.key,
            lamports,
            data_len: data.len() as u64,
            data: data.as_ptr(),
            owner: info.owner,
            // Formerly the rent epoch; the runtime no longer reads it.
            rent_epoch: u64::MAX,
            is_signer: info.is_signer,
            is_writable: info.is_writable,
            executable: info.executable,
        }
    }

    pub fn key(&self) -> &Pubkey {
        // SAFETY: points into the program input (see `new`, `parse_input`).
        unsafe { &*self.key }
    }

    pub fn owner(&self) -> &Pubkey {
        // SAFETY: as `key`.
        unsafe { &*self.owner }
    }

    pub fn lamports(&self) -> u64 {
        // SAFETY: as `key`.
        unsafe { *self.lamports }
    }

    pub fn is_signer(&self) -> bool {
        self.is_signer
    }

    pub fn is_writable(&self) -> bool {
        self.is_writable
    }

    pub fn executable(&self) -> bool {
        self.executable
    }

    /// The account's data. The caller keeps no reference to it across a CPI
    /// or a `data_mut` of the same account.
    pub fn data(&self) -> &[u8] {
        // SAFETY: `data_len` bytes of the program input.
        unsafe { core::slice::from_raw_parts(self.data, self.data_len as usize) }
    }

    /// As `data`, writable; only for accounts the instruction may write (the
    /// runtime refuses the instruction if it changed any other).
    #[allow(clippy::mut_from_ref)]
    pub fn data_mut(&self) -> &mut [u8] {
        // SAFETY: as `data`.
        unsafe { core::slice::from_raw_parts_mut(self.data as *mut u8, self.data_len as usize) }
    }
}

/// The instruction data and the program id in the program input (same
/// layout as [`parse_input`]), found by walking over the accounts without
/// reading them: what an entrypoint looks at first to pick its path.
///
/// # Safety
/// As [`parse_input`].
#[inline(always)]
pub unsafe fn input_instruction<'a>(input: *const u8) -> (usize, &'a [u8], &'a Pubkey) {
    let mut p = input;
    let num_accounts = *(p as *const u64) as usize;
    p = p.add(8);
    for _ in 0..num_accounts {
        if *p != NON_DUP_MARKER {
            p = p.add(8);
            continue;
        }
        let data_len = *(p.add(80) as *const u64) as usize;
        let end = p.add(88 + data_len + MAX_PERMITTED_DATA_INCREASE + 8);
        p = end.add(end.align_offset(8));
    }
    let ix_len = *(p as *const u64) as usize;
    p = p.add(8);
    (num_accounts, core::slice::from_raw_parts(p, ix_len), &*(p.add(ix_len) as *const Pubkey))
}

/// Bytes the runtime leaves after each account's data for reallocs.
const MAX_PERMITTED_DATA_INCREASE: usize = 10 * 1024;
const NON_DUP_MARKER: u8 = u8::MAX;

/// The program input as the runtime serializes it for the BPF loaders
/// (`solana_program_entrypoint::deserialize`'s layout), read in place: the
/// first `N` accounts into `acc` as [`CInfo`]s pointing into the input (a
/// duplicate entry is a copy of the account it repeats; the ones past the
/// number of accounts are left as they were, [`CInfo::EMPTY`] for a caller
/// that starts there: null pointers, never to be read). Returns the number of
/// accounts, whether any of the first `N` repeats an earlier one, the
/// instruction data and the program id. Writes each account's original data
/// length into its padding, as the standard entrypoint does.
///
/// # Safety
/// `input` is the runtime's serialized program input (the entrypoint's).
#[inline(always)]
pub unsafe fn parse_input<'a, const N: usize>(input: *mut u8, acc: &mut [CInfo; N]) -> (usize, bool, &'a [u8], &'a Pubkey) {
    let mut repeats = false;
    let mut p = input;
    let num_accounts = *(p as *const u64) as usize;
    p = p.add(8);
    for i in 0..num_accounts {
        let dup = *p;
        if dup != NON_DUP_MARKER {
            // A duplicate of an earlier account: 8 bytes.
            if i < N {
                acc[i] = acc[dup as usize];
                repeats = true;
            }
            p = p.add(8);
            continue;
        }
        let data_len = *(p.add(80) as *const u64) as usize;
        *(p.add(4) as *mut u32) = data_len as u32;
        if i < N {
            acc[i] = CInfo {
                key: p.add(8) as *const Pubkey,
                lamports: p.add(72) as *const u64,
                data_len: data_len as u64,
                data: p.add(88),
                owner: p.add(40) as *const Pubkey,
                rent_epoch: u64::MAX,
                is_signer: *p.add(1) != 0,
                is_writable: *p.add(2) != 0,
                executable: *p.add(3) != 0,
            };
        }
        // Header (88), data, realloc room, rent epoch (8), padded to 8.
        let end = p.add(88 + data_len + MAX_PERMITTED_DATA_INCREASE + 8);
        p = end.add(end.align_offset(8));
    }
    let ix_len = *(p as *const u64) as usize;
    p = p.add(8);
    let ix = core::slice::from_raw_parts(p as *const u8, ix_len);
    let program_id = &*(p.add(ix_len) as *const Pubkey);
    (num_accounts, repeats, ix, program_id)
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CSeed {
    addr: *const u8,
    len: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CSeeds {
    addr: *const CSeed,
    len: u64,
}

#[repr(C)]
struct CInstruction {
    program_id: *const Pubkey,
    accounts: *const CMeta,
    accounts_len: u64,
    data: *const u8,
    data_len: u64,
}

/// Most PDA signers of one [`invoke_c`], and most seeds (bump included) of
/// each (a job_escrow job has 5).
pub const MAX_SIGNERS: usize = 2;
pub const MAX_SEEDS: usize = 5;

/// A cross-program invocation of `program_id` through `sol_invoke_signed_c`:
/// `metas` are the callee's accounts in its order, `infos` every account
/// they name (and the callee program), `signers` the seeds (bump included)
/// of at most [`MAX_SIGNERS`] PDAs of the calling program. The runtime makes
/// the same checks as for `invoke_signed` (signer seeds, privileges, account
/// pointers); no `Instruction` is built on the heap and no `AccountInfo` is
/// cloned. Off-chain (unit tests) it does nothing.
#[inline(always)]
pub fn invoke_c(program_id: &Pubkey, metas: &[CMeta], infos: &[CInfo], data: &[u8], signers: &[&[&[u8]]])
    -> Result<()> {
    // One signer or none in every hot path: only those seeds are laid out.
    match signers {
        [] => invoke_c_raw(program_id, metas, infos, data, &[]),
        [one] => {
            let s = c_seeds(one)?;
            invoke_c_raw(program_id, metas, infos, data, &[CSeeds { addr: s.as_ptr(), len: one.len() as u64 }])
        }
        [one, two] => {
            let (s1, s2) = (c_seeds(one)?, c_seeds(two)?);
            invoke_c_raw(program_id, metas, infos, data, &[CSeeds { addr: s1.as_ptr(), len: one.len() as u64 },
                                                            CSeeds { addr: s2.as_ptr(), len: two.len() as u64 }])
        }
        _ => Err(ProgramError::InvalidArgument.into()),
    }
}

/// One signer's seeds in the C layout (at most [`MAX_SEEDS`]).
#[inline(always)]
fn c_seeds(seeds: &[&[u8]]) -> Result<[CSeed; MAX_SEEDS]> {
    if seeds.len() > MAX_SEEDS {
        return Err(ProgramError::InvalidArgument.into());
    }
    let mut c = [CSeed { addr: core::ptr::null(), len: 0 }; MAX_SEEDS];
    for (cs, seed) in c.iter_mut().zip(seeds) {
        *cs = CSeed { addr: seed.as_ptr(), len: seed.len() as u64 };
    }
    Ok(c)
}

/// [`invoke_c`] with the signers already in the C layout.
#[inline(always)]
fn invoke_c_raw(program_id: &Pubkey, metas: &[CMeta], infos: &[CInfo], data: &[u8], signers: &[CSeeds]) -> Result<()> {
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
            return Err(ProgramError::from(rc).into());
        }
    }
    #[cfg(not(target_os = "solana"))]
    let _ = (ix, infos, signers);
    Ok(())
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
    fn parses_the_token_account_layout() {
        let a = parse_token_account(&account_bytes(1)).unwrap();
        assert_eq!((a.mint, a.owner, a.amount, a.state), (Pubkey::new_from_array([1; 32]),
                                                          Pubkey::new_from_array([2; 32]), 42, 1));
        assert_eq!(parse_token_account(&account_bytes(2)).unwrap().state, 2); // frozen: still a token account
    }

    #[test]
    fn rejects_uninitialized_mints_and_wrong_lengths() {
        assert!(parse_token_account(&account_bytes(0)).is_none());
        assert!(parse_token_account(&account_bytes(3)).is_none());
        assert!(parse_token_account(&account_bytes(1)[..MINT_LEN]).is_none());
        let mut long = account_bytes(1);
        long.push(0);
        assert!(parse_token_account(&long).is_none());
    }

    #[test]
    fn instruction_encodings_are_spl_tokens() {
        let (a, b, c) = (Pubkey::new_from_array([1; 32]), Pubkey::new_from_array([2; 32]),
                         Pubkey::new_from_array([3; 32]));
        let t = transfer_ix(&a, &b, &c, 0x0102_0304_0506_0708);
        assert_eq!(t.data, [3, 8, 7, 6, 5, 4, 3, 2, 1]);
        assert_eq!(t.accounts, vec![AccountMeta::new(a, false), AccountMeta::new(b, false),
                                    AccountMeta::new_readonly(c, true)]);
        let x = close_account_ix(&a, &b, &c);
        assert_eq!(x.data, [9]);
        assert_eq!(x.accounts, vec![AccountMeta::new(a, false), AccountMeta::new(b, false),
                                    AccountMeta::new_readonly(c, true)]);
        assert_eq!(transfer_data(0x0102_0304_0506_0708), t.data[..]);
        let i = initialize_account3_ix(&a, &b, &c);
        assert_eq!(i.data[0], 18);
        assert_eq!(&i.data[1..], c.as_ref());
        assert_eq!(i.accounts, vec![AccountMeta::new(a, false), AccountMeta::new_readonly(b, false)]);
    }
}
