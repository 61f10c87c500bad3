"""The one exception an adapter raises: an event it cannot read."""

from __future__ import annotations

#: ``AdapterError.field`` when the fault is the event as a whole (not a mapping, not JSON, too large)
WHOLE_EVENT = "*"


class AdapterError(ValueError):
    """An event that cannot be read.

    ``field`` is the NETWORK's own field name (``sjbh``, ``DISCOVER_TIME``…),
    so the network's integrator can find it in their own system; ``message``
    is a Chinese explanation fit to show them.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def quote(value: object, limit: int = 40) -> str:
    """``value`` as a message may quote it: short, whatever it is (a hostile value may be megabytes)."""
    if isinstance(value, (str, bytes)):
        text = repr(value[:limit])
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "<很大的整数>"  # repr of an int over 4,300 digits raises ValueError
    elif isinstance(value, (bool, int, float)) or value is None:
        text = repr(value)
    else:
        return f"<{type(value).__name__}>"  # repr of nested junk could itself be huge or recursive
    return text if len(text) <= limit else text[: limit - 3] + "..."
