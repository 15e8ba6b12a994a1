//! Classic SPL Token, hand-written (no anchor-spl): the shared helpers of
//! `programs/token_cpi` (program id, `Program<'info, Token>`, `Transfer`,
//! `InitializeAccount3`), and `TokenAccount` generated here so that an
//! account that is not an SPL token account fails with this program's own
//! `InvalidTokenAccount` code.
pub use token_cpi::{initialize_account3, transfer, transfer_c, Token, MINT_LEN, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};

token_cpi::token_account!(crate::errors::CreditsError::InvalidTokenAccount);

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;

    #[test]
    fn unpacks_with_this_programs_error() {
        let mut d = vec![0u8; TOKEN_ACCOUNT_LEN];
        d[0..32].copy_from_slice(&[1u8; 32]);
        d[64..72].copy_from_slice(&42u64.to_le_bytes());
        d[108] = 1;
        let a = TokenAccount::unpack(&d).unwrap();
        assert_eq!((a.mint, a.amount), (Pubkey::new_from_array([1u8; 32]), 42));
        d[108] = 0;
        let expected: anchor_lang::error::Error = crate::errors::CreditsError::InvalidTokenAccount.into();
        assert_eq!(TokenAccount::unpack(&d).unwrap_err(), expected);
        assert_eq!(TokenAccount::unpack(&d[..MINT_LEN]).unwrap_err(), expected);
    }
}
