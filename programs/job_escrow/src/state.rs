use anchor_lang::prelude::*;

pub const MARKET_SEED: &[u8] = b"market";
pub const JOB_SEED: &[u8] = b"job";
pub const VAULT_SEED: &[u8] = b"vault";
pub const PRICE_FEED_SEED: &[u8] = b"price_feed";

/// 100% in basis points.
pub const BPS_DENOMINATOR: u16 = 10_000;
pub const SECONDS_PER_HOUR: i64 = 3_600;
/// Hard caps, independent of governance: keep a job's account and the
/// settlement loop bounded.
pub const MAX_WORKERS_CAP: u16 = 64;
/// Ten years of hours.
pub const MAX_HOURS_CAP: u32 = 87_600;
/// USD amounts (rates of USD-priced jobs) are in micro-USD: 6 decimals.
pub const USD_DECIMALS: u8 = 6;
/// Oracle exponents outside this range are refused (Pyth uses about -8).
pub const MAX_ABS_EXPO: i32 = 18;

/// One market per mint (IO, IOSD, ...). Parameters are owned by `authority`,
/// which is transferable (also to a PDA) so governance can take it over.
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
    /// Blocks `open_job` and `extend` only: settle, cancel, end, quit and
    /// close keep working so a pause never traps earned or unearned funds.
    pub paused: bool,
    pub bump: u8,
    /// Number of jobs ever opened (statistics; not a seed).
    pub job_count: u64,
    /// USD price feed of the market mint (`PriceFeed` PDA of this market);
    /// the default key while no oracle is configured.
    pub oracle: Pubkey,
    /// A price older than this (seconds, by `publish_time`) is refused.
    pub max_staleness: u32,
    /// A price whose `conf / price` exceeds this (bps) is refused.
    pub max_conf_bps: u16,
    /// Room for future fields without a migration.
    pub reserved: [u8; 64],
}

/// A USD price of the market mint with Pyth's semantics: one whole token is
/// worth `price * 10^expo` USD, give or take `conf * 10^expo`, as of
/// `publish_time` (unix seconds). Written by the market authority with
/// `set_price` (later: governance, or a relayer of a real Pyth feed).
#[account]
#[derive(InitSpace)]
pub struct PriceFeed {
    pub market: Pubkey,
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
    pub bump: u8,
    pub reserved: [u8; 32],
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum JobState {
    /// Running (or waiting for workers to accept): hours can still be earned.
    Open,
    /// Ended early by the customer: nothing more is earned; earned hours not
    /// yet paid can still be settled, then the job can be closed.
    Ended,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub enum WorkerStatus {
    /// Booked and funded, has not accepted yet: earns nothing.
    Pending,
    /// Accepted at `start_ts`: earns one `rate_per_hour` per whole hour
    /// elapsed since then, up to `hours`.
    Active,
    /// Quit after accepting: `hours` was cut to what was earned.
    Quit,
    /// Quit before accepting (declined): `hours` was cut to 0.
    Declined,
}

/// A worker booked on a job. Each slot has its own rate, clock and payout
/// counter so workers are settled independently.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug, InitSpace)]
pub struct WorkerSlot {
    pub worker: Pubkey,
    /// Paid per whole hour, in base units of the market mint.
    pub rate_per_hour: u64,
    /// The micro-USD rate it was converted from (0 for token-priced jobs).
    pub usd_rate_per_hour: u64,
    /// Hours this slot can earn (booking + extensions; cut to the earned
    /// hours by `quit` and `end_job`).
    pub hours: u32,
    /// Hours already paid. Only ever increases, which makes settlement
    /// idempotent; never exceeds `hours`.
    pub hours_paid: u32,
    /// Accept time (0 while pending).
    pub start_ts: i64,
    pub status: WorkerStatus,
}

/// Instruction argument of `open_job`: one entry per worker.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct WorkerTerms {
    pub worker: Pubkey,
    /// Base units of the mint per hour, or micro-USD per hour for USD jobs.
    pub rate_per_hour: u64,
}

/// Byte offset of `Job::state` in the account data (after the 8-byte
/// discriminator): keepers filter running jobs with a memcmp on it.
pub const JOB_STATE_OFFSET: usize = 8 + 32 + 32 + 8;

#[account]
pub struct Job {
    pub market: Pubkey,
    pub customer: Pubkey,
    pub job_id: u64,
    /// Keep at `JOB_STATE_OFFSET`: clients filter on it.
    pub state: JobState,
    /// Fee snapshot at open: later market fee changes do not reprice a job.
    pub fee_bps: u16,
    /// Hours booked per worker at open plus extensions.
    pub hours: u32,
    pub created_ts: i64,
    /// When `end_job` ran (0 while open).
    pub ended_ts: i64,
    /// Oracle price used to convert USD rates at open (0 if token-priced).
    pub usd_price: i64,
    pub usd_expo: i32,
    pub bump: u8,
    pub vault_bump: u8,
    pub reserved: [u8; 32],
    pub workers: Vec<WorkerSlot>,
}

impl Job {
    /// Account size (with discriminator) for `n_workers` slots.
    pub const fn space(n_workers: usize) -> usize {
        8 // discriminator
            + 32 + 32 + 8
            + 1 // JobState
            + 2 + 4 + 8 + 8 + 8 + 4 + 1 + 1 + 32
            + 4 + n_workers * WorkerSlot::INIT_SPACE
    }

    pub fn slot_of(&self, worker: &Pubkey) -> Option<usize> {
        self.workers.iter().position(|w| w.worker == *worker)
    }

    /// Whether any worker ever accepted (its clock started).
    pub fn any_accepted(&self) -> bool {
        self.workers
            .iter()
            .any(|w| matches!(w.status, WorkerStatus::Active | WorkerStatus::Quit))
    }

    pub fn signer_seeds<'a>(&'a self, job_id: &'a [u8; 8], bump: &'a [u8; 1]) -> [&'a [u8]; 5] {
        [JOB_SEED, self.market.as_ref(), self.customer.as_ref(), job_id, bump]
    }
}
