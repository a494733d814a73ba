"""``python -m robosim_cosmos.cli``: the ``robosim-cosmos`` command."""

import sys

from .main import main

sys.exit(main())
