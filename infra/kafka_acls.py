"""The broker's ACL table (``deploy/kafka-acls.txt``), read and applied with kafka-python.

docker-compose applies the table with ``kafka-acls.sh`` (``deploy/kafka-acls.sh``);
this module reads the same lines, so the tests can apply exactly them to the
local SCRAM broker and prove that the intake and a worker run on them — and
that what no line allows is refused. Applying is idempotent: an ACL that
exists already is not added twice. The broker's authorizer learns new ACLs
from its metadata log a moment (seconds, on a busy machine) after
CreateAcls has answered, so applying returns only once the broker lists them
all: a topic created right afterwards is then allowed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)

from infra.datafile import DataFileError
from infra.kafka import client_config
from infra.settings import Settings

#: kafka-acls.sh's operation names (the table's) → kafka-python's
OPERATIONS = {
    "Read": ACLOperation.READ,
    "Write": ACLOperation.WRITE,
    "Create": ACLOperation.CREATE,
    "Delete": ACLOperation.DELETE,
    "Alter": ACLOperation.ALTER,
    "Describe": ACLOperation.DESCRIBE,
    "DescribeConfigs": ACLOperation.DESCRIBE_CONFIGS,
    "AlterConfigs": ACLOperation.ALTER_CONFIGS,
    "IdempotentWrite": ACLOperation.IDEMPOTENT_WRITE,
    "All": ACLOperation.ALL,
}
RESOURCES = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP}
PATTERNS = {"literal": ACLResourcePatternType.LITERAL, "prefixed": ACLResourcePatternType.PREFIXED}


@dataclass(frozen=True)
class AclRule:
    """One line of the table, its placeholders filled in: ``principal`` may do ``operations`` on the resource."""

    principal: str
    resource: str
    pattern: str
    name: str
    operations: tuple[str, ...]
    line: int

    def acls(self) -> list[ACL]:
        """The rule as kafka-python ACLs (one per operation), allowed from any host."""
        pattern = ResourcePattern(RESOURCES[self.resource], self.name, PATTERNS[self.pattern])
        return [
            ACL(f"User:{self.principal}", "*", OPERATIONS[op], ACLPermissionType.ALLOW, pattern) for op in self.operations
        ]


def read_acl_table(path: Path, topic_prefix: str, worker_id: str) -> list[AclRule]:
    """The table's rules for these names (``{prefix}``, ``{worker_id}``); a bad line raises DataFileError naming it."""
    return parse_acl_table(path.read_text(encoding="utf-8"), path, topic_prefix, worker_id)


def parse_acl_table(text: str, path: object, topic_prefix: str, worker_id: str) -> list[AclRule]:
    """:func:`read_acl_table` of a table's ``text`` (``path`` names it in errors)."""
    rules: list[AclRule] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        text = raw.split("#", 1)[0].strip()
        if not text:
            continue
        fields = text.split()
        if len(fields) != 5:
            raise DataFileError(path, number, "expected: principal resource pattern name operations")
        principal, resource, pattern, name, operations = fields
        if resource not in RESOURCES:
            raise DataFileError(path, number, f"resource {resource!r}: use one of {sorted(RESOURCES)}")
        if pattern not in PATTERNS:
            raise DataFileError(path, number, f"pattern {pattern!r}: use one of {sorted(PATTERNS)}")
        ops = tuple(operations.split(","))
        unknown = [op for op in ops if op not in OPERATIONS]
        if unknown:
            raise DataFileError(path, number, f"unknown operation(s) {unknown}: use {sorted(OPERATIONS)}")
        filled = name.replace("{prefix}", topic_prefix).replace("{worker_id}", worker_id)
        rules.append(AclRule(principal, resource, pattern, filled, ops, number))
    return rules


def apply_acls(settings: Settings, rules: list[AclRule], timeout: float = 60.0) -> int:
    """Create the rules' ACLs as the settings' user (a super user) and wait until the broker enforces them.

    Returns how many ACLs the rules make.
    """
    acls = [acl for rule in rules for acl in rule.acls()]
    admin = KafkaAdminClient(**client_config(settings), client_id="gridflow-acls", request_timeout_ms=30000)
    try:
        failed = admin.create_acls(acls).get("failed") or []
        if failed:
            raise RuntimeError(f"the broker refused {len(failed)} ACL(s): {failed[:3]}")
        wanted = {_key(acl) for acl in acls}
        deadline = time.monotonic() + timeout
        while True:
            missing = wanted - _listed(admin)
            if not missing:
                return len(acls)
            if time.monotonic() > deadline:
                raise TimeoutError(f"the broker does not list {len(missing)} new ACL(s) after {timeout:.0f} s")
            time.sleep(0.5)
    finally:
        admin.close()


def _key(acl: ACL) -> tuple[str, str, int, int, str, int, int]:
    pattern = acl.resource_pattern
    return (acl.principal, acl.host, int(pattern.resource_type), int(pattern.pattern_type), pattern.resource_name,
            int(acl.operation), int(acl.permission_type))  # fmt: skip


def _listed(admin: KafkaAdminClient) -> set[tuple[str, str, int, int, str, int, int]]:
    """Every ACL the broker's authorizer holds (DescribeAcls answers from it)."""
    every = ACLFilter(
        principal=None, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    )  # fmt: skip
    acls, _error = admin.describe_acls(every)
    return {_key(acl) for acl in acls}
