use anchor_lang::prelude::*;
use token_cpi::{CInfo, CMeta};

use crate::escrow::{self, JobEscrow, WorkerTerms};
use crate::token::{Token, TOKEN_ACCOUNT_LEN};

use crate::credit::{emit_event, ConfigSigner, CustomerSigner};
use crate::errors::CreditsError;
use crate::events::JobPaidWithCredits;
use crate::math;
use crate::raw::{self, config as cf, credit as cr, delegation as dg, key_at, put_u64, u64_at};
use crate::state::*;

/// Opens a job_escrow job in the stablecoin's market paid from the user's
/// credits, signed by the user or by a delegate within its allowance. The
/// job's customer is the user's customer PDA (signed here by
/// `invoke_signed`), so the job's refunds can only land in token accounts
/// that PDA owns, which are credited back to this user alone. The deposit
/// (workers' pay plus fee) is computed with job_escrow's own math and moves
/// once, from the reserve straight into the job's vault (job_escrow's
/// `open_job_funded`, the config PDA signing as the funder); the reserve
/// must have paid exactly that. Rates are in base units of the stablecoin
/// per hour (= micro-USD). The workers have `accept_window` seconds to
/// accept (job_escrow's accept deadline).
///
/// The program's own accounts are read and written in place (`raw.rs`:
/// the checks of `Account<T>` with its error codes, the relations on the
/// stored fields instead of re-deriving the PDAs), and when the accounts
/// pass the checks below (signers, write flags, program ids) the
/// instruction skips Anchor's entry altogether (`fast.rs`); both entries run
/// [`open`]. This is the instruction every credits job starts with.
#[event_cpi]
#[derive(Accounts)]
pub struct OpenJobWithCredits<'info> {
    /// The user or one of its delegates.
    pub authority: Signer<'info>,
    /// Pays the rent of the job accounts through the customer PDA (the rent
    /// comes back to the customer PDA when the job is closed).
    #[account(mut)]
    pub payer: Signer<'info>,
    /// CHECK: a `Config` (`raw::check_config`); its reserve vault, not paused.
    #[account(mut, dup)]
    pub config: UncheckedAccount<'info>,
    /// CHECK: a `CreditAccount` of `config` (`raw::check`).
    #[account(mut, dup)]
    pub credit_account: UncheckedAccount<'info>,
    /// Required when `authority` is a delegate.
    /// CHECK: a `Delegation` of `credit_account` and `authority` (`raw::check`).
    #[account(mut, dup)]
    pub delegation: Option<UncheckedAccount<'info>>,
    /// CHECK: `config.reserve_vault` (a token account this program created).
    #[account(mut, dup)]
    pub reserve_vault: UncheckedAccount<'info>,
    /// CHECK: `credit_account.customer`, a system account.
    #[account(mut, dup)]
    pub customer: UncheckedAccount<'info>,
    /// CHECK: `credit_account.refund_account` (where the job's refunds land).
    #[account(mut, dup)]
    pub refund_account: UncheckedAccount<'info>,
    /// job_escrow's market of the stablecoin (owner, type and mint checked in the handler).
    /// CHECK: read by `escrow::read_market`, checked again by job_escrow.
    #[account(mut)]
    pub market: UncheckedAccount<'info>,
    /// CHECK: checked by job_escrow (the market's mint).
    pub mint: UncheckedAccount<'info>,
    /// CHECK: created by job_escrow at its job PDA.
    #[account(mut, dup)]
    pub job: UncheckedAccount<'info>,
    /// CHECK: created by job_escrow at its vault PDA.
    #[account(mut, dup)]
    pub vault: UncheckedAccount<'info>,
    /// CHECK: job_escrow's event authority (checked by job_escrow).
    pub escrow_event_authority: UncheckedAccount<'info>,
    pub escrow_program: Program<'info, JobEscrow>,
    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

/// A delegate's spend, checked: where to write its new period.
struct DelegateSpend {
    delegate: Pubkey,
    period_start: i64,
    spent_in_period: u64,
}

pub fn handler(
    ctx: Context<OpenJobWithCredits>,
    job_id: u64,
    hours: u32,
    accept_window: u32,
    workers: Vec<WorkerTerms>,
) -> Result<()> {
    let a = &ctx.accounts;
    let v = OpenJobViews {
        authority: CInfo::new(&a.authority),
        payer: CInfo::new(&a.payer),
        config: CInfo::new(&a.config),
        credit_account: CInfo::new(&a.credit_account),
        delegation: a.delegation.as_ref().map(|d| CInfo::new(d)),
        reserve_vault: CInfo::new(&a.reserve_vault),
        customer: CInfo::new(&a.customer),
        refund_account: CInfo::new(&a.refund_account),
        market: CInfo::new(&a.market),
        mint: CInfo::new(&a.mint),
        job: CInfo::new(&a.job),
        vault: CInfo::new(&a.vault),
        escrow_event_authority: CInfo::new(&a.escrow_event_authority),
        escrow_program: CInfo::new(&a.escrow_program),
        token_program: CInfo::new(&a.token_program),
        system_program: CInfo::new(&a.system_program),
        event_authority: CInfo::new(&a.event_authority),
    };
    let mut terms = Vec::with_capacity(4 + TERMS_LEN * workers.len());
    workers.serialize(&mut terms)?;
    open(&v, job_id, hours, accept_window, &terms)
}

/// The accounts of `open_job_with_credits` (event authority included) as
/// C-ABI views of the program input: built from Anchor's `AccountInfo`s by
/// [`handler`], or straight from the input by `fast.rs`.
pub struct OpenJobViews {
    pub authority: CInfo,
    pub payer: CInfo,
    pub config: CInfo,
    pub credit_account: CInfo,
    pub delegation: Option<CInfo>,
    pub reserve_vault: CInfo,
    pub customer: CInfo,
    pub refund_account: CInfo,
    pub market: CInfo,
    pub mint: CInfo,
    pub job: CInfo,
    pub vault: CInfo,
    pub escrow_event_authority: CInfo,
    pub escrow_program: CInfo,
    pub token_program: CInfo,
    pub system_program: CInfo,
    pub event_authority: CInfo,
}

/// Bytes of one `WorkerTerms` in Borsh (worker, rate_per_hour).
const TERMS_LEN: usize = 40;

/// The instruction, on accounts that passed `OpenJobWithCredits`'s own
/// checks (signers, write flags, programs, event authority). `workers` is
/// the Borsh encoding of the `Vec<WorkerTerms>` argument (u32 length, then
/// worker and rate of each), passed on to job_escrow as is.
pub fn open(v: &OpenJobViews, job_id: u64, hours: u32, accept_window: u32, workers: &[u8]) -> Result<()> {
    let now_ts = Clock::get()?.unix_timestamp;

    // The accounts, as `Account<T>` and the former constraints checked them.
    raw::check_config(&v.config)?;
    raw::check::<CreditAccount>(&v.credit_account, raw::CREDIT_LEN)?;
    if let Some(d) = &v.delegation {
        raw::check::<Delegation>(d, raw::DELEGATION_LEN)?;
    }
    let config_key = *v.config.key();
    let (mint, config_bump, outstanding) = {
        let c = v.config.data();
        require_keys_eq!(key_at(c, cf::RESERVE_VAULT), *v.reserve_vault.key(), CreditsError::WrongReserveVault);
        require!(c[cf::PAUSED] == 0, CreditsError::Paused);
        (key_at(c, cf::MINT), c[cf::BUMP], u64_at(c, cf::OUTSTANDING))
    };
    let credit_key = *v.credit_account.key();
    let (user, customer_bump, balance, spent, in_flight, jobs_opened) = {
        let c = v.credit_account.data();
        require_keys_eq!(key_at(c, cr::CONFIG), config_key, CreditsError::WrongConfig);
        require_keys_eq!(key_at(c, cr::CUSTOMER), *v.customer.key(), CreditsError::WrongCustomer);
        require_keys_eq!(key_at(c, cr::REFUND_ACCOUNT), *v.refund_account.key(), CreditsError::WrongRefundAccount);
        (key_at(c, cr::USER), c[cr::CUSTOMER_BUMP], u64_at(c, cr::BALANCE), u64_at(c, cr::SPENT),
         u64_at(c, cr::IN_FLIGHT), u64_at(c, cr::JOBS_OPENED))
    };
    if *v.customer.owner() != System::id() {
        return Err(Error::from(ErrorCode::AccountNotSystemOwned).with_account_name("customer"));
    }

    let (market_mint, fee_bps) = escrow::read_market(v.market.owner(), v.market.data())?;
    require_keys_eq!(market_mint, mint, CreditsError::WrongMarket);
    require!(workers.len() >= 4, ErrorCode::InstructionDidNotDeserialize);
    let n_workers = u32::from_le_bytes(workers[..4].try_into().unwrap()) as usize;
    require!((workers.len() - 4) / TERMS_LEN == n_workers && (workers.len() - 4) % TERMS_LEN == 0,
             ErrorCode::InstructionDidNotDeserialize);
    let rates = (0..n_workers).map(|i| u64_at(workers, 4 + TERMS_LEN * i + 32));
    let (principal, fee) = math::booking_cost(rates, hours, fee_bps)?;
    let deposit = math::add(principal, fee)?;

    // Accounting first: who may spend, and from which balance.
    let authority = *v.authority.key();
    let delegate = if let Some(g) = raw::delegate_signing(&authority, &user, &credit_key, v.delegation.as_ref())? {
        let period_secs = u32::from_le_bytes(g[dg::PERIOD_SECS..dg::PERIOD_SECS + 4].try_into().unwrap());
        let (period_start, spent_in_period) = math::delegate_spend(
            u64_at(g, dg::PERIOD_START) as i64,
            period_secs,
            u64_at(g, dg::SPENT_IN_PERIOD),
            u64_at(g, dg::ALLOWANCE),
            deposit,
            now_ts,
        )?;
        Some(DelegateSpend { delegate: authority, period_start, spent_in_period })
    } else {
        None
    };
    let balance = math::sub(balance, deposit, CreditsError::InsufficientCredits)?;
    let spent = math::add(spent, deposit)?;
    let in_flight = math::add(in_flight, deposit)?;
    let jobs_opened = math::add(jobs_opened, 1)?;
    let outstanding = math::sub(outstanding, deposit, CreditsError::MathOverflow)?;

    // The customer PDA pays the job's rent; it keeps the rent-exempt minimum.
    let rent = Rent::get()?;
    let need = rent.minimum_balance(escrow::job_space(n_workers))
        + rent.minimum_balance(TOKEN_ACCOUNT_LEN)
        + rent.minimum_balance(0);
    let have = v.customer.lamports();
    if have < need {
        token_cpi::invoke_c(
            &System::id(),
            &[CMeta::of(&v.payer, true, true), CMeta::of(&v.customer, true, false)],
            &[v.payer, v.customer, v.system_program],
            &system_transfer_data(need - have),
            &[],
        )?;
    }

    // Reserve -> (job_escrow) the job vault, the config PDA signing as the
    // funder and the customer PDA as the customer.
    let before = reserve_amount(&v.reserve_vault)?;
    let config_signer = ConfigSigner { mint, bump: [config_bump] };
    let customer_signer = CustomerSigner { config: config_key, user, bump: [customer_bump] };
    // A token-priced job locks exactly `deposit`; job_escrow refuses to
    // lock more (MaxTotalExceeded), and the check below sees it took it all.
    let mut data = Vec::with_capacity(33 + workers.len());
    data.extend_from_slice(&escrow::open_job_funded_head(job_id, hours, accept_window, deposit));
    data.extend_from_slice(workers);
    escrow::open_job_funded(
        &escrow::OpenJobFunded {
            customer: &v.customer,
            funder: &v.config,
            market: &v.market,
            mint: &v.mint,
            job: &v.job,
            vault: &v.vault,
            funder_token: &v.reserve_vault,
            escrow_program: &v.escrow_program,
            token_program: &v.token_program,
            system_program: &v.system_program,
            escrow_event_authority: &v.escrow_event_authority,
        },
        &data,
        &[&customer_signer.seeds(), &config_signer.seeds()],
    )?;
    let after = reserve_amount(&v.reserve_vault)?;
    require!(before.checked_sub(after) == Some(deposit), CreditsError::DepositMismatch);

    let c = v.credit_account.data_mut();
    put_u64(c, cr::BALANCE, balance);
    put_u64(c, cr::SPENT, spent);
    put_u64(c, cr::IN_FLIGHT, in_flight);
    put_u64(c, cr::JOBS_OPENED, jobs_opened);
    put_u64(v.config.data_mut(), cf::OUTSTANDING, outstanding);
    let (delegate, spent_in_period) = match (&delegate, &v.delegation) {
        (Some(s), Some(d)) => {
            let g = d.data_mut();
            put_u64(g, dg::PERIOD_START, s.period_start as u64);
            put_u64(g, dg::SPENT_IN_PERIOD, s.spent_in_period);
            (s.delegate, s.spent_in_period)
        }
        _ => (Pubkey::default(), 0),
    };

    emit_event(
        &v.event_authority,
        &JobPaidWithCredits {
            credit_account: credit_key,
            job: *v.job.key(),
            job_id,
            delegate,
            amount: deposit,
            spent_in_period,
            balance,
            outstanding,
        },
    )
}

/// The reserve vault's token amount (a token account: `config.reserve_vault`,
/// created by `init_config`; checked again by the Token program's transfer).
fn reserve_amount(vault: &CInfo) -> Result<u64> {
    let d = vault.data();
    require!(d.len() == TOKEN_ACCOUNT_LEN, CreditsError::InvalidTokenAccount);
    Ok(u64_at(d, 64))
}

/// System program `Transfer` instruction data.
fn system_transfer_data(lamports: u64) -> [u8; 12] {
    let mut d = [0u8; 12];
    d[0] = 2;
    d[4..].copy_from_slice(&lamports.to_le_bytes());
    d
}
