"""``python -m ketascreen.cli``."""

import sys

from ketascreen.cli import main

sys.exit(main())
