"""Loaded by the schemathesis CLI (``SCHEMATHESIS_HOOKS``) in tests/producers/api/test_fuzz_openapi.py.

The test extra installs grafana-client, whose HTTP stack brings
urllib3-future; that package replaces the ``urllib3`` module at every
interpreter start (its ``.pth`` file), so ``requests`` — schemathesis's
transport — runs on the fork. Schemathesis 4.32 counts a session's open
connections (to resend a request a server dropped before answering) through
``PoolManager.pools.keys()``, which the fork's pool container lacks: every
request then fails inside schemathesis before it is sent. Counted here from
the fork's registry instead; with the real urllib3 the original is used.
"""

from __future__ import annotations

from typing import Any

import schemathesis.transport.requests as transport

_original = getattr(transport, "_count_opened_connections", None)


def _count_opened_connections(session: Any) -> int:
    try:
        return _original(session)  # type: ignore[misc]
    except AttributeError:  # urllib3-future's TrafficPolice: no keys(), its pools are in _registry
        total = 0
        for adapter in session.adapters.values():
            for manager in (adapter.poolmanager, *adapter.proxy_manager.values()):
                total += sum(pool.num_connections for pool in list(manager.pools._registry.values()))
        return total


if _original is not None:  # a later schemathesis may count differently: then nothing to mend
    transport._count_opened_connections = _count_opened_connections  # type: ignore[attr-defined]
