use anchor_lang::prelude::*;

pub const POOL_SEED: &[u8] = b"pool";
pub const POOL_VAULT_SEED: &[u8] = b"pool_vault";
pub const CHANNEL_SEED: &[u8] = b"channel";
pub const LISTING_SEED: &[u8] = b"listing";

/// Dispute window bounds (seconds) for a payer's unilateral close.
pub const MIN_DISPUTE_WINDOW: u32 = 60;
pub const MAX_DISPUTE_WINDOW: u32 = 30 * 86_400;
/// A channel lives at most this long (seconds from open or top-up).
pub const MAX_CHANNEL_LIFE: i64 = 366 * 86_400;

/// One pool per mint: a single vault holding every channel's unsettled
/// deposit plus the protocol fees accrued and not yet swept. Pooling makes a
/// batch settlement one token transfer to the provider whatever the number
/// of channels, and keeps fees out of the settle path (swept to the
/// treasury permissionlessly by `sweep_fees`).
///
/// Conservation: `vault.amount == sum(channel.deposit - channel.settled) +
/// fees_accrued` (plus tokens sent to the vault by mistake).
#[account]
#[derive(InitSpace)]
pub struct Pool {
    pub mint: Pubkey,
    pub vault: Pubkey,
    /// Fees settled and not yet swept.
    pub fees_accrued: u64,
    /// Statistics: fees ever swept, channels ever opened.
    pub fees_swept: u64,
    pub channels_opened: u64,
    pub bump: u8,
    pub vault_bump: u8,
    pub reserved: [u8; 32],
}

impl Pool {
    pub fn signer_seeds<'a>(&'a self, bump: &'a [u8; 1]) -> [&'a [u8]; 3] {
        [POOL_SEED, self.mint.as_ref(), bump]
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum PriceUnit {
    /// `price` base units per inference (request).
    PerInference,
    /// `price` base units per 1,000 tokens (rounded up per request).
    PerThousandTokens,
}

/// A model offered by a provider, priced in the base units of one mint.
#[account]
#[derive(InitSpace)]
pub struct Listing {
    pub provider: Pubkey,
    pub mint: Pubkey,
    pub model_id: u64,
    pub price: u64,
    pub unit: PriceUnit,
    pub active: bool,
    pub bump: u8,
    pub reserved: [u8; 16],
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum ChannelState {
    /// Vouchers are settled; the payer can top up.
    Open,
    /// The payer closed unilaterally after expiry: the provider can settle
    /// until `close_at`, then anyone can finish the close.
    Closing,
}

/// Byte offset of `Channel::provider` (after the discriminator and payer):
/// settlers find their channels with a memcmp on it.
pub const CHANNEL_PROVIDER_OFFSET: usize = 8 + 32;

/// A payment channel from `payer` to `provider` in one mint. Vouchers signed
/// by `voucher_signer` over `(channel, open_slot, cumulative, nonce)` move
/// `settled` forward; the rest of `deposit` goes back to `refund_to`.
#[account]
#[derive(InitSpace)]
pub struct Channel {
    /// Owner: signs top-ups and closes (a wallet, or a PDA of a program
    /// calling by CPI, e.g. IOSD credits).
    pub payer: Pubkey,
    /// Keep at `CHANNEL_PROVIDER_OFFSET`.
    pub provider: Pubkey,
    pub mint: Pubkey,
    /// The ed25519 key whose vouchers count (the payer's wallet, or a
    /// backend key when the payer is a PDA).
    pub voucher_signer: Pubkey,
    /// Token account of `mint` receiving refunds; fixed at open.
    pub refund_to: Pubkey,
    /// Paid the channel's rent; gets it back at close.
    pub rent_payer: Pubkey,
    pub id: u64,
    /// Slot of open: part of every voucher, so vouchers of a closed channel
    /// never count for a later channel at the same address.
    pub open_slot: u64,
    /// Total deposited (open + top-ups).
    pub deposit: u64,
    /// Cumulative amount settled (gross, fee included). Only increases.
    pub settled: u64,
    /// Highest voucher nonce settled. Only increases.
    pub nonce: u64,
    /// Protocol fee snapshot at open, charged on settled amounts.
    pub fee_bps: u16,
    pub expires_at: i64,
    pub dispute_window: u32,
    /// Closing: vouchers accepted before this time, close finished after.
    pub close_at: i64,
    pub state: ChannelState,
    pub bump: u8,
    pub reserved: [u8; 16],
}

impl Channel {
    pub fn remaining(&self) -> u64 {
        self.deposit.saturating_sub(self.settled)
    }
}
