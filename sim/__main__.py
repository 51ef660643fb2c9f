"""`python -m sim ...` is the same as the `sim` console script."""
import sys

from sim.cli import console_main

sys.exit(console_main())
