//! Minimal classic SPL Token support, written by hand so the program does not
//! pull anchor-spl (which drags in spl-token-2022 and the zk SDK). The same
//! code as job_escrow's token.rs with this program's errors: a program cannot
//! depend on job_escrow's crate (see Cargo.toml); a shared library crate is
//! the follow-up.
//!
//! Only the classic Token program is supported. Layouts and instruction tags
//! are the stable ones of `spl-token` (account = 165 bytes: mint 0..32,
//! owner 32..64, amount 64..72, ..., state at 108).
use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};

use crate::errors::PayError;

pub const TOKEN_PROGRAM_ID: Pubkey = pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_ACCOUNT_LEN: usize = 165;
pub const MINT_LEN: usize = 82;

const IX_TRANSFER: u8 = 3;
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
        require!(data.len() == TOKEN_ACCOUNT_LEN, PayError::InvalidTokenAccount);
        let state = data[108];
        require!(state == 1 || state == 2, PayError::InvalidTokenAccount);
        let mut amount = [0u8; 8];
        amount.copy_from_slice(&data[64..72]);
        Ok(Self {
            mint: Pubkey::try_from(&data[0..32]).map_err(|_| PayError::InvalidTokenAccount)?,
            owner: Pubkey::try_from(&data[32..64]).map_err(|_| PayError::InvalidTokenAccount)?,
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

/// Token `Transfer`, signed by `authority` (a wallet, or a PDA via seeds).
pub fn transfer<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    let mut data = Vec::with_capacity(9);
    data.push(IX_TRANSFER);
    data.extend_from_slice(&amount.to_le_bytes());
    let ix = Instruction {
        program_id: TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(from.key(), false),
            AccountMeta::new(to.key(), false),
            AccountMeta::new_readonly(authority.key(), true),
        ],
        data,
    };
    invoke_signed(
        &ix,
        &[from.clone(), to.clone(), authority.clone(), token_program.clone()],
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
