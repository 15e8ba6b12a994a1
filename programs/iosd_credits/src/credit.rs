//! Shared pieces of the instructions: who may spend from a credit account,
//! the reserve's signer, and crediting refunds back.
use anchor_lang::prelude::*;

use crate::errors::CreditsError;
use crate::math;
use crate::state::*;

/// Whether `signer` may act for `credit`: the user itself, or the delegate
/// of a `delegation` of this credit account. Returns whether it is a
/// delegate.
pub fn check_actor(credit: &Account<CreditAccount>, signer: &Pubkey, delegation: Option<&Delegation>) -> Result<bool> {
    if *signer == credit.user {
        return Ok(false);
    }
    let d = delegation.ok_or(CreditsError::DelegationRequired)?;
    require_keys_eq!(d.credit_account, credit.key(), CreditsError::WrongDelegation);
    require_keys_eq!(d.delegate, *signer, CreditsError::WrongDelegation);
    Ok(true)
}

/// `check_actor`, and a delegate's allowance for the current period is
/// charged `spend`. Returns the delegate key (default when the user signed)
/// and the delegate's spent total in its period.
pub fn authorize_spend(
    credit: &Account<CreditAccount>,
    signer: &Pubkey,
    delegation: Option<&mut Account<Delegation>>,
    spend: u64,
    now_ts: i64,
) -> Result<(Pubkey, u64)> {
    let is_delegate = check_actor(credit, signer, delegation.as_deref().map(|d| &**d))?;
    if !is_delegate {
        return Ok((Pubkey::default(), 0));
    }
    let d = delegation.ok_or(CreditsError::DelegationRequired)?;
    let (start, spent) =
        math::delegate_spend(d.period_start, d.period_secs, d.spent_in_period, d.allowance, spend, now_ts)?;
    d.period_start = start;
    d.spent_in_period = spent;
    Ok((*signer, spent))
}

/// Signer seeds of the config PDA (authority of the reserve vault).
pub struct ConfigSigner {
    pub mint: Pubkey,
    pub bump: [u8; 1],
}

impl ConfigSigner {
    pub fn new(config: &Config) -> Self {
        Self { mint: config.mint, bump: [config.bump] }
    }

    pub fn seeds(&self) -> [&[u8]; 3] {
        [CONFIG_SEED, self.mint.as_ref(), &self.bump]
    }
}

/// Signer seeds of a user's customer PDA (the job_escrow customer, owner of
/// the refund account).
pub struct CustomerSigner {
    pub config: Pubkey,
    pub user: Pubkey,
    pub bump: [u8; 1],
}

impl CustomerSigner {
    pub fn new(credit: &CreditAccount) -> Self {
        Self { config: credit.config, user: credit.user, bump: [credit.customer_bump] }
    }

    pub fn seeds(&self) -> [&[u8]; 4] {
        [CUSTOMER_SEED, self.config.as_ref(), self.user.as_ref(), &self.bump]
    }
}

/// What `emit_cpi!(event)` does (the same instruction data: the event-CPI
/// tag, then `Event::data`, i.e. the event's discriminator and Borsh body;
/// the same self-invocation signed by the event authority), through the C
/// ABI: no `Instruction` on the heap, no `AccountInfo` clone.
pub fn emit_event<E: anchor_lang::Event>(event_authority: &token_cpi::CInfo, event: &E) -> Result<()> {
    let data = event_cpi_data(event);
    let bump = [crate::EVENT_AUTHORITY_AND_BUMP.1];
    token_cpi::invoke_c(
        &crate::ID,
        &[token_cpi::CMeta::of(event_authority, false, true)],
        &[*event_authority],
        &data,
        &[&[b"__event_authority", &bump]],
    )
}

/// The instruction data of an event's self-CPI (what `emit_cpi!` sends).
pub fn event_cpi_data<E: anchor_lang::Event>(event: &E) -> Vec<u8> {
    let body = event.data();
    let mut data = Vec::with_capacity(8 + body.len());
    data.extend_from_slice(anchor_lang::event::EVENT_IX_TAG_LE);
    data.extend_from_slice(&body);
    data
}

/// Moves what the customer-owned token account `source` holds (`available`),
/// up to the credits still out in jobs, into the reserve and credits it to
/// the user; returns the amount credited. Never paused, never capped:
/// refunds always come back.
pub fn credit_refund<'info>(
    token_program: &AccountInfo<'info>,
    source: &AccountInfo<'info>,
    available: u64,
    reserve_vault: &AccountInfo<'info>,
    customer: &AccountInfo<'info>,
    credit: &mut CreditAccount,
    config: &mut Config,
) -> Result<u64> {
    let amount = available.min(credit.in_flight);
    if amount == 0 {
        return Ok(0);
    }
    let signer = CustomerSigner::new(credit);
    let seeds = signer.seeds();
    crate::token::transfer_c(token_program, source, reserve_vault, customer, amount, &[&seeds])?;
    credit.balance = math::add(credit.balance, amount)?;
    credit.refunded = math::add(credit.refunded, amount)?;
    credit.in_flight -= amount; // amount <= in_flight
    config.outstanding = math::add(config.outstanding, amount)?;
    Ok(amount)
}

/// `credit_refund` after a channel paid with credits closed. First the
/// channel's `settled` (paid to the provider, never coming back) leaves
/// `in_flight`, then what landed in the refund account is credited up to
/// the rest: stray tokens sent to the refund account cannot be credited
/// against what the provider was paid. Saturating: `in_flight` is only
/// ever an upper bound on what may still come back.
#[allow(clippy::too_many_arguments)]
pub fn credit_channel_refund<'info>(
    token_program: &AccountInfo<'info>,
    refund_account: &AccountInfo<'info>,
    available: u64,
    reserve_vault: &AccountInfo<'info>,
    customer: &AccountInfo<'info>,
    credit: &mut CreditAccount,
    config: &mut Config,
    settled: u64,
) -> Result<u64> {
    credit.in_flight = credit.in_flight.saturating_sub(settled);
    credit_refund(token_program, refund_account, available, reserve_vault, customer, credit, config)
}

/// `credit_refund` when a job paid with credits is closed. First `spent`
/// (what the job paid its workers plus the fee on it, `math::job_spent`,
/// read from the job before job_escrow closed it) leaves `in_flight`: it
/// never comes back. Then what landed in the refund account is credited up
/// to the rest, so stray tokens sent to the refund account cannot be
/// credited against what the workers earned. Saturating, as for channels:
/// `in_flight` may already be lower (e.g. stray tokens credited earlier
/// against this job's outstanding amount).
#[allow(clippy::too_many_arguments)]
pub fn credit_job_refund<'info>(
    token_program: &AccountInfo<'info>,
    refund_account: &AccountInfo<'info>,
    available: u64,
    reserve_vault: &AccountInfo<'info>,
    customer: &AccountInfo<'info>,
    credit: &mut CreditAccount,
    config: &mut Config,
    spent: u64,
) -> Result<u64> {
    credit.in_flight = credit.in_flight.saturating_sub(spent);
    credit_refund(token_program, refund_account, available, reserve_vault, customer, credit, config)
}

/// A job_escrow job whose customer is `customer` (the account's owner and
/// the customer field right after the discriminator and the market key).
pub fn check_job(job: &AccountInfo, customer: &Pubkey) -> Result<()> {
    require_keys_eq!(*job.owner, crate::escrow::ESCROW_PROGRAM_ID, CreditsError::WrongJob);
    let data = job.try_borrow_data()?;
    require!(data.len() >= 72 && data[40..72] == customer.as_ref()[..], CreditsError::WrongJob);
    Ok(())
}
