"""IOSD credits SDK: addresses and instruction builders (pure, from the IDL).

One credit is one US dollar; amounts are micro-USD base units (6 decimals),
equal to base units of the reserve stablecoin. Seeds
(``programs/iosd_credits/src/state.rs``):

* ``Config``         ``["config", mint]``; reserve vault ``["reserve", config]``
* ``CreditAccount``  ``["credit", config, user]``
* customer PDA       ``["customer", config, user]`` (the job_escrow customer)
* refund account     ``["refund", config, user]`` (token account of the customer PDA)
* ``Delegation``     ``["delegation", credit_account, delegate]``

Inference channels paid with credits are inference_pay channels whose payer
is the user's customer PDA and whose ``refund_to`` is the user's refund
account (:meth:`IosdCredits.channel_address`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Optional, Sequence, Tuple, Union

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from iopay.core import pda
from iopay.core.idl import AccountFetcher, ProgramIdl
from iopay.escrow.program import DEFAULT_ACCEPT_WINDOW, MAX_ACCEPT_WINDOW, JobEscrow, Payee, WorkerTerms
from iopay.inference.program import MAX_DISPUTE_WINDOW, MIN_DISPUTE_WINDOW, InferencePay

IDL_NAME = "iosd_credits"
CREDIT_DECIMALS = 6
MICRO = 10**CREDIT_DECIMALS
U64_MAX = 2**64 - 1
MIN_PERIOD_SECS = 60
MAX_PERIOD_SECS = 366 * 24 * 3_600
DAY = 86_400


def parse_usd(text: Union[str, int, Decimal]) -> int:
    """``"12.50"`` -> 12_500_000 micro-USD. More than 6 decimals, negative
    or non-numeric input raises ValueError."""
    if isinstance(text, bool):
        raise TypeError("usd must be a number or a decimal string")
    try:
        d = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"not a dollar amount: {text!r}") from None
    if not d.is_finite() or d < 0:
        raise ValueError(f"not a dollar amount: {text!r}")
    units = d * MICRO
    if units != units.to_integral_value():
        raise ValueError(f"{text!r} has more than {CREDIT_DECIMALS} decimals")
    n = int(units)
    if n > U64_MAX:
        raise ValueError(f"{text!r} is too large")
    return n


def format_usd(units: int) -> str:
    """12_500_000 -> ``"12.500000"``."""
    sign = "-" if units < 0 else ""
    q, r = divmod(abs(units), MICRO)
    return f"{sign}{q}.{r:06d}"


def check_amount(amount: Any, what: str = "amount") -> int:
    """``amount`` if it is an int in 1..2^64-1 (base units); ``TypeError``/``ValueError`` otherwise."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"{what} must be an int (micro-USD base units), got {type(amount).__name__}")
    if not 0 < amount <= U64_MAX:
        raise ValueError(f"{what} must be between 1 and 2^64-1 base units, got {amount}")
    return amount


def _check_key(key: Any, what: str) -> Pubkey:
    if not isinstance(key, Pubkey):
        raise TypeError(f"{what} must be a Pubkey, got {type(key).__name__}")
    return key


@dataclass(frozen=True)
class UserAddresses:
    credit_account: Pubkey
    customer: Pubkey
    refund_account: Pubkey


class IosdCredits:
    """Instruction builders for the credits program."""

    def __init__(self, program: Optional[ProgramIdl] = None, escrow: Optional[JobEscrow] = None,
                 fetch: Optional[AccountFetcher] = None, inference: Optional[InferencePay] = None) -> None:
        self.program = program or ProgramIdl.load(IDL_NAME)
        self.program_id = self.program.program_id
        self.esc = escrow or JobEscrow()
        self.pay = inference or InferencePay()
        self.fetch = fetch

    # -- addresses --

    def _pda(self, *seeds: bytes) -> Pubkey:
        return Pubkey.find_program_address(list(seeds), self.program_id)[0]

    def config_address(self, mint: Pubkey) -> Pubkey:
        """The reserve config PDA ``["config", mint]``."""
        return self._pda(b"config", bytes(mint))

    def reserve_address(self, mint: Pubkey) -> Pubkey:
        """The reserve vault (token account PDA) ``["reserve", config]``."""
        return self._pda(b"reserve", bytes(self.config_address(mint)))

    def user_addresses(self, mint: Pubkey, user: Pubkey) -> UserAddresses:
        """``user``'s credit account, customer PDA (job_escrow customer) and refund account for ``mint``."""
        config = bytes(self.config_address(mint))
        return UserAddresses(self._pda(b"credit", config, bytes(user)), self._pda(b"customer", config, bytes(user)),
                             self._pda(b"refund", config, bytes(user)))

    def credit_address(self, mint: Pubkey, user: Pubkey) -> Pubkey:
        """``user``'s credit account ``["credit", config, user]``."""
        return self.user_addresses(mint, user).credit_account

    def delegation_address(self, credit_account: Pubkey, delegate: Pubkey) -> Pubkey:
        """The delegation PDA ``["delegation", credit_account, delegate]``."""
        return self._pda(b"delegation", bytes(credit_account), bytes(delegate))

    def channel_address(self, mint: Pubkey, user: Pubkey, provider: Pubkey, channel_id: int) -> Pubkey:
        """The inference_pay channel a user's credits open to ``provider``
        (its payer is the user's customer PDA)."""
        return self.pay.channel_address(self.user_addresses(mint, user).customer, provider, mint, channel_id)

    def job_address(self, mint: Pubkey, user: Pubkey, job_id: int) -> Pubkey:
        """The job_escrow job a user's credits open (its customer is the user's customer PDA)."""
        return self.esc.job_addresses(mint, self.user_addresses(mint, user).customer, job_id).job

    def _ix(self, name: str, args: dict, accounts: dict, overrides: Optional[dict] = None,
            remaining: Sequence[AccountMeta] = ()) -> Instruction:
        return self.program.build_instruction(name, args, accounts, fetch=self.fetch, overrides=overrides,
                                              remaining=remaining)

    def _user(self, mint: Pubkey, user: Pubkey, delegate: Optional[Pubkey]) -> Tuple[UserAddresses, dict]:
        u = self.user_addresses(mint, user)
        acc: dict = {"config": self.config_address(mint), "credit_account": u.credit_account}
        if delegate is not None:
            acc["delegation"] = self.delegation_address(u.credit_account, delegate)
        return u, acc

    # -- administration --

    def init_config(self, *, payer: Pubkey, upgrade_authority: Pubkey, authority: Pubkey, mint: Pubkey, cap: int,
                    overrides: Optional[dict] = None) -> Instruction:
        """``init_config``: create the reserve for ``mint`` with ``authority`` and ``cap`` (micro-USD); signed
        by ``payer`` and the program's ``upgrade_authority``."""
        return self._ix("init_config", {"cap": cap},
                        {"payer": payer, "upgrade_authority": upgrade_authority, "authority": authority,
                         "mint": mint, "config": self.config_address(mint),
                         "reserve_vault": self.reserve_address(mint)}, overrides)

    def set_paused(self, *, authority: Pubkey, mint: Pubkey, paused: bool, overrides: Optional[dict] = None) -> Instruction:
        """``set_paused``: block or allow buying and spending (config authority)."""
        return self._ix("set_paused", {"paused": paused},
                        {"authority": authority, "config": self.config_address(mint)}, overrides)

    def set_cap(self, *, authority: Pubkey, mint: Pubkey, cap: int, overrides: Optional[dict] = None) -> Instruction:
        """``set_cap``: the ceiling on outstanding credits, micro-USD (config authority)."""
        return self._ix("set_cap", {"cap": cap}, {"authority": authority, "config": self.config_address(mint)},
                        overrides)

    def propose_authority(self, *, authority: Pubkey, mint: Pubkey, new_authority: Pubkey,
                          overrides: Optional[dict] = None) -> Instruction:
        """``propose_authority``: make ``new_authority`` the pending authority."""
        return self._ix("propose_authority", {"new_authority": new_authority},
                        {"authority": authority, "config": self.config_address(mint)}, overrides)

    def accept_authority(self, *, new_authority: Pubkey, mint: Pubkey, overrides: Optional[dict] = None) -> Instruction:
        """``accept_authority``: the pending authority takes over."""
        return self._ix("accept_authority", {}, {"new_authority": new_authority,
                                                 "config": self.config_address(mint)}, overrides)

    # -- user --

    def open_account(self, *, user: Pubkey, mint: Pubkey, overrides: Optional[dict] = None) -> Instruction:
        """``open_account``: ``user``'s credit account, customer PDA and refund account (user pays rent)."""
        u = self.user_addresses(mint, user)
        return self._ix("open_account", {},
                        {"user": user, "config": self.config_address(mint), "mint": mint,
                         "credit_account": u.credit_account, "customer": u.customer,
                         "refund_account": u.refund_account}, overrides)

    def buy(self, *, user: Pubkey, mint: Pubkey, user_token: Pubkey, amount: int,
            overrides: Optional[dict] = None) -> Instruction:
        """``buy``: move ``amount`` stablecoin base units from ``user_token`` to the reserve, credit as many
        micro-USD."""
        return self._ix("buy", {"amount": amount},
                        {"user": user, "config": self.config_address(mint),
                         "credit_account": self.credit_address(mint, user), "user_token": user_token,
                         "reserve_vault": self.reserve_address(mint)}, overrides)

    def redeem(self, *, user: Pubkey, mint: Pubkey, user_token: Pubkey, amount: int,
               overrides: Optional[dict] = None) -> Instruction:
        """``redeem``: debit ``amount`` credits, pay as many stablecoin base units to ``user_token``."""
        return self._ix("redeem", {"amount": amount},
                        {"user": user, "config": self.config_address(mint),
                         "credit_account": self.credit_address(mint, user), "user_token": user_token,
                         "reserve_vault": self.reserve_address(mint)}, overrides)

    def set_delegate(self, *, user: Pubkey, mint: Pubkey, delegate: Pubkey, allowance: int, period_secs: int,
                     overrides: Optional[dict] = None) -> Instruction:
        """``set_delegate``: ``delegate`` may spend ``allowance`` micro-USD per ``period_secs``."""
        credit = self.credit_address(mint, user)
        return self._ix("set_delegate", {"delegate": delegate, "allowance": allowance, "period_secs": period_secs},
                        {"user": user, "credit_account": credit,
                         "delegation": self.delegation_address(credit, delegate)}, overrides)

    def revoke_delegate(self, *, user: Pubkey, mint: Pubkey, delegate: Pubkey,
                        overrides: Optional[dict] = None) -> Instruction:
        """``revoke_delegate``: close the delegation, rent back to ``user``."""
        credit = self.credit_address(mint, user)
        return self._ix("revoke_delegate", {}, {"user": user, "credit_account": credit,
                                                "delegation": self.delegation_address(credit, delegate)}, overrides)

    def withdraw_rent(self, *, user: Pubkey, mint: Pubkey, overrides: Optional[dict] = None) -> Instruction:
        """``withdraw_rent``: lamports above rent exemption from the customer PDA to ``user``."""
        u = self.user_addresses(mint, user)
        return self._ix("withdraw_rent", {}, {"user": user, "credit_account": u.credit_account,
                                              "customer": u.customer}, overrides)

    # -- jobs --

    def open_job_with_credits(
        self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, job_id: int, hours: int,
        workers: Sequence[Union[WorkerTerms, Tuple[Pubkey, int]]], payer: Optional[Pubkey] = None,
        accept_window: int = DEFAULT_ACCEPT_WINDOW, delegate: bool = False, overrides: Optional[dict] = None,
    ) -> Instruction:
        """``authority`` is the user or (``delegate=True``) one of its delegates;
        ``payer`` (default ``authority``) tops up the job rent; the workers
        have ``accept_window`` seconds to accept (job_escrow's deadline)."""
        if not 0 < accept_window <= MAX_ACCEPT_WINDOW:
            raise ValueError(f"accept_window must be 1..{MAX_ACCEPT_WINDOW} seconds")
        u, acc = self._user(mint, user, authority if delegate else None)
        a = self.esc.job_addresses(mint, u.customer, job_id)
        acc.update({"authority": authority, "payer": payer or authority, "reserve_vault": self.reserve_address(mint),
                    "customer": u.customer, "refund_account": u.refund_account, "market": a.market, "mint": mint,
                    "job": a.job, "vault": a.vault, "escrow_event_authority": pda.event_authority_pda(self.esc.program_id),
                    "escrow_program": self.esc.program_id})
        terms = [{"worker": w.worker, "rate_per_hour": w.rate_per_hour} if isinstance(w, WorkerTerms)
                 else {"worker": w[0], "rate_per_hour": w[1]} for w in workers]
        return self._ix("open_job_with_credits",
                        {"job_id": job_id, "hours": hours, "accept_window": accept_window, "workers": terms},
                        acc, overrides)

    def _job_accounts(self, authority: Pubkey, user: Pubkey, mint: Pubkey, job: Pubkey, delegate: bool) -> dict:
        u, acc = self._user(mint, user, authority if delegate else None)
        acc.update({"authority": authority, "reserve_vault": self.reserve_address(mint), "customer": u.customer,
                    "refund_account": u.refund_account, "job": job, "vault": self.esc.vault_address(job),
                    "escrow_event_authority": pda.event_authority_pda(self.esc.program_id),
                    "escrow_program": self.esc.program_id})
        return acc

    def end_job_with_credits(self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, job: Pubkey,
                             payees: Sequence[Payee] = (), delegate: bool = False,
                             overrides: Optional[dict] = None) -> Instruction:
        """``end_job_with_credits``: end a credits-paid job, paying ``payees`` (slot, worker token account)
        their due; the rest comes back as credits. ``delegate=True`` when ``authority`` is a delegate."""
        acc = self._job_accounts(authority, user, mint, job, delegate)
        slots = bytes(s for s, _ in payees)
        return self._ix("end_job_with_credits", {"slots": slots}, acc, overrides,
                        [AccountMeta(t, False, True) for _, t in payees])

    def cancel_job_with_credits(self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, job: Pubkey,
                                delegate: bool = False, overrides: Optional[dict] = None) -> Instruction:
        """``cancel_job_with_credits``: cancel a job before any worker accepted; the amount comes back as
        credits."""
        return self._ix("cancel_job_with_credits", {}, self._job_accounts(authority, user, mint, job, delegate),
                        overrides)

    def close_job_with_credits(self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, job: Pubkey,
                               delegate: bool = False, overrides: Optional[dict] = None) -> Instruction:
        """``close_job_with_credits``: close a job that owes nothing; remainder back as credits, fee to the
        market's fee vault."""
        acc = self._job_accounts(authority, user, mint, job, delegate)
        acc.update({"market": self.esc.market_address(mint), "fee_vault": self.esc.fee_vault_address(mint)})
        return self._ix("close_job_with_credits", {}, acc, overrides)

    def reclaim(self, *, user: Pubkey, mint: Pubkey, source: Optional[Pubkey] = None,
                overrides: Optional[dict] = None) -> Instruction:
        """``reclaim`` (permissionless): refunds waiting in ``source`` (default: the user's refund account) back
        to the user's credits."""
        u = self.user_addresses(mint, user)
        return self._ix("reclaim", {}, {"config": self.config_address(mint), "credit_account": u.credit_account,
                                        "customer": u.customer, "source": source or u.refund_account,
                                        "reserve_vault": self.reserve_address(mint)}, overrides)

    # -- inference channels --

    def _channel_accounts(self, authority: Optional[Pubkey], user: Pubkey, mint: Pubkey, channel: Pubkey,
                          delegate: bool) -> dict:
        u, acc = self._user(mint, user, authority if delegate else None)
        if authority is not None:
            acc["authority"] = authority
        acc.update({"reserve_vault": self.reserve_address(mint), "customer": u.customer,
                    "refund_account": u.refund_account, "channel": channel, "pool": self.pay.pool_address(mint),
                    "pool_vault": self.pay.vault_address(mint),
                    "inference_event_authority": pda.event_authority_pda(self.pay.program_id),
                    "inference_program": self.pay.program_id})
        return acc

    def open_channel_with_credits(
        self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, provider: Pubkey, channel_id: int, deposit: int,
        expires_at: int, dispute_window: int, voucher_signer: Optional[Pubkey] = None,
        payer: Optional[Pubkey] = None, delegate: bool = False, overrides: Optional[dict] = None,
    ) -> Instruction:
        """An inference_pay channel to ``provider`` paid with ``user``'s
        credits: ``authority`` is the user or (``delegate=True``) one of its
        delegates; ``voucher_signer`` (default ``authority``) signs the
        vouchers; ``payer`` (default ``authority``) pays the channel's rent
        and gets it back at close. Refunds always go to the user's refund
        account (not a parameter)."""
        if not MIN_DISPUTE_WINDOW <= dispute_window <= MAX_DISPUTE_WINDOW:
            raise ValueError(f"dispute_window must be {MIN_DISPUTE_WINDOW}..{MAX_DISPUTE_WINDOW} seconds")
        channel = self.channel_address(mint, user, _check_key(provider, "provider"), channel_id)
        acc = self._channel_accounts(authority, user, mint, channel, delegate)
        acc.update({"payer": payer or authority, "provider": provider, "market": self.esc.market_address(mint)})
        return self._ix("open_channel_with_credits",
                        {"channel_id": channel_id, "deposit": deposit, "expires_at": expires_at,
                         "dispute_window": dispute_window, "voucher_signer": voucher_signer or authority},
                        acc, overrides)

    def top_up_channel_with_credits(self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, channel: Pubkey,
                                    amount: int, expires_at: int, delegate: bool = False,
                                    overrides: Optional[dict] = None) -> Instruction:
        """Add ``amount`` (may be 0) and/or move the expiry to ``expires_at``
        (not earlier than the current one)."""
        acc = self._channel_accounts(authority, user, mint, channel, delegate)
        acc["market"] = self.esc.market_address(mint)
        return self._ix("top_up_channel_with_credits", {"amount": amount, "expires_at": expires_at}, acc, overrides)

    def start_close_channel_with_credits(self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, channel: Pubkey,
                                         delegate: bool = False, overrides: Optional[dict] = None) -> Instruction:
        """Start the unilateral close of an expired credits-paid channel (user or delegate)."""
        u, acc = self._user(mint, user, authority if delegate else None)
        acc.pop("config")
        acc.update({"authority": authority, "customer": u.customer, "channel": channel,
                    "inference_event_authority": pda.event_authority_pda(self.pay.program_id),
                    "inference_program": self.pay.program_id})
        return self._ix("start_close_channel_with_credits", {}, acc, overrides)

    def coop_close_channel_with_credits(self, *, authority: Pubkey, user: Pubkey, mint: Pubkey, provider: Pubkey,
                                        channel: Pubkey, rent_payer: Pubkey, delegate: bool = False,
                                        overrides: Optional[dict] = None) -> Instruction:
        """Signed by ``authority`` and the channel's ``provider``;
        ``rent_payer`` is the one recorded in the channel."""
        acc = self._channel_accounts(authority, user, mint, channel, delegate)
        acc.update({"provider": provider, "rent_payer": rent_payer})
        return self._ix("coop_close_channel_with_credits", {}, acc, overrides)

    def finish_close_channel_with_credits(self, *, user: Pubkey, mint: Pubkey, channel: Pubkey, rent_payer: Pubkey,
                                          overrides: Optional[dict] = None) -> Instruction:
        """Permissionless (any fee payer), after the dispute window."""
        acc = self._channel_accounts(None, user, mint, channel, False)
        acc["rent_payer"] = rent_payer
        return self._ix("finish_close_channel_with_credits", {}, acc, overrides)
