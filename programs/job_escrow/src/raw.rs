//! `Job` read and written in place, for `settle`'s hot path: instead of
//! deserializing the whole account (every slot) and serializing it back,
//! `settle` checks the account like `Account<Job>` would (owner,
//! discriminator, length), reads the few header fields it needs and each
//! listed slot (76 bytes), and writes back only what a payout changes
//! (`hours_paid`, `tail_paid`, `fees_accrued`). The layout is the Borsh one
//! of [`Job`] (no change on chain); the tests below pin every offset against
//! Borsh itself.
use anchor_lang::prelude::*;
use anchor_lang::error::ErrorCode;
use anchor_lang::Discriminator;

use crate::errors::EscrowError;
use crate::state::{Job, JobState, WorkerSlot, WorkerStatus};

pub const MARKET: usize = 8;
pub const CUSTOMER: usize = 40;
pub const JOB_ID: usize = 72;
pub const STATE: usize = crate::state::JOB_STATE_OFFSET; // 80
pub const FEE_BPS: usize = 81;
pub const BUMP: usize = 115;
pub const VAULT_BUMP: usize = 116;
pub const FEES_ACCRUED: usize = 125;
pub const WORKERS_LEN: usize = 149;
pub const WORKERS: usize = 153;
pub const SLOT_LEN: usize = WorkerSlot::INIT_SPACE;
/// Offsets inside one slot.
pub const SLOT_HOURS_PAID: usize = 52;
pub const SLOT_TAIL_PAID: usize = 75;

const _: () = assert!(WORKERS == Job::space(0) && SLOT_LEN == 76);

fn u64_at(d: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[at..at + 8]);
    u64::from_le_bytes(b)
}

/// The checks `Account<Job>` makes, with the same errors: initialized,
/// owned by this program, `Job` discriminator; plus a length that holds
/// every slot the header announces (`AccountDidNotDeserialize` otherwise).
/// For an `#[account(constraint = ...)]`: `Ok(true)` or an error.
pub fn check_job(info: &AccountInfo) -> Result<bool> {
    if *info.owner == anchor_lang::system_program::ID && info.lamports() == 0 {
        return err!(ErrorCode::AccountNotInitialized);
    }
    if *info.owner != crate::ID {
        return Err(Error::from(ErrorCode::AccountOwnedByWrongProgram).with_pubkeys((*info.owner, crate::ID)));
    }
    let d = info.try_borrow_data()?;
    if d.len() < Job::DISCRIMINATOR.len() {
        return err!(ErrorCode::AccountDiscriminatorNotFound);
    }
    if &d[..8] != Job::DISCRIMINATOR {
        return err!(ErrorCode::AccountDiscriminatorMismatch);
    }
    require!(d.len() >= WORKERS, ErrorCode::AccountDidNotDeserialize);
    let n = u32::from_le_bytes([d[WORKERS_LEN], d[WORKERS_LEN + 1], d[WORKERS_LEN + 2], d[WORKERS_LEN + 3]]) as usize;
    require!(n <= (d.len() - WORKERS) / SLOT_LEN, ErrorCode::AccountDidNotDeserialize);
    Ok(true)
}

/// The vault bump of a job account that passed [`check_job`].
pub fn vault_bump(info: &AccountInfo) -> u8 {
    info.try_borrow_data().map(|d| d[VAULT_BUMP]).unwrap_or(0)
}

/// What `settle` reads once from a job's header.
pub struct Header {
    pub market: Pubkey,
    pub customer: Pubkey,
    pub job_id: u64,
    pub state: JobState,
    pub fee_bps: u16,
    pub bump: u8,
    pub workers: usize,
}

impl Header {
    pub fn read(d: &[u8]) -> Result<Self> {
        let state = match d[STATE] {
            0 => JobState::Open,
            1 => JobState::Ended,
            _ => return err!(ErrorCode::AccountDidNotDeserialize),
        };
        let n = u32::from_le_bytes([d[WORKERS_LEN], d[WORKERS_LEN + 1], d[WORKERS_LEN + 2], d[WORKERS_LEN + 3]]);
        Ok(Self {
            market: Pubkey::new_from_array(d[MARKET..MARKET + 32].try_into().unwrap()),
            customer: Pubkey::new_from_array(d[CUSTOMER..CUSTOMER + 32].try_into().unwrap()),
            job_id: u64_at(d, JOB_ID),
            state,
            fee_bps: u16::from_le_bytes([d[FEE_BPS], d[FEE_BPS + 1]]),
            bump: d[BUMP],
            workers: n as usize,
        })
    }
}

fn slot_at(slot: usize) -> usize {
    WORKERS + slot * SLOT_LEN
}

/// Slot `slot` (bounds checked against the header's count), read field by
/// field at its Borsh offsets (an unknown status byte is refused as Borsh
/// would).
pub fn read_slot(d: &[u8], workers: usize, slot: usize) -> Result<WorkerSlot> {
    require!(slot < workers, EscrowError::InvalidSlot);
    let at = slot_at(slot);
    let d = &d[at..at + SLOT_LEN];
    let status = match d[64] {
        0 => WorkerStatus::Pending,
        1 => WorkerStatus::Active,
        2 => WorkerStatus::Quit,
        3 => WorkerStatus::Declined,
        4 => WorkerStatus::Released,
        5 => WorkerStatus::Lapsed,
        _ => return err!(ErrorCode::AccountDidNotDeserialize),
    };
    let tail_paid = match d[SLOT_TAIL_PAID] {
        0 => false,
        1 => true,
        _ => return err!(ErrorCode::AccountDidNotDeserialize),
    };
    Ok(WorkerSlot {
        worker: Pubkey::new_from_array(d[0..32].try_into().unwrap()),
        rate_per_hour: u64_at(d, 32),
        usd_rate_per_hour: u64_at(d, 40),
        hours: u32::from_le_bytes([d[48], d[49], d[50], d[51]]),
        hours_paid: u32::from_le_bytes([d[52], d[53], d[54], d[55]]),
        start_ts: u64_at(d, 56) as i64,
        status,
        tail_secs: u16::from_le_bytes([d[65], d[66]]),
        tail_pay: u64_at(d, 67),
        tail_paid,
    })
}

/// Writes back what a payout changes in slot `slot`: `hours_paid` and
/// `tail_paid` (the only fields `take_due` moves).
pub fn write_paid(d: &mut [u8], slot: usize, s: &WorkerSlot) {
    let at = slot_at(slot);
    d[at + SLOT_HOURS_PAID..at + SLOT_HOURS_PAID + 4].copy_from_slice(&s.hours_paid.to_le_bytes());
    d[at + SLOT_TAIL_PAID] = s.tail_paid as u8;
}

/// Adds `fee` to the job's `fees_accrued` (checked).
pub fn add_fees(d: &mut [u8], fee: u64) -> Result<()> {
    let total = u64_at(d, FEES_ACCRUED).checked_add(fee).ok_or(EscrowError::MathOverflow)?;
    d[FEES_ACCRUED..FEES_ACCRUED + 8].copy_from_slice(&total.to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            market: Pubkey::new_unique(),
            customer: Pubkey::new_unique(),
            job_id: 0x0102_0304_0506_0708,
            state: JobState::Ended,
            fee_bps: 0x0a0b,
            hours: 7,
            created_ts: -5,
            ended_ts: 9,
            usd_price: 11,
            usd_expo: -8,
            bump: 0xfd,
            vault_bump: 0xfc,
            accept_deadline: 77,
            fees_accrued: 1_000,
            reserved: [0; 16],
            workers: (0..3u32)
                .map(|i| WorkerSlot {
                    worker: Pubkey::new_unique(),
                    rate_per_hour: 1_000 + i as u64,
                    usd_rate_per_hour: 5,
                    hours: 10 + i,
                    hours_paid: i,
                    start_ts: 100 + i as i64,
                    status: WorkerStatus::Active,
                    tail_secs: 17,
                    tail_pay: 33,
                    tail_paid: false,
                })
                .collect(),
        }
    }

    fn bytes(j: &Job) -> Vec<u8> {
        let mut d = Job::DISCRIMINATOR.to_vec();
        j.serialize(&mut d).unwrap();
        assert_eq!(d.len(), Job::space(j.workers.len()));
        d
    }

    #[test]
    fn offsets_match_borsh() {
        let j = job();
        let d = bytes(&j);
        let h = Header::read(&d).unwrap();
        assert_eq!((h.market, h.customer, h.job_id, h.state, h.fee_bps, h.bump, h.workers),
                   (j.market, j.customer, j.job_id, j.state, j.fee_bps, j.bump, 3));
        assert_eq!(d[VAULT_BUMP], j.vault_bump);
        for i in 0..3 {
            assert_eq!(read_slot(&d, 3, i).unwrap(), j.workers[i]);
        }
        assert!(read_slot(&d, 3, 3).is_err());
        let mut j = job();
        for (k, st) in [WorkerStatus::Pending, WorkerStatus::Active, WorkerStatus::Quit, WorkerStatus::Declined,
                        WorkerStatus::Released, WorkerStatus::Lapsed].into_iter().enumerate() {
            j.workers[k % 3].status = st;
            j.workers[k % 3].tail_paid = k % 2 == 0;
            j.workers[k % 3].start_ts = -(k as i64);
            let d = bytes(&j);
            assert_eq!(read_slot(&d, 3, k % 3).unwrap(), j.workers[k % 3]);
        }
        let mut bad = bytes(&j);
        bad[WORKERS + 64] = 6;
        assert!(read_slot(&bad, 3, 0).is_err());
        let mut bad = bytes(&j);
        bad[WORKERS + SLOT_TAIL_PAID] = 2;
        assert!(read_slot(&bad, 3, 0).is_err());
    }

    #[test]
    fn writes_match_borsh() {
        let mut j = job();
        let mut d = bytes(&j);
        let mut s = j.workers[1];
        s.hours_paid = 0xdead_beef;
        s.tail_paid = true;
        write_paid(&mut d, 1, &s);
        add_fees(&mut d, 234).unwrap();
        j.workers[1] = s;
        j.fees_accrued += 234;
        assert_eq!(d, bytes(&j));
        let mut d2 = d.clone();
        d2[FEES_ACCRUED..FEES_ACCRUED + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(add_fees(&mut d2, 1).is_err());
    }
}
