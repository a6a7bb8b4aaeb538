"""``python -m spikec.cli``: the ``spikec`` command."""

import sys

from spikec.cli import main

sys.exit(main())
