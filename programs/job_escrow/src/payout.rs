//! Moving a job's money: the accounting of one worker slot (pure, on the
//! `Job` struct) and the vault transfers signed by the job PDA. Shared by
//! `settle`, `quit`, `end_job`, `cancel` and `close_job`.
use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::math;
use crate::state::*;
use crate::token::{self, TokenAccount, TOKEN_PROGRAM_ID};

/// What one slot was paid by one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payout {
    pub slot: u8,
    pub worker: Pubkey,
    pub hours: u32,
    pub hours_paid: u32,
    pub amount: u64,
    pub fee: u64,
}

/// Marks every hour slot `slot` has earned by `now_ts` and not yet been paid
/// as paid, and returns the amounts to transfer. Pays nothing twice
/// (`hours_paid` only increases) and nothing beyond `slot.hours`.
pub fn take_due(job: &mut Job, slot: usize, now_ts: i64) -> Result<Payout> {
    require!(slot < job.workers.len(), EscrowError::InvalidSlot);
    let fee_bps = job.fee_bps;
    let s = &mut job.workers[slot];
    let started = matches!(s.status, WorkerStatus::Active | WorkerStatus::Quit);
    let earned = math::earned_hours(s.start_ts, started, now_ts, s.hours);
    let hours = math::hours_due(earned, s.hours, s.hours_paid);
    let (amount, fee) = math::settlement(s.rate_per_hour, fee_bps, s.hours_paid, hours)?;
    s.hours_paid = s.hours_paid.checked_add(hours).ok_or(EscrowError::MathOverflow)?;
    Ok(Payout { slot: slot as u8, worker: s.worker, hours, hours_paid: s.hours_paid, amount, fee })
}

/// Cuts slot `slot`'s booking to what it has earned by `now_ts` (0 for a
/// worker who never accepted) and returns the unearned `(pay, fee)` that
/// leaves the slot. Earned hours stay owed to the worker.
pub fn cut_to_earned(job: &mut Job, slot: usize, now_ts: i64) -> Result<(u64, u64)> {
    require!(slot < job.workers.len(), EscrowError::InvalidSlot);
    let fee_bps = job.fee_bps;
    let s = &mut job.workers[slot];
    let started = matches!(s.status, WorkerStatus::Active | WorkerStatus::Quit);
    let earned = math::earned_hours(s.start_ts, started, now_ts, s.hours);
    let released = math::span_cost(s.rate_per_hour, fee_bps, earned, s.hours)?;
    s.hours = earned;
    Ok(released)
}

/// Tokens the vault must hold for `job`: every slot's unpaid pay and fee.
pub fn vault_owed(job: &Job) -> Result<u64> {
    let mut t = math::Totals::default();
    for s in &job.workers {
        t.add(math::slot_outstanding(s.rate_per_hour, job.fee_bps, s.hours, s.hours_paid)?)?;
    }
    t.total()
}

/// A token account a worker is paid into: a classic SPL token account of the
/// market mint owned by the slot's worker, writable.
pub fn check_worker_token(info: &AccountInfo, worker: &Pubkey, mint: &Pubkey) -> Result<()> {
    require_keys_eq!(*info.owner, TOKEN_PROGRAM_ID, EscrowError::InvalidTokenAccount);
    let ta = TokenAccount::unpack(&info.try_borrow_data()?)?;
    require_keys_eq!(ta.mint, *mint, EscrowError::WrongMint);
    require_keys_eq!(ta.owner, *worker, EscrowError::WrongOwner);
    require!(info.is_writable, anchor_lang::error::ErrorCode::AccountNotMutable);
    Ok(())
}

/// The job PDA's signer seeds, copied out of the account so the job can be
/// mutated while transfers are signed.
pub struct JobSigner {
    market: Pubkey,
    customer: Pubkey,
    job_id: [u8; 8],
    bump: [u8; 1],
}

impl JobSigner {
    pub fn new(job: &Job) -> Self {
        Self { market: job.market, customer: job.customer, job_id: job.job_id.to_le_bytes(), bump: [job.bump] }
    }

    pub fn seeds(&self) -> [&[u8]; 5] {
        [JOB_SEED, self.market.as_ref(), self.customer.as_ref(), &self.job_id, &self.bump]
    }
}

/// A job's vault and what signing for it takes: every transfer out of a vault
/// is signed by the job PDA.
pub struct Vault<'info> {
    token_program: AccountInfo<'info>,
    vault: AccountInfo<'info>,
    job: AccountInfo<'info>,
    signer: JobSigner,
}

impl<'info> Vault<'info> {
    pub fn new(token_program: AccountInfo<'info>, vault: AccountInfo<'info>, job: &Account<'info, Job>) -> Self {
        Self { token_program, vault, job: job.to_account_info(), signer: JobSigner::new(job) }
    }

    /// Transfers `amount` (if any) from the vault to `to`.
    pub fn pay(&self, to: &AccountInfo<'info>, amount: u64) -> Result<()> {
        if amount == 0 {
            return Ok(());
        }
        let seeds = self.signer.seeds();
        token::transfer(&self.token_program, &self.vault, to, &self.job, amount, &[&seeds])
    }

    /// Pays a slot's payout: the worker's amount and the fee share.
    pub fn pay_out(&self, p: &Payout, worker_token: &AccountInfo<'info>, treasury: &AccountInfo<'info>) -> Result<()> {
        self.pay(worker_token, p.amount)?;
        self.pay(treasury, p.fee)
    }

    /// Sends the vault's whole `balance` to `to` and closes the vault, rent to
    /// `rent_to` (cancel, and close_job's stray tokens).
    pub fn empty_and_close(&self, balance: u64, to: &AccountInfo<'info>, rent_to: &AccountInfo<'info>) -> Result<()> {
        self.pay(to, balance)?;
        self.close(rent_to)
    }

    /// Closes the (empty) vault; its rent goes to `destination`.
    pub fn close(&self, destination: &AccountInfo<'info>) -> Result<()> {
        let seeds = self.signer.seeds();
        token::close_account(&self.token_program, &self.vault, destination, &self.job, &[&seeds])
    }
}

/// Pays every listed slot what it is due at `now_ts`, into the matching
/// remaining account (`slots[i]` is paid into `accounts[i]`), and their fee
/// shares to the treasury in one transfer. Returns the payouts with
/// hours > 0, in order.
pub fn pay_listed<'info>(
    job: &mut Job,
    slots: &[u8],
    accounts: &[AccountInfo<'info>],
    mint: &Pubkey,
    vault: &Vault<'info>,
    treasury: &AccountInfo<'info>,
    now_ts: i64,
) -> Result<Vec<Payout>> {
    require!(slots.len() == accounts.len(), EscrowError::WorkerAccountsMismatch);
    let mut out = Vec::with_capacity(slots.len());
    let mut fees = 0u64;
    for (&slot, info) in slots.iter().zip(accounts) {
        let slot = slot as usize;
        require!(slot < job.workers.len(), EscrowError::InvalidSlot);
        check_worker_token(info, &job.workers[slot].worker, mint)?;
        let p = take_due(job, slot, now_ts)?;
        if p.hours > 0 {
            vault.pay(info, p.amount)?;
            fees = fees.checked_add(p.fee).ok_or(EscrowError::MathOverflow)?;
            out.push(p);
        }
    }
    // One fee transfer per instruction instead of one per worker.
    vault.pay(treasury, fees)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(slots: &[(u64, u32, WorkerStatus, i64)]) -> Job {
        Job {
            market: Pubkey::new_unique(),
            customer: Pubkey::new_unique(),
            job_id: 1,
            state: JobState::Open,
            fee_bps: 250,
            hours: 3,
            created_ts: 0,
            ended_ts: 0,
            usd_price: 0,
            usd_expo: 0,
            bump: 255,
            vault_bump: 255,
            reserved: [0; 32],
            workers: slots
                .iter()
                .map(|&(rate, hours, status, start_ts)| WorkerSlot {
                    worker: Pubkey::new_unique(),
                    rate_per_hour: rate,
                    usd_rate_per_hour: 0,
                    hours,
                    hours_paid: 0,
                    start_ts,
                    status,
                })
                .collect(),
        }
    }

    const H: i64 = 3_600;

    #[test]
    fn take_due_pays_each_hour_once_and_never_beyond_booking() {
        let mut j = job(&[(1_000, 3, WorkerStatus::Active, 100), (999, 3, WorkerStatus::Pending, 0)]);
        let locked = vault_owed(&j).unwrap();
        assert_eq!(take_due(&mut j, 0, 100 + H - 1).unwrap().hours, 0);
        let p = take_due(&mut j, 0, 100 + 2 * H).unwrap();
        assert_eq!((p.hours, p.hours_paid, p.amount, p.fee), (2, 2, 2_000, 50));
        assert_eq!(take_due(&mut j, 0, 100 + 2 * H).unwrap().hours, 0); // replay
        let p = take_due(&mut j, 0, 100 + 50 * H).unwrap();
        assert_eq!((p.hours, p.hours_paid), (1, 3)); // capped
        assert_eq!(take_due(&mut j, 1, 100 + 50 * H).unwrap().hours, 0); // pending earns nothing
        assert_eq!(vault_owed(&j).unwrap(), locked - 3_000 - 75);
        assert!(take_due(&mut j, 2, 0).is_err());
    }

    #[test]
    fn cut_to_earned_releases_exactly_the_unearned_part() {
        let mut j = job(&[(333_333, 7, WorkerStatus::Active, 0), (5, 7, WorkerStatus::Pending, 0)]);
        let before = vault_owed(&j).unwrap();
        let (pay0, fee0) = cut_to_earned(&mut j, 0, 2 * H + 5).unwrap();
        let (pay1, fee1) = cut_to_earned(&mut j, 1, 2 * H + 5).unwrap();
        assert_eq!((j.workers[0].hours, j.workers[1].hours), (2, 0));
        assert_eq!((pay1, fee1), (35, 1));
        assert_eq!(pay0, 5 * 333_333);
        // What stays is exactly the earned part, payable later.
        assert_eq!(vault_owed(&j).unwrap(), before - pay0 - fee0 - pay1 - fee1);
        let p = take_due(&mut j, 0, 100 * H).unwrap();
        assert_eq!(p.hours, 2);
        assert_eq!(vault_owed(&j).unwrap(), 0);
    }
}
