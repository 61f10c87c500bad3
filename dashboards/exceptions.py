"""The dashboards package's errors."""

from __future__ import annotations


class PushError(Exception):
    """A push that cannot go on; the message is one line that names the object or setting at fault."""
