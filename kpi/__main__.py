"""`python -m kpi`: the engine from the command line."""

import sys

from kpi.cli import main

sys.exit(main())
