"""``python -m cnet``: the same command line as the ``cnet`` script."""
import sys

from .cli import main

sys.exit(main())
