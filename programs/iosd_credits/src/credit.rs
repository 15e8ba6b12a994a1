//! Shared pieces of the instructions: who may spend from a credit account,
//! the reserve's signer, and crediting refunds back.
use anchor_lang::prelude::*;

use anchor_lang::error::ErrorCode;

use crate::errors::CreditsError;
use crate::math;
use crate::state::*;

/// Whether `signer` may act for `credit`: the user itself, or the delegate
/// of a `delegation` of this credit account. Returns whether it is a
/// delegate. (`raw::delegate_signing` is the same rule for the accounts
/// read in place.)
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
    token_cpi::emit_event_cpi(&crate::ID, event_authority, crate::EVENT_AUTHORITY_AND_BUMP.1, &event_cpi_data(event))
}

/// The instruction data of an event's self-CPI (what `emit_cpi!` sends).
pub fn event_cpi_data<E: anchor_lang::Event>(event: &E) -> Vec<u8> {
    let body = event.data();
    let mut data = Vec::with_capacity(8 + body.len());
    data.extend_from_slice(anchor_lang::event::EVENT_IX_TAG_LE);
    data.extend_from_slice(&body);
    data
}

/// What crediting a refund changes, on the credit account (`balance`,
/// `refunded`, `in_flight`) and the config (`outstanding`): the one place
/// the arithmetic lives, for the `Account<>` instructions and the in-place
/// ones alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefundBook {
    pub balance: u64,
    pub refunded: u64,
    pub in_flight: u64,
    pub outstanding: u64,
}

impl RefundBook {
    /// First `spent` (paid out for good: a job's workers' pay and fee, a
    /// channel's settled amount) leaves `in_flight`, saturating: `in_flight`
    /// is only ever an upper bound on what may still come back. Then up to
    /// `available` is credited, at most what is still in flight; returns
    /// that amount.
    pub fn credit(&mut self, available: u64, spent: u64) -> Result<u64> {
        self.in_flight = self.in_flight.saturating_sub(spent);
        let amount = available.min(self.in_flight);
        if amount == 0 {
            return Ok(0);
        }
        self.balance = math::add(self.balance, amount)?;
        self.refunded = math::add(self.refunded, amount)?;
        self.in_flight -= amount; // amount <= in_flight
        self.outstanding = math::add(self.outstanding, amount)?;
        Ok(amount)
    }
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
    credit_refund_after(token_program, source, available, reserve_vault, customer, credit, config, 0)
}

/// `credit_refund` after `spent` left `in_flight` ([`RefundBook::credit`]).
#[allow(clippy::too_many_arguments)]
fn credit_refund_after<'info>(
    token_program: &AccountInfo<'info>,
    source: &AccountInfo<'info>,
    available: u64,
    reserve_vault: &AccountInfo<'info>,
    customer: &AccountInfo<'info>,
    credit: &mut CreditAccount,
    config: &mut Config,
    spent: u64,
) -> Result<u64> {
    let mut book = RefundBook {
        balance: credit.balance,
        refunded: credit.refunded,
        in_flight: credit.in_flight,
        outstanding: config.outstanding,
    };
    let amount = book.credit(available, spent)?;
    if amount > 0 {
        let signer = CustomerSigner::new(credit);
        crate::token::transfer_c(token_program, source, reserve_vault, customer, amount, &[&signer.seeds()])?;
    }
    (credit.balance, credit.refunded, credit.in_flight) = (book.balance, book.refunded, book.in_flight);
    config.outstanding = book.outstanding;
    Ok(amount)
}

/// `credit_refund` after a channel paid with credits closed. First the
/// channel's `settled` (paid to the provider, never coming back) leaves
/// `in_flight`, then what landed in the refund account is credited up to
/// the rest: stray tokens sent to the refund account cannot be credited
/// against what the provider was paid.
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
    credit_refund_after(token_program, refund_account, available, reserve_vault, customer, credit, config, settled)
}

/// The [`JobUser`] and the job_escrow [`EscrowCall`](crate::escrow::EscrowCall)
/// of a job instruction paid with credits: `EndJobWithCredits`,
/// `CancelJobWithCredits` and `CloseJobWithCredits` name these accounts
/// alike (`authority`, `config`, `credit_account`, `delegation`,
/// `reserve_vault`, `customer`, `refund_account`, `escrow_program`,
/// `escrow_event_authority`, `token_program`).
macro_rules! job_accounts {
    ($a:expr) => {
        (
            $crate::credit::JobUser {
                authority: &$a.authority,
                config: &$a.config,
                credit_account: &$a.credit_account,
                delegation: $a.delegation.as_deref(),
                reserve_vault: &$a.reserve_vault,
                customer: &$a.customer,
                refund_account: &$a.refund_account,
            },
            $crate::escrow::EscrowCall {
                program: &$a.escrow_program,
                event_authority: &$a.escrow_event_authority,
                token_program: &$a.token_program,
            },
        )
    };
}
pub(crate) use job_accounts;

/// The accounts of a job instruction paid with credits (end, cancel,
/// close), read in place: what their `Account<Config>`,
/// `Account<CreditAccount>`, `Option<Account<Delegation>>` and constraints
/// checked (`raw::check`: the same error codes; the relations on the
/// stored fields), then [`check_actor`]'s rule.
pub struct JobUser<'a, 'info> {
    pub authority: &'a AccountInfo<'info>,
    pub config: &'a AccountInfo<'info>,
    pub credit_account: &'a AccountInfo<'info>,
    pub delegation: Option<&'a AccountInfo<'info>>,
    pub reserve_vault: &'a AccountInfo<'info>,
    pub customer: &'a AccountInfo<'info>,
    pub refund_account: &'a AccountInfo<'info>,
}

/// What [`JobUser::check`] found: the customer PDA's signer seeds.
pub struct CheckedUser {
    pub customer: CustomerSigner,
}

impl JobUser<'_, '_> {
    pub fn check(&self) -> Result<CheckedUser> {
        use crate::raw::{self, config as cf, credit as cr, key_at};
        use token_cpi::CInfo;
        let (config, credit) = (CInfo::new(self.config), CInfo::new(self.credit_account));
        raw::check_config(&config)?;
        raw::check::<CreditAccount>(&credit, raw::CREDIT_LEN)?;
        let delegation = self.delegation.map(CInfo::new);
        if let Some(d) = &delegation {
            raw::check::<Delegation>(d, raw::DELEGATION_LEN)?;
        }
        if *self.customer.owner != anchor_lang::system_program::ID {
            return Err(Error::from(ErrorCode::AccountNotSystemOwned).with_account_name("customer"));
        }
        require_keys_eq!(key_at(config.data(), cf::RESERVE_VAULT), *self.reserve_vault.key,
                         CreditsError::WrongReserveVault);
        let c = credit.data();
        require_keys_eq!(key_at(c, cr::CONFIG), *self.config.key, CreditsError::WrongConfig);
        require_keys_eq!(key_at(c, cr::CUSTOMER), *self.customer.key, CreditsError::WrongCustomer);
        require_keys_eq!(key_at(c, cr::REFUND_ACCOUNT), *self.refund_account.key, CreditsError::WrongRefundAccount);
        let user = key_at(c, cr::USER);
        raw::delegate_signing(self.authority.key, &user, self.credit_account.key, delegation.as_ref())?;
        Ok(CheckedUser { customer: CustomerSigner { config: *self.config.key, user, bump: [c[cr::CUSTOMER_BUMP]] } })
    }

    /// The end of every job instruction paid with credits: `escrow` (the
    /// job_escrow call, signed with the customer PDA's seeds it is given)
    /// pays the job's refund into the refund account; then what is there is
    /// credited back ([`JobUser::credit_refund`], `spent` first) and
    /// `CreditsRefunded` emitted.
    pub fn refund_after(&self, u: &CheckedUser, token_program: &AccountInfo, event_authority: &AccountInfo,
                        spent: u64, escrow: impl FnOnce(&[&[&[u8]]]) -> Result<()>) -> Result<()> {
        let customer_seeds = u.customer.seeds();
        escrow(&[&customer_seeds[..]])?;
        let (amount, book) = self.credit_refund(token_program, u, spent)?;
        emit_event(&token_cpi::CInfo::new(event_authority), &crate::events::CreditsRefunded {
            credit_account: *self.credit_account.key,
            source: *self.refund_account.key,
            amount,
            balance: book.balance,
            outstanding: book.outstanding,
        })
    }

    /// The refund account's token amount (a token account: the credit
    /// account's `refund_account`, created by `open_account`).
    pub fn refund_available(&self) -> Result<u64> {
        let d = self.refund_account.try_borrow_data()?;
        require!(d.len() == crate::token::TOKEN_ACCOUNT_LEN, CreditsError::InvalidTokenAccount);
        Ok(crate::raw::u64_at(&d, 64))
    }

    /// `credit_refund` in place: `spent` leaves `in_flight`, what the refund
    /// account holds is credited up to what is still in flight and moved
    /// into the reserve, signed by the customer PDA. Returns the amount
    /// and the book after it.
    pub fn credit_refund(&self, token_program: &AccountInfo, u: &CheckedUser, spent: u64) -> Result<(u64, RefundBook)> {
        use crate::raw::{config as cf, credit as cr, put_u64, u64_at};
        let available = self.refund_available()?;
        let mut book = {
            let (c, g) = (self.credit_account.try_borrow_data()?, self.config.try_borrow_data()?);
            RefundBook {
                balance: u64_at(&c, cr::BALANCE),
                refunded: u64_at(&c, cr::REFUNDED),
                in_flight: u64_at(&c, cr::IN_FLIGHT),
                outstanding: u64_at(&g, cf::OUTSTANDING),
            }
        };
        let amount = book.credit(available, spent)?;
        if amount > 0 {
            crate::token::transfer_c(token_program, self.refund_account, self.reserve_vault, self.customer, amount,
                                     &[&u.customer.seeds()])?;
        }
        let mut c = self.credit_account.try_borrow_mut_data()?;
        put_u64(&mut c, cr::BALANCE, book.balance);
        put_u64(&mut c, cr::REFUNDED, book.refunded);
        put_u64(&mut c, cr::IN_FLIGHT, book.in_flight);
        put_u64(&mut self.config.try_borrow_mut_data()?, cf::OUTSTANDING, book.outstanding);
        Ok((amount, book))
    }
}

/// A job_escrow job whose customer is `customer` (the account's owner and
/// the customer field right after the discriminator and the market key).
pub fn check_job(job: &AccountInfo, customer: &Pubkey) -> Result<()> {
    require_keys_eq!(*job.owner, crate::escrow::ESCROW_PROGRAM_ID, CreditsError::WrongJob);
    let data = job.try_borrow_data()?;
    require!(data.len() >= 72 && data[40..72] == customer.as_ref()[..], CreditsError::WrongJob);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn book(in_flight: u64) -> RefundBook {
        RefundBook { balance: 10, refunded: 20, in_flight, outstanding: 1_000 }
    }

    #[test]
    fn refunds_are_credited_up_to_what_is_in_flight_after_what_was_spent() {
        // Everything available, within in_flight.
        let mut b = book(50);
        assert_eq!(b.credit(30, 0).unwrap(), 30);
        assert_eq!(b, RefundBook { balance: 40, refunded: 50, in_flight: 20, outstanding: 1_030 });
        // Capped by in_flight (stray tokens beyond it stay where they are).
        let mut b = book(50);
        assert_eq!(b.credit(80, 0).unwrap(), 50);
        assert_eq!(b, RefundBook { balance: 60, refunded: 70, in_flight: 0, outstanding: 1_050 });
        // What was paid out leaves in_flight first.
        let mut b = book(50);
        assert_eq!(b.credit(80, 45).unwrap(), 5);
        assert_eq!(b, RefundBook { balance: 15, refunded: 25, in_flight: 0, outstanding: 1_005 });
        // Saturating; nothing credited, in_flight still lowered.
        let mut b = book(50);
        assert_eq!(b.credit(80, 70).unwrap(), 0);
        assert_eq!(b, book(0));
        let mut b = book(50);
        assert_eq!(b.credit(0, 10).unwrap(), 0);
        assert_eq!(b, book(40));
        // Overflow refused.
        let mut b = RefundBook { balance: u64::MAX, ..book(5) };
        assert!(b.credit(5, 0).is_err());
    }
}
