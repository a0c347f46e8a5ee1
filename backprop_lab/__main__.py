"""``python -m backprop_lab``: the same as the ``backprop-lab`` command."""

import sys

from .entry import main

sys.exit(main())
