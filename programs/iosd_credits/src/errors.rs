use anchor_lang::prelude::*;

/// One code per rejection reason. Append new variants at the end: codes are
/// part of the public interface.
#[error_code]
pub enum CreditsError {
    #[msg("Credits are paused: buying and spending are blocked (refunds and redemption still work)")]
    Paused,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Buying would raise outstanding credits above the reserve's cap")]
    CapExceeded,
    #[msg("Not enough credits in the balance")]
    InsufficientCredits,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Signer is not allowed to perform this action")]
    Unauthorized,
    #[msg("Signer is not the pending authority")]
    NotPendingAuthority,
    #[msg("New authority must not be the default public key")]
    InvalidAuthority,
    #[msg("The reserve mint must be a classic SPL Token mint with 6 decimals")]
    InvalidMint,
    #[msg("Mint does not match the reserve's stablecoin")]
    WrongMint,
    #[msg("Reserve vault does not match the config")]
    WrongReserveVault,
    #[msg("Token account is not owned by the user")]
    WrongTokenOwner,
    #[msg("Credit account does not belong to this config")]
    WrongConfig,
    #[msg("Credit account does not belong to the signer")]
    WrongUser,
    #[msg("Refund account is not this user's refund account")]
    WrongRefundAccount,
    #[msg("Customer is not this user's customer PDA")]
    WrongCustomer,
    #[msg("A delegate signed without its delegation account")]
    DelegationRequired,
    #[msg("Delegation does not belong to this credit account and signer")]
    WrongDelegation,
    #[msg("Spending would exceed the delegate's allowance for this period")]
    AllowanceExceeded,
    #[msg("Delegate period must be between 60 seconds and 366 days")]
    InvalidPeriod,
    #[msg("A user cannot be its own delegate")]
    InvalidDelegate,
    #[msg("Market does not trade the reserve's stablecoin")]
    WrongMarket,
    #[msg("Job was not opened with this user's credits")]
    WrongJob,
    #[msg("Only token-priced jobs can be paid with credits (the stablecoin is the USD)")]
    UsdJobNotSupported,
    #[msg("job_escrow took a different amount than the booking cost")]
    DepositMismatch,
    #[msg("Nothing to reclaim")]
    NothingToReclaim,
    // The next four belonged to the inference allowance that the channel
    // instructions replaced; no instruction returns them any more. They stay
    // so that the codes after them keep their numbers.
    #[msg("Retired (inference allowance): provider token account must be of the reserve mint")]
    InvalidProvider,
    #[msg("Retired (inference allowance): payment to a token account other than the provider's")]
    WrongProvider,
    #[msg("Retired (inference allowance): not enough left in the allowance")]
    AllowanceInsufficient,
    #[msg("Retired (inference allowance): allowance of another credit account")]
    WrongAllowance,
    #[msg("Only the user can do this, never a delegate")]
    DelegateNotAllowed,
    #[msg("Account is not an initialized SPL Token account")]
    InvalidTokenAccount,
    #[msg("Market is not a job_escrow market")]
    InvalidMarket,
    #[msg("Channel is not an inference_pay channel opened with this user's credits")]
    WrongChannel,
    #[msg("inference_pay took a different amount than the channel deposit")]
    ChannelDepositMismatch,
}
