//! Classic SPL Token, written by hand as in job_escrow (no anchor-spl, which
//! drags in spl-token-2022 and the zk SDK): `Transfer` and
//! `InitializeAccount3`, and the fields of a token account this program reads.
use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};

use crate::errors::CreditsError;

pub const TOKEN_PROGRAM_ID: Pubkey = pubkey!("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA");
pub const TOKEN_ACCOUNT_LEN: usize = 165;
pub const MINT_LEN: usize = 82;

/// `Program<'info, Token>`: the classic Token program only.
#[derive(Clone)]
pub struct Token;

impl anchor_lang::Id for Token {
    fn id() -> Pubkey {
        TOKEN_PROGRAM_ID
    }
}

/// mint 0..32, owner 32..64, amount 64..72, state at 108 (1 initialized, 2 frozen).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenAccount {
    pub mint: Pubkey,
    pub owner: Pubkey,
    pub amount: u64,
}

impl anchor_lang::AccountDeserialize for TokenAccount {
    fn try_deserialize_unchecked(buf: &mut &[u8]) -> Result<Self> {
        let data: &[u8] = buf;
        require!(
            data.len() == TOKEN_ACCOUNT_LEN && (data[108] == 1 || data[108] == 2),
            CreditsError::InvalidTokenAccount
        );
        Ok(Self {
            mint: Pubkey::new_from_array(data[0..32].try_into().unwrap()),
            owner: Pubkey::new_from_array(data[32..64].try_into().unwrap()),
            amount: u64::from_le_bytes(data[64..72].try_into().unwrap()),
        })
    }
}

/// Never written by this program (owned by the Token program, so exit skips it).
impl anchor_lang::AccountSerialize for TokenAccount {}

impl anchor_lang::Owner for TokenAccount {
    fn owner() -> Pubkey {
        TOKEN_PROGRAM_ID
    }
}

#[cfg(feature = "idl-build")]
impl anchor_lang::IdlBuild for TokenAccount {}
#[cfg(feature = "idl-build")]
impl anchor_lang::Discriminator for TokenAccount {
    const DISCRIMINATOR: &'static [u8] = &[];
}

pub fn transfer<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    signer_seeds: &[&[&[u8]]],
) -> Result<()> {
    let mut data = Vec::with_capacity(9);
    data.push(3u8); // Transfer
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
    invoke_signed(&ix, &[from.clone(), to.clone(), authority.clone(), token_program.clone()], signer_seeds)
        .map_err(Into::into)
}

pub fn initialize_account3<'info>(
    token_program: &AccountInfo<'info>,
    account: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    owner: &Pubkey,
) -> Result<()> {
    let mut data = Vec::with_capacity(33);
    data.push(18u8); // InitializeAccount3
    data.extend_from_slice(owner.as_ref());
    let ix = Instruction {
        program_id: TOKEN_PROGRAM_ID,
        accounts: vec![AccountMeta::new(account.key(), false), AccountMeta::new_readonly(mint.key(), false)],
        data,
    };
    invoke_signed(&ix, &[account.clone(), mint.clone(), token_program.clone()], &[]).map_err(Into::into)
}
