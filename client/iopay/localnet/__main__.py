import sys

from iopay.localnet.cli import main

sys.exit(main())
