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

/// Byte offsets of [`Distributor`]'s fields in its account data: the 8-byte
/// discriminator, then Borsh in declaration order. Every field is fixed-size,
/// so the offsets are constants. `claim` (the hot path, once per worker) reads
/// the fields it needs and writes `claimed`/`num_claimed` in place instead of
/// deserializing and re-serializing all 356 bytes; `tests::layout_matches_borsh`
/// pins these against the Borsh encoding.
pub mod layout {
    pub const CREATOR: usize = 8;
    pub const MINT: usize = CREATOR + 32;
    pub const EPOCH: usize = MINT + 32;
    pub const ADMIN: usize = EPOCH + 8;
    pub const PENDING_ADMIN: usize = ADMIN + 32;
    pub const ROOT: usize = PENDING_ADMIN + 32;
    pub const NUM_LEAVES: usize = ROOT + 32;
    pub const DEPTH: usize = NUM_LEAVES + 4;
    pub const VAULT: usize = DEPTH + 1;
    pub const CLAIMS: usize = VAULT + 32;
    pub const TREASURY: usize = CLAIMS + 32;
    pub const TOTAL: usize = TREASURY + 32;
    pub const CLAIMED: usize = TOTAL + 8;
    pub const NUM_CLAIMED: usize = CLAIMED + 8;
    pub const CLAIM_DEADLINE: usize = NUM_CLAIMED + 4;
    pub const CLAWED_BACK: usize = CLAIM_DEADLINE + 8;
    pub const CLAWBACK_AMOUNT: usize = CLAWED_BACK + 1;
    pub const CREATED_TS: usize = CLAWBACK_AMOUNT + 8;
    pub const BUMP: usize = CREATED_TS + 8;
    pub const VAULT_BUMP: usize = BUMP + 1;
    pub const RESERVED: usize = VAULT_BUMP + 1;
    /// Whole account: `8 + Distributor::INIT_SPACE`.
    pub const LEN: usize = RESERVED + 32;
}

/// Little-endian fixed-size reads and writes at the [`layout`] offsets.
/// Callers check the data is at least [`layout::LEN`] bytes first.
pub fn read_u64(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&data[at..at + 8]);
    u64::from_le_bytes(b)
}

pub fn read_u32(data: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&data[at..at + 4]);
    u32::from_le_bytes(b)
}

pub fn key_at(data: &[u8], at: usize) -> &[u8; 32] {
    // The slice is exactly 32 bytes, so the conversion cannot fail.
    data[at..at + 32].try_into().unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_borsh() {
        let k = |b: u8| Pubkey::new_from_array([b; 32]);
        let d = Distributor {
            creator: k(1),
            mint: k(2),
            epoch: 0x0102_0304_0506_0708,
            admin: k(3),
            pending_admin: k(4),
            root: [5; 32],
            num_leaves: 0x0a0b_0c0d,
            depth: 20,
            vault: k(6),
            claims: k(7),
            treasury: k(8),
            total: 0x1112_1314_1516_1718,
            claimed: 0x2122_2324_2526_2728,
            num_claimed: 0x3132_3334,
            claim_deadline: 0x4142_4344_4546_4748,
            clawed_back: true,
            clawback_amount: 0x5152_5354_5556_5758,
            created_ts: 0x6162_6364_6566_6768,
            bump: 254,
            vault_bump: 253,
            reserved: [9; 32],
        };
        let mut data = Vec::new();
        d.try_serialize(&mut data).unwrap();
        assert_eq!(data.len(), layout::LEN);
        assert_eq!(layout::LEN, 8 + Distributor::INIT_SPACE);
        assert_eq!(&data[..8], Distributor::DISCRIMINATOR);
        assert_eq!(key_at(&data, layout::CREATOR), &[1; 32]);
        assert_eq!(key_at(&data, layout::MINT), &[2; 32]);
        assert_eq!(read_u64(&data, layout::EPOCH), d.epoch);
        assert_eq!(key_at(&data, layout::ADMIN), &[3; 32]);
        assert_eq!(key_at(&data, layout::PENDING_ADMIN), &[4; 32]);
        assert_eq!(key_at(&data, layout::ROOT), &[5; 32]);
        assert_eq!(read_u32(&data, layout::NUM_LEAVES), d.num_leaves);
        assert_eq!(data[layout::DEPTH], 20);
        assert_eq!(key_at(&data, layout::VAULT), &[6; 32]);
        assert_eq!(key_at(&data, layout::CLAIMS), &[7; 32]);
        assert_eq!(key_at(&data, layout::TREASURY), &[8; 32]);
        assert_eq!(read_u64(&data, layout::TOTAL), d.total);
        assert_eq!(read_u64(&data, layout::CLAIMED), d.claimed);
        assert_eq!(read_u32(&data, layout::NUM_CLAIMED), d.num_claimed);
        assert_eq!(read_u64(&data, layout::CLAIM_DEADLINE) as i64, d.claim_deadline);
        assert_eq!(data[layout::CLAWED_BACK], 1);
        assert_eq!(read_u64(&data, layout::CLAWBACK_AMOUNT), d.clawback_amount);
        assert_eq!(read_u64(&data, layout::CREATED_TS) as i64, d.created_ts);
        assert_eq!((data[layout::BUMP], data[layout::VAULT_BUMP]), (254, 253));
        assert_eq!(&data[layout::RESERVED..], &[9; 32]);
    }
}
