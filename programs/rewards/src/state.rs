use anchor_lang::prelude::*;

pub const DISTRIBUTOR_SEED: &[u8] = b"distributor";
pub const VAULT_SEED: &[u8] = b"vault";
/// Claim bitmap account: the distributor's key, then one bit per leaf.
pub const CLAIMS_HEADER: usize = 32;

/// One epoch's reward pool. Address: `["distributor", creator, mint, epoch LE]`,
/// so nobody can squat another creator's epoch. Fully funded at creation:
/// the vault always holds `total - claimed` (plus anything sent to it by
/// mistake, which the clawback sweeps to the treasury).
#[account]
#[derive(InitSpace)]
pub struct Distributor {
    /// Signer of `new_distributor` (a seed; never changes).
    pub creator: Pubkey,
    pub mint: Pubkey,
    pub epoch: u64,
    /// Can extend the deadline and hand itself over (two steps; any key,
    /// e.g. a governance PDA that signs `accept_admin` in a proposal).
    pub admin: Pubkey,
    /// Proposed admin; the default key when none.
    pub pending_admin: Pubkey,
    pub root: [u8; 32],
    pub num_leaves: u32,
    /// Siblings in every proof: ceil(log2(num_leaves)).
    pub depth: u8,
    /// SPL token account `["vault", distributor]`, authority = the distributor PDA.
    pub vault: Pubkey,
    /// Claim bitmap account (one bit per leaf index).
    pub claims: Pubkey,
    /// Token account receiving the clawback.
    pub treasury: Pubkey,
    pub total: u64,
    pub claimed: u64,
    pub num_claimed: u32,
    /// Claims are accepted while `now <= claim_deadline`; clawback after.
    pub claim_deadline: i64,
    pub clawed_back: bool,
    /// Amount the clawback sent to the treasury.
    pub clawback_amount: u64,
    pub created_ts: i64,
    pub bump: u8,
    pub vault_bump: u8,
    /// Room for future fields without a migration.
    pub reserved: [u8; 32],
}

impl Distributor {
    pub fn signer_seeds<'a>(&'a self, epoch: &'a [u8; 8], bump: &'a [u8; 1]) -> [&'a [u8]; 5] {
        [DISTRIBUTOR_SEED, self.creator.as_ref(), self.mint.as_ref(), epoch, bump]
    }
}
