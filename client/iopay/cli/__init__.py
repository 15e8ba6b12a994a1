"""The ``iopay`` command line (``iopay --help``). Nothing outside this package
imports it; it imports the SDK (:mod:`iopay.core`, the program homes) and
never the reverse.

* :mod:`iopay.cli.main` - the parser, ``main`` and the offline commands;
* :mod:`iopay.cli.common` - URL monikers, keypair loading, output, the
  RPC context and the checks made before anything is sent;
* :mod:`iopay.cli.escrow` - ``market``, ``job``, ``keeper`` (job_escrow).
"""

from iopay.cli.common import CliError, default_url, load_keypair, resolve_url, websocket_url  # noqa: F401
from iopay.cli.main import build_parser, main  # noqa: F401
