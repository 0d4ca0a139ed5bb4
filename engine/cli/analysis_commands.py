"""``contiflow compare`` and other analysis commands (process optimisation)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from engine.api import Engine

Add = Callable[[str, str], argparse.ArgumentParser]


def register(add: Add) -> None:
    """Add this group's sub-commands to the ``contiflow`` parser."""


HANDLERS: dict[str, Callable[[Engine, Any], int]] = {}
