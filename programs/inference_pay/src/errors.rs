use anchor_lang::prelude::*;

/// One code per rejection reason. Codes start at 6100 so they never collide
/// with job_escrow's (6000..), whose Market this program reads. Append new
/// variants at the end: codes are part of the public interface.
#[error_code(offset = 6100)]
pub enum PayError {
    #[msg("Arithmetic overflow")]
    MathOverflow,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Price must be greater than zero")]
    ZeroPrice,
    #[msg("Token account or mint does not match the channel's mint")]
    WrongMint,
    #[msg("Token account is not owned by the expected wallet")]
    WrongOwner,
    #[msg("Vault is not the pool's vault")]
    WrongVault,
    #[msg("Treasury does not match the market treasury")]
    WrongTreasury,
    #[msg("Signer is not allowed to perform this action")]
    Unauthorized,
    #[msg("The market of this mint is paused: no new channel money")]
    MarketPaused,
    #[msg("Expiry must be in the future and at most the maximum channel life away")]
    InvalidExpiry,
    #[msg("Dispute window out of bounds")]
    InvalidDisputeWindow,
    #[msg("Voucher signer and provider must not be the default key; provider must differ from payer")]
    InvalidParty,
    #[msg("Rent payer does not match the one recorded at open")]
    WrongRentPayer,
    #[msg("Refund account does not match the one recorded at open")]
    WrongRefundAccount,
    #[msg("A new expiry must not be earlier than the current one")]
    ExpiryMovedBack,
    #[msg("Channel is closing: no top-up")]
    ChannelClosing,
    #[msg("Channel has not expired yet")]
    NotExpired,
    #[msg("Channel is not closing")]
    NotClosing,
    #[msg("The dispute window is still open")]
    DisputeWindowOpen,
    #[msg("Instructions sysvar account expected")]
    InvalidInstructionsSysvar,
    #[msg("The referenced instruction is not an Ed25519 precompile instruction")]
    NotEd25519Instruction,
    #[msg("Malformed Ed25519 instruction data or offsets out of range")]
    MalformedEd25519Instruction,
    #[msg("An Ed25519 offset points at another instruction's data")]
    ForeignSignatureData,
    #[msg("Signature count differs from the number of channels settled")]
    SignatureCountMismatch,
    #[msg("Voucher is not signed by the channel's voucher signer")]
    WrongVoucherSigner,
    #[msg("Voucher message has the wrong length")]
    WrongMessageLength,
    #[msg("Voucher message lacks the inference_pay voucher domain prefix")]
    WrongDomain,
    #[msg("Voucher was made for another program")]
    WrongProgram,
    #[msg("Voucher was made for another channel")]
    WrongChannel,
    #[msg("Voucher nonce was already settled (replay)")]
    VoucherReplayed,
    #[msg("Voucher nonce is older than the highest settled one")]
    VoucherOutdated,
    #[msg("Voucher cumulative amount is below what was already settled")]
    AmountDecreased,
    #[msg("Voucher cumulative amount exceeds the channel deposit")]
    ExceedsDeposit,
    #[msg("Dispute window is over: the channel no longer accepts vouchers")]
    ChannelExpired,
    #[msg("Channel does not belong to this provider")]
    WrongProvider,
    #[msg("Expected at least one channel account, each writable")]
    NoChannels,
    #[msg("Nothing to sweep")]
    NothingToSweep,
    #[msg("Listing does not belong to this provider")]
    WrongListing,
    #[msg("Account is not an initialized SPL Token account")]
    InvalidTokenAccount,
    #[msg("Not job_escrow's market of this mint")]
    WrongMarket,
}
