//! Events, emitted with `emit_cpi!` so they survive log truncation.
use anchor_lang::prelude::*;

#[event]
pub struct DistributorCreated {
    pub distributor: Pubkey,
    pub creator: Pubkey,
    pub admin: Pubkey,
    pub mint: Pubkey,
    pub epoch: u64,
    pub root: [u8; 32],
    pub num_leaves: u32,
    pub total: u64,
    pub claim_deadline: i64,
    pub treasury: Pubkey,
    pub vault: Pubkey,
    pub claims: Pubkey,
}

#[event]
pub struct Claimed {
    pub distributor: Pubkey,
    pub epoch: u64,
    pub index: u32,
    pub claimant: Pubkey,
    pub amount: u64,
    /// Cumulative amount claimed from this distributor after this claim.
    pub claimed: u64,
    pub num_claimed: u32,
}

/// Bytes of `Claimed`'s self-CPI: `EVENT_IX_TAG_LE`, discriminator, Borsh body.
pub const CLAIMED_CPI_LEN: usize = 8 + 8 + 32 + 8 + 4 + 32 + 8 + 8 + 4;

impl Claimed {
    /// The instruction data `emit_cpi!(Claimed { .. })` would send, built on
    /// the stack (`emit_cpi!` serializes into a `Vec` and copies it byte by
    /// byte into another). Pinned against Anchor's encoding by
    /// `tests::claimed_cpi_bytes_match_anchor`.
    pub fn cpi_ix_data(&self) -> [u8; CLAIMED_CPI_LEN] {
        let mut b = [0u8; CLAIMED_CPI_LEN];
        b[0..8].copy_from_slice(anchor_lang::event::EVENT_IX_TAG_LE);
        b[8..16].copy_from_slice(Claimed::DISCRIMINATOR);
        b[16..48].copy_from_slice(self.distributor.as_ref());
        b[48..56].copy_from_slice(&self.epoch.to_le_bytes());
        b[56..60].copy_from_slice(&self.index.to_le_bytes());
        b[60..92].copy_from_slice(self.claimant.as_ref());
        b[92..100].copy_from_slice(&self.amount.to_le_bytes());
        b[100..108].copy_from_slice(&self.claimed.to_le_bytes());
        b[108..112].copy_from_slice(&self.num_claimed.to_le_bytes());
        b
    }
}

#[event]
pub struct ClawedBack {
    pub distributor: Pubkey,
    pub epoch: u64,
    pub treasury: Pubkey,
    /// Everything left in the vault, sent to the treasury.
    pub amount: u64,
    /// Amount claimed before the deadline.
    pub claimed: u64,
}

#[event]
pub struct AdminProposed {
    pub distributor: Pubkey,
    pub admin: Pubkey,
    /// The default key when a proposal is withdrawn.
    pub pending_admin: Pubkey,
}

#[event]
pub struct AdminAccepted {
    pub distributor: Pubkey,
    pub old_admin: Pubkey,
    pub new_admin: Pubkey,
}

#[event]
pub struct DeadlineExtended {
    pub distributor: Pubkey,
    pub old_deadline: i64,
    pub new_deadline: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claimed_cpi_bytes_match_anchor() {
        let ev = Claimed {
            distributor: Pubkey::new_from_array([1; 32]),
            epoch: 0x0102_0304_0506_0708,
            index: 0x0a0b_0c0d,
            claimant: Pubkey::new_from_array([2; 32]),
            amount: 0x1112_1314_1516_1718,
            claimed: 0x2122_2324_2526_2728,
            num_claimed: 0x3132_3334,
        };
        let mut want = anchor_lang::event::EVENT_IX_TAG_LE.to_vec();
        want.extend(anchor_lang::Event::data(&ev));
        assert_eq!(ev.cpi_ix_data().to_vec(), want);
    }
}
