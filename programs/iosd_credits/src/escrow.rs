//! The job_escrow interface this program calls, written by hand (as the SPL
//! Token CPIs are): instruction discriminators and argument encodings from
//! `idl/job_escrow.json` (accounts in the order of job_escrow's `Accounts`
//! structs, `#[event_cpi]`'s event authority and program last), the
//! `Market` and `Job` fields read, the booking cost
//! (`job_escrow::math::booking_cost`, mirrored in `math.rs`) and the job's
//! account size. Depending on the job_escrow crate with its `cpi` feature
//! would link a second, entrypoint-less job_escrow .so, which our SBPF
//! linker refuses. tests/credits check every call against the compiled
//! job_escrow, and `open_job_with_credits` verifies the amount it took.
use anchor_lang::prelude::*;

use token_cpi::{CInfo, CMeta};

use crate::errors::CreditsError;

pub const ESCROW_PROGRAM_ID: Pubkey = pubkey!("B5T8K3qFKCuKxUXnxs6QY24Legzn6KoQXr5hr1E2oksG");

const IX_OPEN_JOB_FUNDED: [u8; 8] = [198, 145, 130, 251, 9, 2, 87, 70];
const IX_END_JOB: [u8; 8] = [129, 132, 152, 108, 175, 139, 140, 46];
const IX_CANCEL: [u8; 8] = [232, 219, 223, 41, 219, 236, 220, 190];
const IX_CLOSE_JOB: [u8; 8] = [90, 100, 180, 200, 200, 163, 120, 182];
const MARKET_DISCRIMINATOR: [u8; 8] = [219, 190, 213, 55, 0, 227, 198, 154];
const JOB_DISCRIMINATOR: [u8; 8] = [75, 124, 80, 203, 161, 180, 202, 80];

/// `Program<'info, JobEscrow>`: the job_escrow program only.
#[derive(Clone)]
pub struct JobEscrow;

impl anchor_lang::Id for JobEscrow {
    fn id() -> Pubkey {
        ESCROW_PROGRAM_ID
    }
}

/// job_escrow's `WorkerTerms` (same borsh layout).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, PartialEq, Eq, Debug)]
pub struct WorkerTerms {
    pub worker: Pubkey,
    /// Base units of the stablecoin (= micro-USD) per hour.
    pub rate_per_hour: u64,
}

/// `Job::space(n)`: discriminator, fixed fields (153 bytes with the vec
/// length) and 76 bytes per `WorkerSlot` (worker 32, rate 8, USD rate 8,
/// hours 4, hours paid 4, start 8, status 1, tail secs 2, tail pay 8, tail
/// paid 1).
pub const fn job_space(n_workers: usize) -> usize {
    153 + 76 * n_workers
}

/// The `Market` fields this program relies on: (mint, fee_bps).
pub fn read_market(owner: &Pubkey, data: &[u8]) -> Result<(Pubkey, u16)> {
    require_keys_eq!(*owner, ESCROW_PROGRAM_ID, CreditsError::InvalidMarket);
    require!(data.len() >= 106 && data[..8] == MARKET_DISCRIMINATOR, CreditsError::InvalidMarket);
    // authority 8..40, mint 40..72, treasury 72..104, fee_bps 104..106 (fields
    // added since, e.g. pending_authority, come after these).
    Ok((
        Pubkey::new_from_array(data[40..72].try_into().unwrap()),
        u16::from_le_bytes([data[104], data[105]]),
    ))
}

/// Offsets in a `Job` account (borsh, after the 8-byte discriminator):
/// market 8..40, customer 40..72, job_id 72..80, state 80, fee_bps 81..83,
/// hours 83..87, created_ts 87..95, ended_ts 95..103, usd_price 103..111,
/// usd_expo 111..115, bump 115, vault_bump 116, accept_deadline 117..125,
/// fees_accrued 125..133, reserved 133..149, the slots' vec length 149..153,
/// then the `WorkerSlot`s (`job_space`).
const JOB_CUSTOMER: usize = 40;
const JOB_FEE_BPS: usize = 81;
const JOB_WORKERS_LEN: usize = 149;
const JOB_WORKERS: usize = job_space(0);
/// In a `WorkerSlot`: worker 0..32, rate_per_hour 32..40, usd_rate 40..48,
/// hours 48..52, hours_paid 52..56, start_ts 56..64, status 64, tail_secs
/// 65..67, tail_pay 67..75, tail_paid 75.
const SLOT_LEN: usize = 76;
const SLOT_RATE: usize = 32;
const SLOT_HOURS_PAID: usize = 52;
const SLOT_TAIL_PAY: usize = 67;
const SLOT_TAIL_PAID: usize = 75;

/// What a worker slot of a job was paid so far: job_escrow's `paid_pay` is
/// `rate_per_hour * hours_paid + (tail_pay if tail_paid)`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct PaidSlot {
    pub rate_per_hour: u64,
    pub hours_paid: u32,
    pub tail_pay: u64,
    pub tail_paid: bool,
}

/// The `Job` fields this program relies on at close: its fee snapshot and
/// what each slot was paid. The account must be a job_escrow `Job` (owner
/// and discriminator) whose customer is `customer`, else `WrongJob`.
pub fn read_job(job: &AccountInfo, customer: &Pubkey) -> Result<(u16, Vec<PaidSlot>)> {
    require_keys_eq!(*job.owner, ESCROW_PROGRAM_ID, CreditsError::WrongJob);
    let data = job.try_borrow_data()?;
    require!(
        data.len() >= JOB_WORKERS
            && data[..8] == JOB_DISCRIMINATOR
            && data[JOB_CUSTOMER..JOB_CUSTOMER + 32] == customer.as_ref()[..],
        CreditsError::WrongJob
    );
    let u64_at = |i: usize| u64::from_le_bytes(data[i..i + 8].try_into().unwrap());
    let u32_at = |i: usize| u32::from_le_bytes(data[i..i + 4].try_into().unwrap());
    let fee_bps = u16::from_le_bytes([data[JOB_FEE_BPS], data[JOB_FEE_BPS + 1]]);
    let n = u32_at(JOB_WORKERS_LEN) as usize;
    // n < 2^32 and SLOT_LEN < 2^7: no overflow in usize (64-bit).
    require!(data.len() >= JOB_WORKERS + n * SLOT_LEN, CreditsError::WrongJob);
    let slots = (0..n)
        .map(|k| {
            let s = JOB_WORKERS + k * SLOT_LEN;
            PaidSlot {
                rate_per_hour: u64_at(s + SLOT_RATE),
                hours_paid: u32_at(s + SLOT_HOURS_PAID),
                tail_pay: u64_at(s + SLOT_TAIL_PAY),
                tail_paid: data[s + SLOT_TAIL_PAID] != 0,
            }
        })
        .collect();
    Ok((fee_bps, slots))
}

/// `open_job_funded` instruction data up to the workers: `usd = false`
/// (credits are token-priced); the Borsh `Vec<WorkerTerms>` follows.
pub fn open_job_funded_head(job_id: u64, hours: u32, accept_window: u32, max_total: u64) -> [u8; 33] {
    let mut d = [0u8; 33];
    d[..8].copy_from_slice(&IX_OPEN_JOB_FUNDED);
    d[8..16].copy_from_slice(&job_id.to_le_bytes());
    d[16..20].copy_from_slice(&hours.to_le_bytes());
    d[20] = 0; // usd = false
    d[21..25].copy_from_slice(&accept_window.to_le_bytes());
    d[25..33].copy_from_slice(&max_total.to_le_bytes());
    d
}

/// `(writable, signer)` of `open_job_funded`'s accounts in job_escrow's
/// order, event authority and program included (checked against
/// job_escrow's `to_account_metas` by the unit tests).
pub const OPEN_JOB_FUNDED_ACCOUNTS: [(bool, bool); 12] = [
    (true, true),   // customer (the customer PDA)
    (false, true),  // funder (the config PDA)
    (true, false),  // market
    (false, false), // mint
    (true, false),  // job
    (true, false),  // vault
    (true, false),  // funder_token (the reserve vault)
    (false, false), // price_feed: absent, so job_escrow's program id
    (false, false), // token_program
    (false, false), // system_program
    (false, false), // event_authority
    (false, false), // program
];

/// The accounts of an `open_job_funded` call, in job_escrow's order.
pub struct OpenJobFunded<'a> {
    pub customer: &'a CInfo,
    pub funder: &'a CInfo,
    pub market: &'a CInfo,
    pub mint: &'a CInfo,
    pub job: &'a CInfo,
    pub vault: &'a CInfo,
    pub funder_token: &'a CInfo,
    pub escrow_program: &'a CInfo,
    pub token_program: &'a CInfo,
    pub system_program: &'a CInfo,
    pub escrow_event_authority: &'a CInfo,
}

/// `open_job_funded(job_id, hours, usd = false, accept_window, max_total,
/// workers)` (`data`: [`open_job_funded_data`]): the job is `customer`'s,
/// the deposit leaves `funder_token` signed by `funder` (both PDAs of this
/// program signing through `seeds`); no price feed (token-priced:
/// `max_total` is exact). Through the C ABI ([`token_cpi::invoke_c`]): no
/// `Instruction` on the heap, no `AccountInfo` clones.
pub fn open_job_funded(a: &OpenJobFunded, data: &[u8], seeds: &[&[&[u8]]]) -> Result<()> {
    let order = [
        a.customer, a.funder, a.market, a.mint, a.job, a.vault, a.funder_token, a.escrow_program, a.token_program,
        a.system_program, a.escrow_event_authority, a.escrow_program,
    ];
    let metas: [CMeta; 12] = core::array::from_fn(|i| {
        CMeta::of(order[i], OPEN_JOB_FUNDED_ACCOUNTS[i].0, OPEN_JOB_FUNDED_ACCOUNTS[i].1)
    });
    let infos = [
        *a.customer, *a.funder, *a.market, *a.mint, *a.job, *a.vault, *a.funder_token, *a.escrow_program,
        *a.token_program, *a.system_program, *a.escrow_event_authority,
    ];
    token_cpi::invoke_c(&ESCROW_PROGRAM_ID, &metas, &infos, data, seeds)
}

/// `end_job` instruction data.
pub fn end_job_data(slots: &[u8]) -> Result<Vec<u8>> {
    let mut data = IX_END_JOB.to_vec();
    slots.to_vec().serialize(&mut data)?;
    Ok(data)
}

/// The accounts every job_escrow call of ours passes, in its order.
pub struct EscrowCall<'a, 'info> {
    pub program: &'a AccountInfo<'info>,
    pub event_authority: &'a AccountInfo<'info>,
    pub token_program: &'a AccountInfo<'info>,
}

impl<'a, 'info> EscrowCall<'a, 'info> {
    /// Through the C ABI ([`token_cpi::invoke_c`]): no `Instruction` built,
    /// no `AccountInfo` cloned. No caller holds a borrow of these accounts.
    fn invoke(&self, data: Vec<u8>, accounts: Vec<(&AccountInfo<'info>, bool, bool)>,
              remaining: &[AccountInfo<'info>], seeds: &[&[&[u8]]]) -> Result<()> {
        let n = accounts.len() + 2 + remaining.len();
        let mut metas: Vec<CMeta> = Vec::with_capacity(n);
        let mut infos: Vec<CInfo> = Vec::with_capacity(n);
        for (a, w, s) in &accounts {
            metas.push(CMeta::new(a, *w, *s));
            infos.push(CInfo::new(a));
        }
        metas.push(CMeta::new(self.event_authority, false, false));
        metas.push(CMeta::new(self.program, false, false));
        infos.push(CInfo::new(self.event_authority));
        infos.push(CInfo::new(self.program));
        for a in remaining {
            metas.push(CMeta::new(a, a.is_writable, false));
            infos.push(CInfo::new(a));
        }
        token_cpi::invoke_c(&ESCROW_PROGRAM_ID, &metas, &infos, &data, seeds)
    }

    /// `end_job(slots)`: `remaining` are the token accounts of `slots`.
    /// No market or treasury: fees stay in the job until swept or closed.
    #[allow(clippy::too_many_arguments)]
    pub fn end_job(
        &self,
        customer: &AccountInfo<'info>,
        job: &AccountInfo<'info>,
        vault: &AccountInfo<'info>,
        customer_token: &AccountInfo<'info>,
        slots: Vec<u8>,
        remaining: &[AccountInfo<'info>],
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        let data = end_job_data(&slots)?;
        self.invoke(
            data,
            vec![
                (customer, false, true),
                (job, true, false),
                (vault, true, false),
                (customer_token, true, false),
                (self.token_program, false, false),
            ],
            remaining,
            seeds,
        )
    }

    /// `cancel`: the whole deposit back to `customer_token`, the job's rent
    /// to the customer.
    pub fn cancel(
        &self,
        customer: &AccountInfo<'info>,
        job: &AccountInfo<'info>,
        vault: &AccountInfo<'info>,
        customer_token: &AccountInfo<'info>,
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        self.invoke(
            IX_CANCEL.to_vec(),
            vec![
                (customer, true, true),
                (job, true, false),
                (vault, true, false),
                (customer_token, true, false),
                (self.token_program, false, false),
            ],
            &[],
            seeds,
        )
    }

    /// `close_job`: the job's accrued fees go to the market's fee vault,
    /// stray tokens to `customer_token`, the rent to the customer.
    #[allow(clippy::too_many_arguments)]
    pub fn close_job(
        &self,
        customer: &AccountInfo<'info>,
        job: &AccountInfo<'info>,
        market: &AccountInfo<'info>,
        fee_vault: &AccountInfo<'info>,
        vault: &AccountInfo<'info>,
        customer_token: &AccountInfo<'info>,
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        self.invoke(
            IX_CLOSE_JOB.to_vec(),
            vec![
                (customer, true, true),
                (job, true, false),
                (market, false, false),
                (fee_vault, true, false),
                (vault, true, false),
                (customer_token, true, false),
                (self.token_program, false, false),
            ],
            &[],
            seeds,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchor_lang::{AccountSerialize, Discriminator, InstructionData};
    use job_escrow::{instruction as ix, state as es};

    #[test]
    fn discriminators_and_program_id_are_job_escrows() {
        assert_eq!(job_escrow::ID, ESCROW_PROGRAM_ID);
        assert_eq!(ix::OpenJobFunded::DISCRIMINATOR, &IX_OPEN_JOB_FUNDED[..]);
        assert_eq!(ix::EndJob::DISCRIMINATOR, &IX_END_JOB[..]);
        assert_eq!(ix::Cancel::DISCRIMINATOR, &IX_CANCEL[..]);
        assert_eq!(ix::CloseJob::DISCRIMINATOR, &IX_CLOSE_JOB[..]);
        assert_eq!(es::Market::DISCRIMINATOR, &MARKET_DISCRIMINATOR[..]);
        assert_eq!(ix::Cancel {}.data(), IX_CANCEL.to_vec());
        assert_eq!(ix::CloseJob {}.data(), IX_CLOSE_JOB.to_vec());
    }

    #[test]
    fn open_job_funded_accounts_match_job_escrows() {
        use anchor_lang::ToAccountMetas;
        let k = |i: u8| Pubkey::new_from_array([i; 32]);
        let theirs = job_escrow::accounts::OpenJobFunded {
            customer: k(1), funder: k(2), market: k(3), mint: k(4), job: k(5), vault: k(6), funder_token: k(7),
            price_feed: None, token_program: k(8), system_program: k(9), event_authority: k(10),
            program: ESCROW_PROGRAM_ID,
        }
        .to_account_metas(None);
        let keys = [k(1), k(2), k(3), k(4), k(5), k(6), k(7), ESCROW_PROGRAM_ID, k(8), k(9), k(10), ESCROW_PROGRAM_ID];
        let ours: Vec<AccountMeta> = keys
            .iter()
            .zip(OPEN_JOB_FUNDED_ACCOUNTS)
            .map(|(key, (w, s))| if w { AccountMeta::new(*key, s) } else { AccountMeta::new_readonly(*key, s) })
            .collect();
        assert_eq!(ours, theirs);
    }

    #[test]
    fn instruction_data_matches_job_escrows_encoding() {
        let w = |i: u8, rate: u64| (WorkerTerms { worker: Pubkey::new_from_array([i; 32]), rate_per_hour: rate },
                                    es::WorkerTerms { worker: Pubkey::new_from_array([i; 32]), rate_per_hour: rate });
        let (ours, theirs): (Vec<_>, Vec<_>) = [w(1, 3_000_000), w(2, u64::MAX)].into_iter().unzip();
        let expected = ix::OpenJobFunded {
            job_id: u64::MAX - 1,
            hours: 720,
            usd: false,
            accept_window: 86_400,
            max_total: 1_234_567,
            workers: theirs,
        }
        .data();
        let mut data = open_job_funded_head(u64::MAX - 1, 720, 86_400, 1_234_567).to_vec();
        ours.serialize(&mut data).unwrap();
        assert_eq!(data, expected);
        let slots = vec![0u8, 3, 12];
        assert_eq!(end_job_data(&slots).unwrap(), ix::EndJob { slots: slots.clone() }.data());
    }

    #[test]
    fn job_space_is_job_escrows() {
        for n in 0..=es::MAX_WORKERS_CAP as usize {
            assert_eq!(job_space(n), es::Job::space(n), "{n} workers");
        }
    }

    #[test]
    fn reads_mint_and_fee_from_job_escrows_market() {
        let market = es::Market {
            authority: Pubkey::new_from_array([1; 32]),
            mint: Pubkey::new_from_array([9; 32]),
            treasury: Pubkey::new_from_array([2; 32]),
            fee_bps: 250,
            max_workers: 13,
            max_hours: 720,
            paused: false,
            bump: 254,
            job_count: 5,
            oracle: Pubkey::default(),
            max_staleness: 6,
            max_conf_bps: 7,
            pending_authority: Pubkey::new_from_array([3; 32]),
            fee_vault_bump: 253,
            reserved: [0; 31],
        };
        let mut data = Vec::new();
        market.try_serialize(&mut data).unwrap();
        assert_eq!(read_market(&ESCROW_PROGRAM_ID, &data).unwrap(), (market.mint, 250));
        let invalid = |r: Result<(Pubkey, u16)>| matches!(r, Err(Error::AnchorError(e)) if e.error_name == "InvalidMarket");
        assert!(invalid(read_market(&crate::ID, &data)));
        assert!(invalid(read_market(&ESCROW_PROGRAM_ID, &data[..105])));
        let mut job = data.clone();
        job[..8].copy_from_slice(&JOB_DISCRIMINATOR);
        assert!(invalid(read_market(&ESCROW_PROGRAM_ID, &job)));
    }

    /// A small deterministic generator (no dev-dependency for randomness).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    const H: i64 = 3_600;

    fn job(customer: Pubkey, fee_bps: u16, slots: Vec<es::WorkerSlot>) -> es::Job {
        es::Job {
            market: Pubkey::new_from_array([1; 32]),
            customer,
            job_id: 42,
            state: es::JobState::Open,
            fee_bps,
            hours: 9,
            created_ts: 11,
            ended_ts: 0,
            usd_price: -3,
            usd_expo: -8,
            bump: 254,
            vault_bump: 253,
            accept_deadline: 77,
            fees_accrued: 123,
            reserved: [0xAB; 16],
            workers: slots,
        }
    }

    fn slot(rng: &mut Rng, k: u8) -> es::WorkerSlot {
        let statuses = [
            es::WorkerStatus::Pending,
            es::WorkerStatus::Active,
            es::WorkerStatus::Quit,
            es::WorkerStatus::Declined,
            es::WorkerStatus::Released,
            es::WorkerStatus::Lapsed,
        ];
        es::WorkerSlot {
            worker: Pubkey::new_from_array([k; 32]),
            rate_per_hour: [0, 1, u64::MAX, rng.next(), rng.below(10_000_000)][rng.below(5) as usize],
            usd_rate_per_hour: rng.next(),
            hours: rng.next() as u32,
            hours_paid: [0, u32::MAX, rng.next() as u32][rng.below(3) as usize],
            start_ts: rng.next() as i64,
            status: statuses[rng.below(6) as usize],
            tail_secs: rng.below(3_600) as u16,
            tail_pay: rng.next(),
            tail_paid: rng.below(2) == 1,
        }
    }

    fn serialize(job: &es::Job) -> Vec<u8> {
        let mut data = Vec::new();
        job.try_serialize(&mut data).unwrap();
        data
    }

    fn read(data: &mut [u8], owner: &Pubkey, customer: &Pubkey) -> Result<(u16, Vec<PaidSlot>)> {
        let key = Pubkey::new_from_array([7; 32]);
        let mut lamports = 0u64;
        let info = AccountInfo::new(&key, false, false, &mut lamports, data, owner, false);
        read_job(&info, customer)
    }

    #[test]
    fn reads_fee_and_paid_slots_from_job_escrows_job() {
        assert_eq!(es::Job::DISCRIMINATOR, &JOB_DISCRIMINATOR[..]);
        assert_eq!(es::WorkerSlot::INIT_SPACE, SLOT_LEN);
        assert_eq!(es::JOB_STATE_OFFSET + 1, JOB_FEE_BPS);
        // The offsets job_escrow's own in-place reader uses (where it has them).
        use job_escrow::raw;
        assert_eq!(
            (raw::CUSTOMER, raw::FEE_BPS, raw::WORKERS_LEN, raw::WORKERS, raw::SLOT_LEN),
            (JOB_CUSTOMER, JOB_FEE_BPS, JOB_WORKERS_LEN, JOB_WORKERS, SLOT_LEN)
        );
        assert_eq!((raw::SLOT_HOURS_PAID, raw::SLOT_TAIL_PAID), (SLOT_HOURS_PAID, SLOT_TAIL_PAID));
        let customer = Pubkey::new_from_array([5; 32]);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for n in 0..=es::MAX_WORKERS_CAP as u8 {
            for _ in 0..20 {
                let fee_bps = [0, 1, 250, 10_000, rng.next() as u16][rng.below(5) as usize];
                let j = job(customer, fee_bps, (0..n).map(|k| slot(&mut rng, k)).collect());
                let mut data = serialize(&j);
                assert_eq!(data.len(), job_space(n as usize));
                let (bps, slots) = read(&mut data, &ESCROW_PROGRAM_ID, &customer).unwrap();
                assert_eq!(bps, fee_bps);
                let expected: Vec<PaidSlot> = j
                    .workers
                    .iter()
                    .map(|s| PaidSlot {
                        rate_per_hour: s.rate_per_hour,
                        hours_paid: s.hours_paid,
                        tail_pay: s.tail_pay,
                        tail_paid: s.tail_paid,
                    })
                    .collect();
                assert_eq!(slots, expected, "{n} workers");
            }
        }
    }

    #[test]
    fn read_job_refuses_anything_but_this_customers_job() {
        let customer = Pubkey::new_from_array([5; 32]);
        let mut rng = Rng(7);
        let j = job(customer, 250, (0..3).map(|k| slot(&mut rng, k)).collect());
        let is_wrong_job = |r: Result<(u16, Vec<PaidSlot>)>| {
            matches!(r, Err(Error::AnchorError(e)) if e.error_name == "WrongJob")
        };
        assert!(read(&mut serialize(&j), &ESCROW_PROGRAM_ID, &customer).is_ok());
        // Another owner, another customer.
        assert!(is_wrong_job(read(&mut serialize(&j), &crate::ID, &customer)));
        assert!(is_wrong_job(read(&mut serialize(&j), &ESCROW_PROGRAM_ID, &Pubkey::new_from_array([6; 32]))));
        // Another job_escrow account (the market), or a bad discriminator.
        let mut data = serialize(&j);
        data[..8].copy_from_slice(&MARKET_DISCRIMINATOR);
        assert!(is_wrong_job(read(&mut data, &ESCROW_PROGRAM_ID, &customer)));
        // Truncated: before the slots, or fewer slots than its length says.
        let data = serialize(&j);
        assert!(is_wrong_job(read(&mut data[..JOB_WORKERS - 1].to_vec(), &ESCROW_PROGRAM_ID, &customer)));
        assert!(is_wrong_job(read(&mut data[..data.len() - 1].to_vec(), &ESCROW_PROGRAM_ID, &customer)));
        let mut data = serialize(&j);
        data[JOB_WORKERS_LEN..JOB_WORKERS].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(is_wrong_job(read(&mut data, &ESCROW_PROGRAM_ID, &customer)));
    }

    fn spent_of(j: &es::Job) -> u64 {
        let mut data = serialize(j);
        let (fee_bps, slots) = read(&mut data, &ESCROW_PROGRAM_ID, &j.customer).unwrap();
        crate::math::job_spent(
            fee_bps,
            slots.iter().map(|s| (s.rate_per_hour, s.hours_paid, if s.tail_paid { s.tail_pay } else { 0 })),
        )
        .unwrap()
    }

    /// Random jobs run through job_escrow's own payout code (hourly
    /// settlements, quits, releases, the end, the final settlement): at
    /// close, what the hand reader and `job_spent` compute is exactly what
    /// left the vault to the workers plus the fees accrued, i.e. what was
    /// locked minus everything refunded; and per slot `paid_pay + fee_for`.
    #[test]
    fn job_spent_is_what_job_escrow_paid_out() {
        use job_escrow::{math as em, payout};
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let (mut with_refund, mut with_tail) = (0, 0);
        for round in 0..2_000 {
            let n = 1 + rng.below(es::MAX_WORKERS_CAP as u64) as u8;
            let fee_bps = [0, 1, 250, 9_999, 10_000, rng.below(10_001) as u16][rng.below(6) as usize];
            let hours = 1 + rng.below(50) as u32;
            let big = round % 10 == 0;
            let slots: Vec<es::WorkerSlot> = (0..n)
                .map(|k| es::WorkerSlot {
                    worker: Pubkey::new_from_array([k; 32]),
                    // Large rates now and then: up to 13 slots x 50 h, pay + fee <= 2 pay
                    // (the booking must fit in u64).
                    rate_per_hour: if big { u64::MAX / 2 / 50 / 13 - rng.below(1_000) } else { 1 + rng.below(10_000_000) },
                    usd_rate_per_hour: 0,
                    hours,
                    hours_paid: 0,
                    start_ts: 0,
                    status: es::WorkerStatus::Pending,
                    tail_secs: 0,
                    tail_pay: 0,
                    tail_paid: false,
                })
                .collect();
            let mut j = job(Pubkey::new_from_array([5; 32]), fee_bps, slots);
            j.fees_accrued = 0;
            let rates: Vec<u64> = j.workers.iter().map(|s| s.rate_per_hour).collect();
            let (principal, fee) = em::booking_cost(rates, hours, fee_bps).unwrap();
            let locked = principal + fee;
            assert_eq!(payout::vault_owed(&j).unwrap(), locked);
            let (mut paid, mut refunded) = (0u64, 0u64);
            let mut now = 0i64;
            for k in 0..n as usize {
                if rng.below(4) != 0 {
                    j.workers[k].status = es::WorkerStatus::Active;
                    j.workers[k].start_ts = rng.below(2 * H as u64) as i64;
                }
            }
            for _ in 0..rng.below(6) {
                now += rng.below(3 * H as u64) as i64;
                let k = rng.below(n as u64) as usize;
                match rng.below(4) {
                    0 | 1 => paid += payout::take_due(&mut j, k, now).unwrap().amount,
                    2 => {
                        // quit (rounded down) or release (rounded up)
                        let quit = rng.below(2) == 0;
                        let (pay, fee) = payout::cut_to_earned(&mut j, k, now, !quit).unwrap();
                        refunded += pay + fee;
                        let s = &mut j.workers[k];
                        s.status = match (s.status, quit) {
                            (es::WorkerStatus::Pending, true) => es::WorkerStatus::Declined,
                            (es::WorkerStatus::Pending, false) => es::WorkerStatus::Lapsed,
                            (es::WorkerStatus::Active, true) => es::WorkerStatus::Quit,
                            (es::WorkerStatus::Active, false) => es::WorkerStatus::Released,
                            (other, _) => other,
                        };
                    }
                    _ => {}
                }
            }
            // end_job: every running slot cut (rounded up), then all paid.
            now += rng.below(3 * H as u64) as i64;
            for k in 0..n as usize {
                let (pay, fee) = payout::cut_to_earned(&mut j, k, now, true).unwrap();
                refunded += pay + fee;
            }
            j.state = es::JobState::Ended;
            for k in 0..n as usize {
                paid += payout::take_due(&mut j, k, now).unwrap().amount;
            }
            // job_escrow's close_job constraint holds, and the vault holds the fees only.
            assert!(j.workers.iter().all(|w| w.hours_paid == w.hours && (w.tail_secs == 0 || w.tail_paid)));
            assert_eq!(payout::vault_owed(&j).unwrap(), j.fees_accrued);
            let spent = spent_of(&j);
            assert_eq!(spent, paid + j.fees_accrued, "round {round}");
            assert_eq!(spent, locked - refunded, "round {round}");
            let per_slot: u64 = j
                .workers
                .iter()
                .map(|s| {
                    let p = payout::paid_pay(s).unwrap();
                    p + em::fee_for(p, fee_bps).unwrap()
                })
                .sum();
            assert_eq!(spent, per_slot);
            // Sweeping the fees before the close changes nothing: read from the slots.
            j.fees_accrued = 0;
            assert_eq!(spent_of(&j), spent);
            with_refund += (refunded > 0 && spent > 0) as u32;
            with_tail += j.workers.iter().any(|w| w.tail_paid && w.tail_pay > 0) as u32;
        }
        // Not vacuous: most jobs were partly paid and partly refunded, many with a tail.
        assert!(with_refund > 1_000 && with_tail > 500, "{with_refund} {with_tail}");
    }
}
