use anchor_lang::prelude::*;

pub const MARKET_SEED: &[u8] = b"market";
pub const JOB_SEED: &[u8] = b"job";
pub const VAULT_SEED: &[u8] = b"vault";

/// 100% in basis points.
pub const BPS_DENOMINATOR: u16 = 10_000;
pub const SECONDS_PER_HOUR: i64 = 3_600;
/// Hard caps, independent of governance: keep a job's account and the
/// settlement loop bounded (one worker slot is 36 bytes).
pub const MAX_WORKERS_CAP: u16 = 64;
/// Ten years of hours.
pub const MAX_HOURS_CAP: u32 = 87_600;

/// One market per mint (IO, IOSD, ...). Parameters are owned by `authority`,
/// which is transferable so governance can take it over.
#[account]
#[derive(InitSpace)]
pub struct Market {
    pub authority: Pubkey,
    pub mint: Pubkey,
    /// SPL token account of `mint` receiving protocol fees.
    pub treasury: Pubkey,
    /// Fee charged to the customer on top of the workers' pay, in bps.
    pub fee_bps: u16,
    pub max_workers: u16,
    pub max_hours: u32,
    /// Blocks new jobs only: settlement and cancellation keep working so a
    /// pause never traps earned or unearned funds.
    pub paused: bool,
    pub bump: u8,
    /// Number of jobs ever opened (statistics; not a seed).
    pub job_count: u64,
    /// Room for future fields without a migration.
    pub reserved: [u8; 64],
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum JobState {
    /// Hours remain to be earned.
    Open,
    /// Every booked hour has been paid; only the close-out (cancel) remains.
    Completed,
}

/// A worker booked on a job, with its own payout counter so that N workers
/// (and later quits/replacements) can be settled independently.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct WorkerSlot {
    pub worker: Pubkey,
    /// Hours already paid to this worker. Only ever increases, which makes
    /// settlement idempotent.
    pub hours_paid: u32,
}

#[account]
pub struct Job {
    pub market: Pubkey,
    pub customer: Pubkey,
    pub job_id: u64,
    /// Paid per worker per hour, in base units of the market mint.
    pub rate_per_hour: u64,
    /// Hours booked per worker.
    pub hours: u32,
    /// Fee snapshot at open: later market fee changes do not reprice a job.
    pub fee_bps: u16,
    pub state: JobState,
    pub start_ts: i64,
    pub bump: u8,
    pub vault_bump: u8,
    pub reserved: [u8; 32],
    pub workers: Vec<WorkerSlot>,
}

impl Job {
    /// Account size (with discriminator) for `n_workers` slots.
    pub const fn space(n_workers: usize) -> usize {
        8 // discriminator
            + 32 + 32 + 8 + 8 + 4 + 2
            + 1 // JobState
            + 8 + 1 + 1 + 32
            + 4 + n_workers * WorkerSlot::INIT_SPACE
    }
}
