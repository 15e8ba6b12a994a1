use anchor_lang::prelude::*;

pub const MARKET_SEED: &[u8] = b"market";
pub const JOB_SEED: &[u8] = b"job";
pub const VAULT_SEED: &[u8] = b"vault";
pub const PRICE_FEED_SEED: &[u8] = b"price_feed";
pub const FEE_VAULT_SEED: &[u8] = b"fee_vault";

/// 100% in basis points.
pub const BPS_DENOMINATOR: u16 = 10_000;
pub const SECONDS_PER_HOUR: i64 = 3_600;
/// Hard cap on `max_workers`, independent of governance, measured by
/// `make bench-cu` (`limits`): a USD-priced `open_job` (40 bytes of
/// arguments per worker, plus the price feed) with the compute-budget
/// instructions fits a 1,232-byte transaction up to 14 workers, and an
/// `end_job` paying every worker at once runs within the 32 KiB program heap
/// up to 13 (its transaction would fit 21). Enforced by `init_market` and
/// `update_market`.
pub const MAX_WORKERS_CAP: u16 = 13;
/// Longest accept window `open_job` takes (seconds): 30 days.
pub const MAX_ACCEPT_WINDOW: u32 = 30 * 24 * 3_600;
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
    /// Proposed by `set_market_authority`, takes over when it signs
    /// `accept_market_authority`; the default key when nothing is proposed.
    pub pending_authority: Pubkey,
    /// Bump of the market's fee vault (`["fee_vault", market]`).
    pub fee_vault_bump: u8,
    /// Room for future fields without a migration.
    pub reserved: [u8; 31],
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
    /// Released by the customer after it accepted: booking cut to what it
    /// earned, pro rata by the second (rounded up, for the worker).
    Released,
    /// Released by the customer after the accept deadline passed without an
    /// accept: `hours` was cut to 0.
    Lapsed,
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
    /// Seconds of the started hour earned when the booking was cut (quit,
    /// release, end) in the middle of an hour: 0..3599.
    pub tail_secs: u16,
    /// Pay for those seconds, `rate * tail_secs / 3600` rounded against the
    /// party that cut the booking. Owed on top of `hours`.
    pub tail_pay: u64,
    /// Whether `tail_pay` has been paid.
    pub tail_paid: bool,
}

impl WorkerSlot {
    /// Whether the slot can earn no more: cut (quit, released, declined,
    /// lapsed) or its job ended. All of its booking is then earned.
    pub fn finished(&self, job_state: JobState) -> bool {
        job_state == JobState::Ended || !matches!(self.status, WorkerStatus::Pending | WorkerStatus::Active)
    }

    /// Whether the worker ever accepted (its clock started).
    pub fn started(&self) -> bool {
        matches!(self.status, WorkerStatus::Active | WorkerStatus::Quit | WorkerStatus::Released)
    }
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
    /// A pending worker can accept until then (`created_ts + accept_window`);
    /// afterwards the customer can `release` its slot.
    pub accept_deadline: i64,
    /// Fee shares of the hours paid so far, still in the vault until
    /// `sweep_fees` (or `close_job`) moves them out: settling never touches
    /// the treasury.
    pub fees_accrued: u64,
    pub reserved: [u8; 16],
    pub workers: Vec<WorkerSlot>,
}

impl Job {
    /// Account size (with discriminator) for `n_workers` slots.
    pub const fn space(n_workers: usize) -> usize {
        8 // discriminator
            + 32 + 32 + 8
            + 1 // JobState
            + 2 + 4 + 8 + 8 + 8 + 4 + 1 + 1 + 8 + 8 + 16
            + 4 + n_workers * WorkerSlot::INIT_SPACE
    }

    pub fn slot_of(&self, worker: &Pubkey) -> Option<usize> {
        self.workers.iter().position(|w| w.worker == *worker)
    }

    /// Whether any worker ever accepted (its clock started).
    pub fn any_accepted(&self) -> bool {
        self.workers.iter().any(WorkerSlot::started)
    }
}
