"""IOSD credits (program ``iosd_credits``): instruction builders
(:mod:`.program`), decoded views and pure accounting (:mod:`.state`) and the
async :class:`CreditsClient` (:mod:`.client`)."""

from iopay.credits.client import CreditChannel, CreditsClient
from iopay.credits.program import IosdCredits, parse_usd
from iopay.credits.state import ConfigView, CreditAccountView, DelegationView

__all__ = ["CreditChannel", "CreditsClient", "IosdCredits", "parse_usd", "ConfigView", "CreditAccountView",
           "DelegationView"]
