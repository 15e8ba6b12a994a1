//! The job_escrow interface this program calls, written by hand (as the SPL
//! Token CPIs are): instruction discriminators and argument encodings from
//! `idl/job_escrow.json` (accounts in the order of job_escrow's `Accounts`
//! structs, `#[event_cpi]`'s event authority and program last), the
//! `Market` fields read, the booking cost
//! (`job_escrow::math::booking_cost`, mirrored in `math.rs`) and the job's
//! account size. Depending on the job_escrow crate with its `cpi` feature
//! would link a second, entrypoint-less job_escrow .so, which our SBPF
//! linker refuses. tests/credits check every call against the compiled
//! job_escrow, and `open_job_with_credits` verifies the amount it took.
use anchor_lang::prelude::*;
use anchor_lang::solana_program::{instruction::Instruction, program::invoke_signed};

use crate::errors::CreditsError;

pub const ESCROW_PROGRAM_ID: Pubkey = pubkey!("B5T8K3qFKCuKxUXnxs6QY24Legzn6KoQXr5hr1E2oksG");

const IX_OPEN_JOB: [u8; 8] = [163, 204, 98, 140, 176, 150, 55, 123];
const IX_END_JOB: [u8; 8] = [129, 132, 152, 108, 175, 139, 140, 46];
const IX_CANCEL: [u8; 8] = [232, 219, 223, 41, 219, 236, 220, 190];
const IX_CLOSE_JOB: [u8; 8] = [90, 100, 180, 200, 200, 163, 120, 182];
const MARKET_DISCRIMINATOR: [u8; 8] = [219, 190, 213, 55, 0, 227, 198, 154];

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
pub fn read_market(market: &AccountInfo) -> Result<(Pubkey, u16)> {
    require_keys_eq!(*market.owner, ESCROW_PROGRAM_ID, CreditsError::InvalidMarket);
    let data = market.try_borrow_data()?;
    require!(data.len() >= 106 && data[..8] == MARKET_DISCRIMINATOR, CreditsError::InvalidMarket);
    // authority 8..40, mint 40..72, treasury 72..104, fee_bps 104..106 (fields
    // added since, e.g. pending_authority, come after these).
    Ok((
        Pubkey::new_from_array(data[40..72].try_into().unwrap()),
        u16::from_le_bytes([data[104], data[105]]),
    ))
}

/// `open_job` instruction data: `usd = false` (credits are token-priced).
pub fn open_job_data(job_id: u64, hours: u32, accept_window: u32, max_total: u64, workers: &[WorkerTerms])
    -> Result<Vec<u8>> {
    let mut data = IX_OPEN_JOB.to_vec();
    data.extend_from_slice(&job_id.to_le_bytes());
    data.extend_from_slice(&hours.to_le_bytes());
    data.push(0); // usd = false
    data.extend_from_slice(&accept_window.to_le_bytes());
    data.extend_from_slice(&max_total.to_le_bytes());
    workers.serialize(&mut data)?;
    Ok(data)
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

fn meta(info: &AccountInfo, writable: bool, signer: bool) -> AccountMeta {
    if writable {
        AccountMeta::new(info.key(), signer)
    } else {
        AccountMeta::new_readonly(info.key(), signer)
    }
}

impl<'a, 'info> EscrowCall<'a, 'info> {
    fn invoke(&self, data: Vec<u8>, accounts: Vec<(&AccountInfo<'info>, bool, bool)>,
              remaining: &[AccountInfo<'info>], seeds: &[&[&[u8]]]) -> Result<()> {
        let mut metas: Vec<AccountMeta> = accounts.iter().map(|(a, w, s)| meta(a, *w, *s)).collect();
        metas.push(meta(self.event_authority, false, false));
        metas.push(meta(self.program, false, false));
        metas.extend(remaining.iter().map(|a| meta(a, a.is_writable, false)));
        let mut infos: Vec<AccountInfo<'info>> = accounts.iter().map(|(a, _, _)| (*a).clone()).collect();
        infos.push(self.event_authority.clone());
        infos.push(self.program.clone());
        infos.extend(remaining.iter().cloned());
        let ix = Instruction { program_id: ESCROW_PROGRAM_ID, accounts: metas, data };
        invoke_signed(&ix, &infos, seeds).map_err(Into::into)
    }

    /// `open_job(job_id, hours, usd = false, accept_window, max_total,
    /// workers)`; no price feed (token-priced: `max_total` is exact).
    #[allow(clippy::too_many_arguments)]
    pub fn open_job(
        &self,
        customer: &AccountInfo<'info>,
        market: &AccountInfo<'info>,
        mint: &AccountInfo<'info>,
        job: &AccountInfo<'info>,
        vault: &AccountInfo<'info>,
        customer_token: &AccountInfo<'info>,
        system_program: &AccountInfo<'info>,
        job_id: u64,
        hours: u32,
        accept_window: u32,
        max_total: u64,
        workers: &[WorkerTerms],
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        let data = open_job_data(job_id, hours, accept_window, max_total, workers)?;
        // An absent optional account is passed as the program id itself.
        self.invoke(
            data,
            vec![
                (customer, true, true),
                (market, true, false),
                (mint, false, false),
                (job, true, false),
                (vault, true, false),
                (customer_token, true, false),
                (self.program, false, false),
                (self.token_program, false, false),
                (system_program, false, false),
            ],
            &[],
            seeds,
        )
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
        assert_eq!(ix::OpenJob::DISCRIMINATOR, &IX_OPEN_JOB[..]);
        assert_eq!(ix::EndJob::DISCRIMINATOR, &IX_END_JOB[..]);
        assert_eq!(ix::Cancel::DISCRIMINATOR, &IX_CANCEL[..]);
        assert_eq!(ix::CloseJob::DISCRIMINATOR, &IX_CLOSE_JOB[..]);
        assert_eq!(es::Market::DISCRIMINATOR, &MARKET_DISCRIMINATOR[..]);
        assert_eq!(ix::Cancel {}.data(), IX_CANCEL.to_vec());
        assert_eq!(ix::CloseJob {}.data(), IX_CLOSE_JOB.to_vec());
    }

    #[test]
    fn instruction_data_matches_job_escrows_encoding() {
        let w = |i: u8, rate: u64| (WorkerTerms { worker: Pubkey::new_from_array([i; 32]), rate_per_hour: rate },
                                    es::WorkerTerms { worker: Pubkey::new_from_array([i; 32]), rate_per_hour: rate });
        let (ours, theirs): (Vec<_>, Vec<_>) = [w(1, 3_000_000), w(2, u64::MAX)].into_iter().unzip();
        let expected = ix::OpenJob {
            job_id: u64::MAX - 1,
            hours: 720,
            usd: false,
            accept_window: 86_400,
            max_total: 1_234_567,
            workers: theirs,
        }
        .data();
        assert_eq!(open_job_data(u64::MAX - 1, 720, 86_400, 1_234_567, &ours).unwrap(), expected);
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
        let key = Pubkey::new_from_array([7; 32]);
        let mut lamports = 0u64;
        let info = AccountInfo::new(&key, false, false, &mut lamports, &mut data, &ESCROW_PROGRAM_ID, false);
        assert_eq!(read_market(&info).unwrap(), (market.mint, 250));
    }
}
