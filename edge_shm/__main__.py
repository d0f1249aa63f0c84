"""``python -m edge_shm ...`` is the ``edge-shm`` command."""

import sys

from edge_shm.cli import main

sys.exit(main())
