"""IOSD credits (program ``iosd_credits``): instruction builders
(:mod:`.program`), decoded views and pure accounting (:mod:`.state`) and the
async :class:`CreditsClient` (:mod:`.client`)."""

from iopay.credits.client import CreditsClient
from iopay.credits.program import IosdCredits, parse_usd
from iopay.credits.state import ConfigView, CreditAccountView, DelegationView, InferenceAllowanceView

__all__ = ["CreditsClient", "IosdCredits", "parse_usd", "ConfigView", "CreditAccountView", "DelegationView",
           "InferenceAllowanceView"]
