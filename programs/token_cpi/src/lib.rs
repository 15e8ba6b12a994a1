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
//! lives here once. (job_escrow keeps its own copy for now.)
use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};

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

/// The `Transfer` instruction (pure).
pub fn transfer_ix(from: &Pubkey, to: &Pubkey, authority: &Pubkey, amount: u64) -> Instruction {
    let mut data = Vec::with_capacity(9);
    data.push(IX_TRANSFER);
    data.extend_from_slice(&amount.to_le_bytes());
    Instruction {
        program_id: TOKEN_PROGRAM_ID,
        accounts: vec![
            AccountMeta::new(*from, false),
            AccountMeta::new(*to, false),
            AccountMeta::new_readonly(*authority, true),
        ],
        data,
    }
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
        let i = initialize_account3_ix(&a, &b, &c);
        assert_eq!(i.data[0], 18);
        assert_eq!(&i.data[1..], c.as_ref());
        assert_eq!(i.accounts, vec![AccountMeta::new(a, false), AccountMeta::new_readonly(b, false)]);
    }
}
