use anchor_lang::prelude::*;

/// One code per rejection reason so clients can react precisely.
/// Append new variants at the end: codes are part of the public interface.
#[error_code]
pub enum EscrowError {
    #[msg("Market is paused: no new jobs can be opened")]
    Paused,
    #[msg("Fee must be at most 10000 basis points")]
    InvalidFee,
    #[msg("Rate per hour must be greater than zero")]
    ZeroRate,
    #[msg("Job must book at least one hour")]
    ZeroHours,
    #[msg("Job books more hours than the market allows")]
    TooManyHours,
    #[msg("Too many workers for this market")]
    TooManyWorkers,
    #[msg("Market limits must be greater than zero and within the hard caps")]
    InvalidMarketLimits,
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("No completed hour is due for settlement")]
    NothingToSettle,
    #[msg("Token account or mint does not match the market mint")]
    WrongMint,
    #[msg("Treasury does not match the market treasury")]
    WrongTreasury,
    #[msg("Vault does not belong to this job")]
    WrongVault,
    #[msg("Token account is not owned by the expected wallet")]
    WrongOwner,
    #[msg("Signer is not allowed to perform this action")]
    Unauthorized,
    #[msg("New authority must not be the default public key")]
    InvalidAuthority,
    #[msg("Worker must not be the default key or the job itself")]
    InvalidWorker,
    #[msg("Account is not an initialized SPL Token account")]
    InvalidTokenAccount,
    #[msg("Account is not an SPL Token mint")]
    InvalidMint,
    #[msg("Job does not belong to this market")]
    WrongMarket,
    #[msg("Job must book at least one worker")]
    NoWorkers,
    #[msg("A worker appears twice in the same job")]
    DuplicateWorker,
    #[msg("Signer is not a worker of this job")]
    NotAWorker,
    #[msg("Worker has already accepted this job")]
    AlreadyAccepted,
    #[msg("Worker is not pending or active on this job")]
    WorkerNotActive,
    #[msg("A worker has accepted: cancel is no longer possible, end the job instead")]
    JobStarted,
    #[msg("Job has been ended")]
    JobNotOpen,
    #[msg("Earned hours are still unpaid or a worker can still earn: settle or end the job first")]
    OutstandingPayments,
    #[msg("A worker's booking has already run out: open a new job instead of extending")]
    BookingExpired,
    #[msg("Worker slot index out of range")]
    InvalidSlot,
    #[msg("Expected one worker token account per slot index, in order")]
    WorkerAccountsMismatch,
    #[msg("USD pricing needs the market's price feed account")]
    OracleRequired,
    #[msg("Price feed is not the market's oracle")]
    WrongOracle,
    #[msg("Oracle price is older than the market allows")]
    StalePrice,
    #[msg("Oracle confidence interval is wider than the market allows")]
    PriceTooUncertain,
    #[msg("Price must be positive with an exponent within +-18")]
    InvalidPrice,
    #[msg("Publish time must not be in the future nor older than the current price")]
    InvalidPublishTime,
    #[msg("Oracle limits must be greater than zero (confidence at most 10000 bps)")]
    InvalidOracleLimits,
    #[msg("A slot's paid hours would exceed its booking (invariant)")]
    PaidBeyondBooking,
    #[msg("The accept deadline of this job has passed")]
    AcceptDeadlinePassed,
    #[msg("The worker can still accept: a pending slot can be released after the accept deadline")]
    AcceptWindowOpen,
    #[msg("Accept window must be between 1 second and 30 days")]
    InvalidAcceptWindow,
    #[msg("The job costs more than the customer's maximum total")]
    MaxTotalExceeded,
    #[msg("No listed slot can be extended (booking run out, finished or past the accept deadline)")]
    NothingToExtend,
    #[msg("Signer is not the proposed market authority")]
    NotPendingAuthority,
    #[msg("No fees to sweep")]
    NothingToSweep,
}
