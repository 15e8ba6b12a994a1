from iopay.cli import main

raise SystemExit(main())
