"""job_escrow's home: everything about the escrow program in one place.

| module | what |
|---|---|
| :mod:`iopay.escrow.program` | instruction builders, PDAs, and the program's money math mirrored in Python |
| :mod:`iopay.escrow.state` | decoded account views and pure planning math (what is due, what is owed) |
| :mod:`iopay.escrow.pricing` | USD GPU-hour quotes and the oracle conversion the program makes |
| :mod:`iopay.escrow.client` | :class:`EscrowClient`, the async high-level client |
| :mod:`iopay.escrow.keeper` | the keeper service that streams hourly payouts |

Its CLI commands live in :mod:`iopay.cli.escrow`.
"""

from iopay.escrow.client import BookingQuote, EscrowClient, OpenedJob  # noqa: F401
from iopay.escrow.program import IDL_NAME, JobEscrow, WorkerTerms  # noqa: F401
from iopay.escrow.state import JobView, MarketView, PriceFeedView, SlotDue, SlotView  # noqa: F401
