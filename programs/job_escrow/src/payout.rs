//! Moving a job's money: the accounting of one worker slot (pure, on the
//! `Job` struct) and the vault transfers signed by the job PDA. Shared by
//! `settle`, `quit`, `end_job`, `cancel` and `close_job`.
use anchor_lang::prelude::*;

use crate::errors::EscrowError;
use crate::events::{HoursSettled, SlotPaid};
use crate::math;
use crate::raw;
use crate::state::*;
use crate::token::{self, TokenAccount, TOKEN_ACCOUNT_LEN, TOKEN_PROGRAM_ID};
use anchor_lang::Discriminator;

/// What one slot was paid by one call (as reported in `HoursSettled`).
pub type Payout = SlotPaid;

impl Payout {
    /// Whether this call paid anything (a state change).
    pub fn is_empty(&self) -> bool {
        self.hours == 0 && self.secs == 0
    }
}

/// A slot's cumulative pay once it is fully paid: its whole hours and tail.
pub fn booked_pay(s: &WorkerSlot) -> Result<u64> {
    math::cumulative_pay(s.rate_per_hour, s.hours, s.tail_pay)
}

/// A slot's cumulative pay so far.
pub fn paid_pay(s: &WorkerSlot) -> Result<u64> {
    math::cumulative_pay(s.rate_per_hour, s.hours_paid, if s.tail_paid { s.tail_pay } else { 0 })
}

/// Marks everything slot `slot` has earned by `now_ts` and not yet been paid
/// as paid, adds its fee share to `fees_accrued` (it stays in the vault for
/// `sweep_fees`) and returns the worker's amount. While the slot runs it
/// earns whole hours (hourly streaming); once it is finished (cut or job
/// ended) all of its booking is earned, tail included, whatever the clock
/// says. Pays nothing twice (`hours_paid` and `tail_paid` only go up) and
/// nothing beyond the booking.
pub fn take_due(job: &mut Job, slot: usize, now_ts: i64) -> Result<Payout> {
    require!(slot < job.workers.len(), EscrowError::InvalidSlot);
    let (fee_bps, state) = (job.fee_bps, job.state);
    let p = take_due_slot(&mut job.workers[slot], slot as u8, state, fee_bps, now_ts)?;
    job.fees_accrued = job.fees_accrued.checked_add(p.fee).ok_or(EscrowError::MathOverflow)?;
    Ok(p)
}

/// [`take_due`] on one slot `s` (number `slot`) of a job in `state` with
/// `fee_bps`; the caller adds the returned `fee` to the job's
/// `fees_accrued`. Changes only `hours_paid` and `tail_paid`.
pub fn take_due_slot(s: &mut WorkerSlot, slot: u8, state: JobState, fee_bps: u16, now_ts: i64) -> Result<Payout> {
    let (hours, tail) = if s.finished(state) {
        (s.hours.checked_sub(s.hours_paid).ok_or(EscrowError::PaidBeyondBooking)?, !s.tail_paid && s.tail_secs > 0)
    } else if s.status == WorkerStatus::Active {
        let earned = math::earned_hours(s.start_ts, true, now_ts, s.hours);
        (math::hours_due(earned, s.hours, s.hours_paid), false)
    } else {
        (0, false)
    };
    let before = paid_pay(s)?;
    s.hours_paid = s.hours_paid.checked_add(hours).ok_or(EscrowError::MathOverflow)?;
    require!(s.hours_paid <= s.hours, EscrowError::PaidBeyondBooking);
    s.tail_paid |= tail;
    let (amount, fee) = math::amount_span(before, paid_pay(s)?, fee_bps)?;
    Ok(Payout {
        slot,
        worker: s.worker,
        hours,
        secs: if tail { s.tail_secs } else { 0 },
        hours_paid: s.hours_paid,
        amount,
        fee,
    })
}

/// Cuts slot `slot`'s booking to what it has earned by `now_ts`: whole hours
/// plus the seconds of the hour in progress, pro rata, rounded up when
/// `round_up` (the customer cut it) and down otherwise (the worker quit).
/// A pending slot is cut to nothing. Never below what was paid, whatever the
/// clock says; a finished slot is left alone. Returns the unearned
/// `(pay, fee)` that leaves the slot; earned pay stays owed to the worker.
pub fn cut_to_earned(job: &mut Job, slot: usize, now_ts: i64, round_up: bool) -> Result<(u64, u64)> {
    require!(slot < job.workers.len(), EscrowError::InvalidSlot);
    let fee_bps = job.fee_bps;
    let state = job.state;
    let s = &mut job.workers[slot];
    if s.finished(state) {
        return Ok((0, 0));
    }
    let (hours, secs) = if s.status == WorkerStatus::Pending {
        (0, 0)
    } else {
        match math::cut_point(s.start_ts, now_ts, s.hours, s.hours_paid) {
            Some(cut) => cut,
            None => return Ok((0, 0)),
        }
    };
    let before = booked_pay(s)?;
    s.hours = hours;
    s.tail_secs = secs;
    s.tail_pay = math::tail_pay(s.rate_per_hour, secs, round_up);
    require!(s.hours_paid <= s.hours, EscrowError::PaidBeyondBooking);
    math::amount_span(booked_pay(s)?, before, fee_bps)
}

/// Tokens the vault must hold for `job`: every slot's unpaid pay and fee,
/// and the fees accrued but not swept yet.
pub fn vault_owed(job: &Job) -> Result<u64> {
    let mut t = math::Totals::default();
    for s in &job.workers {
        t.add(math::amount_span(paid_pay(s)?, booked_pay(s)?, job.fee_bps)?)?;
    }
    t.total()?.checked_add(job.fees_accrued).ok_or_else(|| error!(EscrowError::MathOverflow))
}

/// The check on a token account a vault pays into by name (the customer's
/// refund account, a quitting worker's account): a token account of the
/// vault's mint (`WrongMint`), owned by `owner` (`WrongOwner`), not the
/// vault itself (`WrongVault`). For `#[account(constraint = ...)]`:
/// `Ok(true)` or that error.
pub fn paid_from_vault(to: &Account<TokenAccount>, vault: &Account<TokenAccount>, owner: &Pubkey) -> Result<bool> {
    require_keys_eq!(to.mint, vault.mint, EscrowError::WrongMint);
    require_keys_eq!(to.owner, *owner, EscrowError::WrongOwner);
    require_keys_neq!(to.key(), vault.key(), EscrowError::WrongVault);
    Ok(true)
}

/// Whether `info` can be paid as `worker`'s token account of `mint`.
/// `Ok(false)` (skip the slot, it stays owed) when the account was closed
/// (system-owned and empty) or is frozen: the worker's own account must not
/// stop the others from being paid. A substituted account (another owner or
/// mint, not a token account) is an error.
pub fn payee_ok(info: &AccountInfo, worker: &Pubkey, mint: &Pubkey) -> Result<bool> {
    require!(info.is_writable, anchor_lang::error::ErrorCode::AccountNotMutable);
    if *info.owner == anchor_lang::system_program::ID && info.data_is_empty() {
        return Ok(false);
    }
    require_keys_eq!(*info.owner, TOKEN_PROGRAM_ID, EscrowError::InvalidTokenAccount);
    let data = info.try_borrow_data()?;
    require!(data.len() == TOKEN_ACCOUNT_LEN, EscrowError::InvalidTokenAccount);
    require!(&data[0..32] == mint.as_ref(), EscrowError::WrongMint);
    require!(&data[32..64] == worker.as_ref(), EscrowError::WrongOwner);
    match data[108] {
        1 => Ok(true),
        2 => Ok(false), // frozen
        _ => err!(EscrowError::InvalidTokenAccount),
    }
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

    pub fn from_header(h: &raw::Header) -> Self {
        Self { market: h.market, customer: h.customer, job_id: h.job_id.to_le_bytes(), bump: [h.bump] }
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

/// What a batch of payouts did: the slots paid, and the listed slots skipped
/// because their token account was closed or frozen (they stay owed).
#[derive(Default)]
pub struct Batch {
    pub paid: Vec<Payout>,
    pub skipped: Vec<u8>,
}

impl Batch {
    /// The `HoursSettled` event of this batch, as the instruction data
    /// `emit_cpi` sends (see [`SettledEvent`]; one exact-size buffer, which
    /// keeps a 13-worker `end_job` well within the 32 KiB heap).
    pub fn event_data(&self, job: &Pubkey, now_ts: i64) -> Result<Vec<u8>> {
        let mut ev = SettledEvent::new(job, now_ts, self.paid.len());
        for p in &self.paid {
            ev.push(p)?;
        }
        Ok(ev.finish(&self.skipped))
    }
}

/// The mint of a job's vault (a token account created by `open_job`).
pub fn vault_mint(vault: &AccountInfo) -> Result<Pubkey> {
    let data = vault.try_borrow_data()?;
    require!(data.len() == TOKEN_ACCOUNT_LEN, EscrowError::InvalidTokenAccount);
    Pubkey::try_from(&data[0..32]).map_err(|_| error!(EscrowError::InvalidTokenAccount))
}

/// Pays every listed slot what it is due at `now_ts`, into the matching
/// remaining account (`slots[i]` is paid into `accounts[i]`, which must be a
/// token account of `mint` owned by that slot's worker). A slot whose account
/// is closed or frozen is skipped and reported, the others are paid. Fee
/// shares accrue in the job (no treasury transfer).
pub fn pay_listed<'info>(
    job: &mut Job,
    slots: &[u8],
    accounts: &[AccountInfo<'info>],
    mint: &Pubkey,
    vault: &Vault<'info>,
    now_ts: i64,
) -> Result<Batch> {
    require!(slots.len() == accounts.len(), EscrowError::WorkerAccountsMismatch);
    let mut out = Batch { paid: Vec::with_capacity(slots.len()), skipped: Vec::new() };
    for (&slot, info) in slots.iter().zip(accounts) {
        let i = slot as usize;
        require!(i < job.workers.len(), EscrowError::InvalidSlot);
        if !payee_ok(info, &job.workers[i].worker, mint)? {
            out.skipped.push(slot);
            continue;
        }
        let p = take_due(job, i, now_ts)?;
        if !p.is_empty() {
            vault.pay(info, p.amount)?;
            out.paid.push(p);
        }
    }
    Ok(out)
}

/// `settle`'s payouts on the job account in place (see [`raw`]): each
/// listed slot is read, paid what [`take_due_slot`] says into the matching
/// remaining account (same checks as [`pay_listed`]: `payee_ok`, closed or
/// frozen skipped), and only its `hours_paid`/`tail_paid` are written back;
/// the fee shares are added to `fees_accrued` once. Each payout is appended
/// to `event` as it is made. Returns the skipped slots. `job` must have
/// passed [`raw::check_job`] and `vault` its vault's address check.
#[allow(clippy::too_many_arguments)]
pub fn settle_in_place<'info>(
    job: &AccountInfo<'info>,
    vault: &AccountInfo<'info>,
    token_program: &AccountInfo<'info>,
    slots: &[u8],
    accounts: &[AccountInfo<'info>],
    mint: &Pubkey,
    now_ts: i64,
    event: &mut SettledEvent,
) -> Result<Vec<u8>> {
    require!(slots.len() == accounts.len(), EscrowError::WorkerAccountsMismatch);
    let header = raw::Header::read(&job.try_borrow_data()?)?;
    let signer = JobSigner::from_header(&header);
    let seeds = signer.seeds();
    let mut transfers = token::VaultTransfers::new(token_program, vault, job, &seeds)?;
    let mut skipped = Vec::new();
    let mut fees: u64 = 0;
    for (&slot, info) in slots.iter().zip(accounts) {
        let i = slot as usize;
        let mut s = raw::read_slot(&job.try_borrow_data()?, header.workers, i)?;
        if !payee_ok(info, &s.worker, mint)? {
            skipped.push(slot);
            continue;
        }
        let p = take_due_slot(&mut s, slot, header.state, header.fee_bps, now_ts)?;
        if p.is_empty() {
            continue;
        }
        fees = fees.checked_add(p.fee).ok_or(EscrowError::MathOverflow)?;
        raw::write_paid(&mut job.try_borrow_mut_data()?, i, &s);
        if p.amount > 0 {
            transfers.pay(info, p.amount)?;
        }
        event.push(&p)?;
    }
    if fees > 0 {
        raw::add_fees(&mut job.try_borrow_mut_data()?, fees)?;
    }
    Ok(skipped)
}

/// A `HoursSettled` event built in place as the instruction data of its
/// `emit_cpi` self-invocation (event-CPI tag, event discriminator, Borsh
/// fields: exactly what `emit_cpi!` sends), one payout appended at a time,
/// emitted with [`token_cpi::emit_event_cpi`]: no intermediate `Vec<SlotPaid>` and no
/// byte-by-byte copies.
pub struct SettledEvent {
    data: Vec<u8>,
    paid: u32,
}

/// Borsh size of one `SlotPaid`.
const SLOT_PAID_LEN: usize = 1 + 32 + 4 + 2 + 4 + 8 + 8;
const PAID_COUNT_AT: usize = 8 + 8 + 32 + 8;

impl SettledEvent {
    pub fn new(job: &Pubkey, settled_ts: i64, capacity: usize) -> Self {
        let mut data = Vec::with_capacity(PAID_COUNT_AT + 4 + capacity * (SLOT_PAID_LEN + 1) + 4);
        data.extend_from_slice(anchor_lang::event::EVENT_IX_TAG_LE);
        data.extend_from_slice(HoursSettled::DISCRIMINATOR);
        data.extend_from_slice(job.as_ref());
        data.extend_from_slice(&settled_ts.to_le_bytes());
        data.extend_from_slice(&[0; 4]);
        Self { data, paid: 0 }
    }

    pub fn push(&mut self, p: &Payout) -> Result<()> {
        // Borsh of `SlotPaid`, written by hand (one copy into the buffer).
        let mut b = [0u8; SLOT_PAID_LEN];
        b[0] = p.slot;
        b[1..33].copy_from_slice(p.worker.as_ref());
        b[33..37].copy_from_slice(&p.hours.to_le_bytes());
        b[37..39].copy_from_slice(&p.secs.to_le_bytes());
        b[39..43].copy_from_slice(&p.hours_paid.to_le_bytes());
        b[43..51].copy_from_slice(&p.amount.to_le_bytes());
        b[51..59].copy_from_slice(&p.fee.to_le_bytes());
        self.data.extend_from_slice(&b);
        self.paid = self.paid.checked_add(1).ok_or(EscrowError::MathOverflow)?;
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.paid == 0
    }

    /// The finished instruction data, with `skipped` appended.
    pub fn finish(mut self, skipped: &[u8]) -> Vec<u8> {
        self.data[PAID_COUNT_AT..PAID_COUNT_AT + 4].copy_from_slice(&self.paid.to_le_bytes());
        self.data.extend_from_slice(&(skipped.len() as u32).to_le_bytes());
        self.data.extend_from_slice(skipped);
        self.data
    }
}

/// `emit_cpi!` of already built event instruction data (`SettledEvent`):
/// the same self-invocation signed by the event authority PDA.
pub fn emit_cpi_data(event_authority: &AccountInfo, data: &[u8]) -> Result<()> {
    token_cpi::emit_event_cpi(&crate::ID, &token_cpi::CInfo::new(event_authority), crate::EVENT_AUTHORITY_AND_BUMP.1,
                              data)
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
            accept_deadline: 0,
            fees_accrued: 0,
            reserved: [0; 16],
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
                    tail_secs: 0,
                    tail_pay: 0,
                    tail_paid: false,
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
        // Fee shares stay in the vault (accrued) until swept.
        assert_eq!(j.fees_accrued, 75);
        assert_eq!(vault_owed(&j).unwrap(), locked - 3_000);
        assert!(take_due(&mut j, 2, 0).is_err());
    }

    #[test]
    fn cut_to_earned_releases_exactly_the_unearned_part() {
        let mut j = job(&[(333_333, 7, WorkerStatus::Active, 0), (5, 7, WorkerStatus::Pending, 0)]);
        let before = vault_owed(&j).unwrap();
        let (pay0, fee0) = cut_to_earned(&mut j, 0, 2 * H + 5, true).unwrap();
        let (pay1, fee1) = cut_to_earned(&mut j, 1, 2 * H + 5, true).unwrap();
        j.workers[0].status = WorkerStatus::Released;
        j.workers[1].status = WorkerStatus::Lapsed;
        assert_eq!((j.workers[0].hours, j.workers[1].hours), (2, 0));
        assert_eq!((j.workers[0].tail_secs, j.workers[0].tail_pay), (5, 463)); // 333_333 * 5 / 3600 = 462.9 -> 463
        assert_eq!((pay1, fee1), (35, 1));
        assert_eq!(pay0, 5 * 333_333 - 463);
        // What stays is exactly the earned part, payable later, whatever the clock.
        assert_eq!(vault_owed(&j).unwrap(), before - pay0 - fee0 - pay1 - fee1);
        let p = take_due(&mut j, 0, 0).unwrap();
        assert_eq!((p.hours, p.secs, p.amount), (2, 5, 2 * 333_333 + 463));
        assert_eq!(vault_owed(&j).unwrap(), j.fees_accrued);
        assert!(take_due(&mut j, 0, 100 * H).unwrap().is_empty()); // replay
    }

    #[test]
    fn quit_rounds_down_and_clock_regression_never_cuts_below_paid() {
        let mut j = job(&[(1_000, 5, WorkerStatus::Active, 0), (1_000, 5, WorkerStatus::Active, 0)]);
        // Slot 0 is paid 3 hours, then the clock goes back to 1 h 10 s.
        assert_eq!(take_due(&mut j, 0, 3 * H).unwrap().hours, 3);
        let before = vault_owed(&j).unwrap();
        let (pay, fee) = cut_to_earned(&mut j, 0, H + 10, false).unwrap();
        assert_eq!((j.workers[0].hours, j.workers[0].hours_paid, j.workers[0].tail_pay), (3, 3, 0));
        assert_eq!(pay, 2_000);
        assert_eq!(vault_owed(&j).unwrap(), before - pay - fee);
        // Quit (round down) at 1 s into the second hour: 0.27 -> 0.
        cut_to_earned(&mut j, 1, H + 1, false).unwrap();
        assert_eq!((j.workers[1].hours, j.workers[1].tail_secs, j.workers[1].tail_pay), (1, 1, 0));
        // A finished slot is never cut again.
        j.workers[1].status = WorkerStatus::Quit;
        assert_eq!(cut_to_earned(&mut j, 1, 0, true).unwrap(), (0, 0));
        let p = take_due(&mut j, 1, 0).unwrap();
        assert_eq!((p.hours, p.secs, p.amount), (1, 1, 1_000));
    }

    #[test]
    fn settled_event_is_what_emit_cpi_sends() {
        let job = Pubkey::new_unique();
        let p = |slot: u8| Payout { slot, worker: Pubkey::new_unique(), hours: 3, secs: 7, hours_paid: 9, amount: 1 << 40, fee: 12 };
        let paid = vec![p(0), p(4)];
        let mut ev = SettledEvent::new(&job, -42, 1);
        for x in &paid {
            ev.push(x).unwrap();
        }
        let data = ev.finish(&[2, 3]);
        let event = HoursSettled { job, settled_ts: -42, paid, skipped: vec![2, 3] };
        let mut want = anchor_lang::event::EVENT_IX_TAG_LE.to_vec();
        want.extend(anchor_lang::Event::data(&event));
        assert_eq!(data, want);
        let empty = SettledEvent::new(&job, 1, 0);
        assert!(empty.is_empty());
        let want = [anchor_lang::event::EVENT_IX_TAG_LE.to_vec(),
                    anchor_lang::Event::data(&HoursSettled { job, settled_ts: 1, paid: vec![], skipped: vec![] })].concat();
        assert_eq!(empty.finish(&[]), want);
    }
}
