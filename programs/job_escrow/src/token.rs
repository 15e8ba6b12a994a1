//! Classic SPL Token, hand-written (no anchor-spl, which drags in
//! spl-token-2022 and the zk SDK): the shared helpers of `programs/token_cpi`
//! (program id, `Program<'info, Token>`, the CPIs), and `TokenAccount`
//! generated here so that an account that is not an SPL token account fails
//! with this program's own `InvalidTokenAccount` code.
//!
//! `transfer` is the C-ABI transfer (`token_cpi::transfer_c`): instruction,
//! metas and account infos on the stack, no `AccountInfo` clones, the
//! cheapest way to move tokens out of a job's vault one payee at a time
//! (`VaultTransfers` for a settle's many payees).
pub use token_cpi::{
    close_account, initialize_account3, transfer_c as transfer, Token, VaultTransfers, MINT_LEN,
    TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID,
};

token_cpi::token_account!(crate::errors::EscrowError::InvalidTokenAccount);

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::prelude::Pubkey;

    fn account_bytes(state: u8) -> Vec<u8> {
        let mut d = vec![0u8; TOKEN_ACCOUNT_LEN];
        d[0..32].copy_from_slice(&[1u8; 32]);
        d[32..64].copy_from_slice(&[2u8; 32]);
        d[64..72].copy_from_slice(&42u64.to_le_bytes());
        d[108] = state;
        d
    }

    #[test]
    fn unpacks_with_this_programs_error() {
        let a = TokenAccount::unpack(&account_bytes(1)).unwrap();
        assert_eq!((a.mint, a.owner, a.amount), (Pubkey::new_from_array([1u8; 32]),
                                                 Pubkey::new_from_array([2u8; 32]), 42));
        let expected: anchor_lang::error::Error = crate::errors::EscrowError::InvalidTokenAccount.into();
        assert_eq!(TokenAccount::unpack(&account_bytes(0)).unwrap_err(), expected);
        assert_eq!(TokenAccount::unpack(&account_bytes(1)[..MINT_LEN]).unwrap_err(), expected);
        let mut long = account_bytes(1);
        long.push(0);
        assert_eq!(TokenAccount::unpack(&long).unwrap_err(), expected);
    }
}
