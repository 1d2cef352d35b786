"""``python -m cnet``: the command line, as ``cnet`` (see cnet/cli.py)."""
import sys

from .cli import main

sys.exit(main())
