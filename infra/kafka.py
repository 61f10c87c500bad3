"""Kafka plumbing shared by the intake, the CLI and the tests (kafka-python).

The Faust workers use Faust's own aiokafka clients; everything outside them
uses kafka-python, one library for producing and administering. Every client
of either kind is made with the settings' security: :func:`client_config`
for kafka-python, :func:`faust_credentials` for Faust — so a broker that
wants SASL/SCRAM (docker-compose's) is spoken to the same way by all of them.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import (
    ClusterAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)

from infra.settings import Settings

logger = logging.getLogger(__name__)

PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


def _security(settings: Settings) -> tuple[str, str]:
    """(protocol, mechanism), checked: a clear error naming the setting instead of a client's obscure one."""
    protocol = settings.kafka_security_protocol.strip().upper()
    if protocol not in PROTOCOLS:
        raise ValueError(f"GRIDFLOW_KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol!r}: use one of {PROTOCOLS}")
    mechanism = settings.kafka_sasl_mechanism.strip().upper()
    if protocol == "PLAINTEXT":
        return protocol, mechanism
    if mechanism not in SASL_MECHANISMS:
        raise ValueError(f"GRIDFLOW_KAFKA_SASL_MECHANISM={settings.kafka_sasl_mechanism!r}: use one of {SASL_MECHANISMS}")
    if mechanism == "PLAIN" and protocol != "SASL_SSL":
        # PLAIN sends the password itself: only inside TLS.
        raise ValueError("GRIDFLOW_KAFKA_SASL_MECHANISM=PLAIN sends the password in clear: use SCRAM, or SASL_SSL")
    if not settings.kafka_username or not settings.kafka_password:
        raise ValueError(f"{protocol} needs GRIDFLOW_KAFKA_USERNAME and GRIDFLOW_KAFKA_PASSWORD")
    return protocol, mechanism


def _ssl_context(settings: Settings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)


def client_config(settings: Settings) -> dict[str, Any]:
    """Keyword arguments every kafka-python client (producer, consumer, admin) gets: bootstrap and security."""
    protocol, mechanism = _security(settings)
    config: dict[str, Any] = {"bootstrap_servers": settings.bootstrap}
    if protocol == "PLAINTEXT":
        return config
    config.update(
        security_protocol=protocol,
        sasl_mechanism=mechanism,
        sasl_plain_username=settings.kafka_username,
        sasl_plain_password=settings.kafka_password,
    )
    if protocol == "SASL_SSL":
        config["ssl_context"] = _ssl_context(settings)
    return config


def faust_credentials(settings: Settings) -> Any:
    """Faust's ``broker_credentials`` for these settings (None for PLAINTEXT).

    ``faust.SASLCredentials`` speaks SASL_PLAINTEXT when its ``ssl_context``
    is None and SASL_SSL when it has one (faust/auth.py); Faust hands it to
    every aiokafka consumer and producer it makes, the one that creates
    topics included (``credentials_to_aiokafka_auth``).
    """
    protocol, mechanism = _security(settings)
    if protocol == "PLAINTEXT":
        return None
    import faust  # here: the intake and the CLI never import Faust

    return faust.SASLCredentials(
        username=settings.kafka_username,
        password=settings.kafka_password,
        mechanism=mechanism,
        ssl_context=_ssl_context(settings) if protocol == "SASL_SSL" else None,
    )


def producer(settings: Settings, **overrides: object) -> KafkaProducer:
    """A producer that waits for all in-sync replicas (acks=all), idempotent.

    ``max_block_ms`` is short so that a broker that is down turns into a quick
    503 at the intake instead of a hanging request.
    """
    config: dict[str, object] = dict(
        **client_config(settings),
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
        max_block_ms=3000,
        bootstrap_timeout_ms=3000,
        request_timeout_ms=3000,
        delivery_timeout_ms=int(settings.intake_produce_timeout_s * 1000),
        retry_backoff_ms=100,
        client_id="gridflow",
    )
    config.update(overrides)
    return KafkaProducer(**config)


def ensure_topics(
    settings: Settings,
    topics: Iterable[tuple[str, dict[str, str]]],
    internal: Iterable[tuple[str, dict[str, str], int]] = (),
) -> list[str]:
    """Create the topics if missing, and wait until the broker shows them; returns those created.

    ``topics`` are logical names (prefixed here) with their configs, each
    with ``kafka_partitions`` partitions (:func:`schemas.topics.declared`
    lists gridflow's); ``internal`` are full names with their configs and
    partition counts (the Faust workers' changelog topics).
    """
    n = settings.kafka_partitions
    specs = [(settings.topic(name), config, n) for name, config in topics] + list(internal)
    admin = KafkaAdminClient(**client_config(settings), client_id="gridflow-admin", request_timeout_ms=10000)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, partitions, settings.kafka_replication, topic_configs=config)
            for name, config, partitions in specs
            if name not in existing
        ]
        created = [t.name for t in wanted]
        if wanted:
            # One request for all; a topic another process created meanwhile is not an error.
            answer = admin.create_topics(wanted, raise_errors=False)
            _refused(settings, answer)
        if created:
            logger.info("created topics %s", ", ".join(created))
        _wait_visible(admin, [name for name, _, _ in specs])
        return created
    finally:
        admin.close()


def _refused(settings: Settings, answer: Any) -> None:
    """Raise when the broker refused to create a topic for want of rights (waiting for it would take a minute).

    Other errors are logged and waited out as before: a topic another process
    created meanwhile, or one a busy broker timed out on but still makes.
    """
    topics = answer.get("topics", []) if isinstance(answer, dict) else []
    failed = [t for t in topics if t.get("error_code", 0) not in (0, TopicAlreadyExistsError.errno)]
    refused = [t for t in failed if t.get("error_code") in _NOT_ALLOWED]
    for t in failed:
        if t not in refused:
            logger.warning("creating %s: %s", t.get("name"), t.get("error_message") or t.get("error_code"))
    if refused:
        names = ", ".join(t.get("name", "?") for t in refused[:5])
        raise RuntimeError(
            f"Kafka refused to create {len(refused)} topic(s) ({names}): Kafka user {settings.kafka_username!r} "
            "needs Create on them (deploy/kafka-acls.txt)"
        )


#: CreateTopics answers that mean "not allowed": TopicAuthorizationFailed, ClusterAuthorizationFailed
_NOT_ALLOWED = {TopicAuthorizationFailedError.errno, ClusterAuthorizationFailedError.errno}


def _wait_visible(admin: KafkaAdminClient, names: list[str], timeout: float = 60.0) -> None:
    """Return once every topic in ``names`` shows a leader for each of its partitions.

    A Faust worker takes the topics it finds in metadata when it joins its
    group and ignores the rest for good ("Ignoring missing topic"); on a busy
    or freshly started broker a topic created a moment ago may not be there
    yet, so workers and the intake start only after this returns.
    """
    deadline = time.monotonic() + timeout
    missing: list[str] = names
    while time.monotonic() < deadline:
        described = {t["name"]: t for t in admin.describe_topics(missing)}
        missing = [
            n
            for n in missing
            if n not in described
            or described[n].get("error_code", 0) != 0
            or not described[n]["partitions"]
            or any(p.get("leader_id", -1) < 0 for p in described[n]["partitions"])
        ]
        if not missing:
            return
        time.sleep(0.2)
    raise TimeoutError(f"topics not visible after {timeout:.0f} s: {', '.join(missing[:5])}")
