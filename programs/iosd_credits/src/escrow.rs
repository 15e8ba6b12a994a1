//! The job_escrow interface this program calls, written by hand (as the SPL
//! Token CPIs are): instruction discriminators and argument encodings from
//! `idl/job_escrow.json`, the `Market` fields read, the booking cost
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
/// length) and 65 bytes per worker slot.
pub const fn job_space(n_workers: usize) -> usize {
    153 + 65 * n_workers
}

/// The `Market` fields this program relies on: (mint, fee_bps).
pub fn read_market(market: &AccountInfo) -> Result<(Pubkey, u16)> {
    require_keys_eq!(*market.owner, ESCROW_PROGRAM_ID, CreditsError::InvalidMarket);
    let data = market.try_borrow_data()?;
    require!(data.len() >= 106 && data[..8] == MARKET_DISCRIMINATOR, CreditsError::InvalidMarket);
    // authority 8..40, mint 40..72, treasury 72..104, fee_bps 104..106.
    Ok((
        Pubkey::new_from_array(data[40..72].try_into().unwrap()),
        u16::from_le_bytes([data[104], data[105]]),
    ))
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

    /// `open_job(job_id, hours, usd = false, workers)`; no price feed.
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
        workers: &[WorkerTerms],
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        let mut data = IX_OPEN_JOB.to_vec();
        data.extend_from_slice(&job_id.to_le_bytes());
        data.extend_from_slice(&hours.to_le_bytes());
        data.push(0); // usd = false
        workers.serialize(&mut data)?;
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

    #[allow(clippy::too_many_arguments)]
    pub fn end_job(
        &self,
        customer: &AccountInfo<'info>,
        market: &AccountInfo<'info>,
        job: &AccountInfo<'info>,
        vault: &AccountInfo<'info>,
        customer_token: &AccountInfo<'info>,
        treasury: &AccountInfo<'info>,
        slots: Vec<u8>,
        remaining: &[AccountInfo<'info>],
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        let mut data = IX_END_JOB.to_vec();
        slots.serialize(&mut data)?;
        self.invoke(
            data,
            vec![
                (customer, false, true),
                (market, false, false),
                (job, true, false),
                (vault, true, false),
                (customer_token, true, false),
                (treasury, true, false),
                (self.token_program, false, false),
            ],
            remaining,
            seeds,
        )
    }

    /// `cancel` (`close = false`) or `close_job` (`close = true`): same accounts.
    pub fn cancel_or_close(
        &self,
        close: bool,
        customer: &AccountInfo<'info>,
        job: &AccountInfo<'info>,
        vault: &AccountInfo<'info>,
        customer_token: &AccountInfo<'info>,
        seeds: &[&[&[u8]]],
    ) -> Result<()> {
        let data = if close { IX_CLOSE_JOB } else { IX_CANCEL }.to_vec();
        self.invoke(
            data,
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
}
