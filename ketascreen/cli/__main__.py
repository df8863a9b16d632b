"""``python -m ketascreen.cli``."""

from ketascreen.cli import run

run()
