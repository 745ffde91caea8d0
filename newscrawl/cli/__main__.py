"""`python -m newscrawl.cli` is the `newscrawl` command."""

import sys

from newscrawl.cli import main

sys.exit(main())
