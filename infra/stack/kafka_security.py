"""The local broker's opt-in SASL/SCRAM + ACL mode (``GRIDFLOW_KAFKA_STACK_SCRAM``): docker-compose's broker, on 127.0.0.1.

Same layout as ``deploy/kafka-start.sh``:

- clients on a SASL_PLAINTEXT listener with SCRAM; the SCRAM users are
  written into the metadata log when the data folder is formatted
  (``kafka-storage format --add-scram``), before the broker ever listens, so
  there is no moment when the broker runs without them;
- the controller listener on SASL_PLAINTEXT with PLAIN, its one user (the
  super user) in the JAAS line: the broker's login to its own controller does
  not depend on the metadata log the controller serves;
- ``StandardAuthorizer`` (KRaft's), ``allow.everyone.if.no.acl.found=false``
  (no ACL: refused) and the settings' user as the only super user — the
  broker itself talks to its controller as that user, and ACLs are made by it.

Passwords go into ``server.properties`` (a JAAS line) and onto the format
command line (``[name=…,password=…]``), so only characters neither can
mistake are allowed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from infra.settings import Settings
from infra.stack.processes import StackError

#: characters a password may hold: no quote, backslash, comma, bracket or space (JAAS and --add-scram syntax)
SAFE_SECRET = re.compile(r"[A-Za-z0-9._~+/=-]+")
SCRAM_MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256")
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def check_secret(what: str, value: str) -> None:
    """Raise :class:`StackError` naming ``what`` unless ``value`` is a password the broker's files can hold."""
    if not SAFE_SECRET.fullmatch(value or ""):
        raise StackError(f"{what}: use letters, digits and . _ ~ + / = - only (e.g. `openssl rand -hex 24`)")


def check_settings(settings: Settings) -> str:
    """The SCRAM mechanism to use, after checking the client settings fit a local SCRAM broker."""
    mechanism = settings.kafka_sasl_mechanism.strip().upper()
    if settings.kafka_security_protocol.strip().upper() != "SASL_PLAINTEXT":
        raise StackError("GRIDFLOW_KAFKA_STACK_SCRAM needs GRIDFLOW_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT")
    if mechanism not in SCRAM_MECHANISMS:
        raise StackError(f"GRIDFLOW_KAFKA_STACK_SCRAM needs GRIDFLOW_KAFKA_SASL_MECHANISM in {SCRAM_MECHANISMS}")
    if not re.fullmatch(r"[A-Za-z0-9._-]+", settings.kafka_username or ""):
        raise StackError("GRIDFLOW_KAFKA_STACK_SCRAM needs GRIDFLOW_KAFKA_USERNAME (letters, digits, . _ -): its super user")
    check_secret("GRIDFLOW_KAFKA_PASSWORD", settings.kafka_password)
    return mechanism


def server_properties(settings: Settings, port: int, controller_port: int) -> dict[str, str]:
    """The listener, SASL and authorizer lines of a SCRAM broker (the rest is the PLAINTEXT broker's)."""
    mechanism = check_settings(settings)
    admin, password = settings.kafka_username, settings.kafka_password
    return {
        "listeners": f"SASL_PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"SASL_PLAINTEXT://127.0.0.1:{port}",
        "inter.broker.listener.name": "SASL_PLAINTEXT",
        "listener.security.protocol.map": "SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT",
        "sasl.enabled.mechanisms": mechanism,
        "sasl.mechanism.inter.broker.protocol": mechanism,
        f"listener.name.sasl_plaintext.{mechanism.lower()}.sasl.jaas.config": (
            f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{admin}" password="{password}";'
        ),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            "org.apache.kafka.common.security.plain.PlainLoginModule required "
            f'username="{admin}" password="{password}" user_{admin}="{password}";'
        ),
        "authorizer.class.name": AUTHORIZER,
        "allow.everyone.if.no.acl.found": "false",
        "super.users": f"User:{admin}",
    }


def add_scram_args(settings: Settings, users: Mapping[str, str]) -> list[str]:
    """``--add-scram`` arguments of the format command: the super user and ``users`` (name → password)."""
    mechanism = check_settings(settings)
    everyone = {settings.kafka_username: settings.kafka_password, **users}
    args: list[str] = []
    for name, password in everyone.items():
        if not re.fullmatch(r"[A-Za-z0-9._-]+", name):
            raise StackError(f"SCRAM user name {name!r}: use letters, digits and . _ - only")
        check_secret(f"the password of SCRAM user {name}", password)
        args += ["--add-scram", f"{mechanism}=[name={name},password={password}]"]
    return args
