use anchor_lang::prelude::*;

/// One code per rejection reason so clients can react precisely.
/// Append new variants at the end: codes are part of the public interface.
#[error_code]
pub enum RewardsError {
    #[msg("Admin must not be the default public key")]
    InvalidAdmin,
    #[msg("A distributor needs at least one leaf")]
    ZeroLeaves,
    #[msg("A distributor's total must be greater than zero")]
    ZeroTotal,
    #[msg("Claim deadline must be in the future")]
    DeadlineInPast,
    #[msg("Account is not an SPL Token mint")]
    InvalidMint,
    #[msg("Token account or mint does not match the distributor's mint")]
    WrongMint,
    #[msg("Token account is not owned by the expected wallet")]
    WrongOwner,
    #[msg("Treasury does not match the distributor's treasury")]
    WrongTreasury,
    #[msg("Claim bitmap account must be owned by the rewards program")]
    ClaimBitmapOwner,
    #[msg("Claim bitmap account has the wrong size for the number of leaves")]
    ClaimBitmapSize,
    #[msg("Claim bitmap account is already in use")]
    ClaimBitmapInUse,
    #[msg("Claim bitmap does not belong to this distributor")]
    WrongClaimBitmap,
    #[msg("Vault does not belong to this distributor")]
    WrongVault,
    #[msg("This index has already been claimed")]
    AlreadyClaimed,
    #[msg("Merkle proof does not match the distributor's root")]
    InvalidProof,
    #[msg("Leaf index is out of range")]
    IndexOutOfRange,
    #[msg("Proof must have exactly one sibling per tree level")]
    WrongProofLength,
    #[msg("The claim deadline has passed")]
    ClaimDeadlinePassed,
    #[msg("Claims would exceed the distributor's total")]
    ExceedsTotal,
    #[msg("Clawback is only possible after the claim deadline")]
    ClawbackTooEarly,
    #[msg("The unclaimed remainder has already been clawed back")]
    AlreadyClawedBack,
    #[msg("Signer is not the distributor's admin")]
    Unauthorized,
    #[msg("Signer is not the pending admin")]
    NotPendingAdmin,
    #[msg("New deadline must be later than the current one")]
    DeadlineNotLater,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Account is not an initialized SPL Token account")]
    InvalidTokenAccount,
}
