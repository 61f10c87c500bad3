"""The Faust agents: each wires a topic (or a timer, or a web route) to the pure case logic.

    reports ─accept─> case-openings ─numbering─> case-commands ─case─> case-events, cases, alerts.<DEPT>
                                     timers (deadline checks) ─┘        └─> case-replies (verdicts)
    views: the workers' table lookups for the HTTP API

Each module has ``register(pipeline)``; :data:`AGENTS` lists them once, and
the worker registers them all on its :class:`~processors.pipeline.Pipeline`.
"""

from __future__ import annotations

from processors.agents import accept, case, numbering, timers, views

#: every agent's registration, in the order a report meets them
AGENTS = (accept.register, numbering.register, case.register, timers.register, views.register)
