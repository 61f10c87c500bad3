"""The ACL table: read by infra.kafka_acls and by deploy/kafka-acls.sh alike (no broker here).

docker-compose applies the table with the shell script and kafka-acls.sh; the
integration tests apply it with :mod:`infra.kafka_acls`. The script is run
here with a stand-in for kafka-acls.sh that records its arguments, and must
ask for exactly the ACLs the Python reading gives — so what the tests prove on
the local broker is what compose installs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra.datafile import DataFileError
from infra.kafka_acls import AclRule, parse_acl_table, read_acl_table

ROOT = Path(__file__).resolve().parents[2]
TABLE = ROOT / "deploy" / "kafka-acls.txt"
SCRIPT = ROOT / "deploy" / "kafka-acls.sh"

RECORDER = """#!/usr/bin/env bash
# kafka-acls.sh's stand-in: records each --add call (its arguments separated by tabs) and the client
# config once; --list prints one ACL line per operation added so far, as kafka-acls.sh does.
config=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[$i]}" = "--command-config" ] && config=${args[$((i + 1))]}
done
[ -s "$RECORD.config" ] || cat "$config" > "$RECORD.config"
if [[ " ${args[*]} " == *" --list "* ]]; then
  echo "--list" >> "$RECORD.lists"
  n=$(grep -o -- '--operation' "$RECORD" 2>/dev/null | wc -l)
  for ((i = 0; i < n; i++)); do echo "  (principal=User:x, host=*, operation=READ, permissionType=ALLOW)"; done
  exit 0
fi
(IFS=$'\\t'; echo "${args[*]}") >> "$RECORD"
"""


def kafka_acls_args(rule: AclRule, bootstrap: str, config: str) -> list[str]:
    """The kafka-acls.sh call that makes ``rule``'s ACLs."""
    target = ["--topic" if rule.resource == "topic" else "--group", rule.name]
    operations = [part for op in rule.operations for part in ("--operation", op)]
    return [
        "--bootstrap-server", bootstrap, "--command-config", config, "--add",
        "--allow-principal", f"User:{rule.principal}", "--resource-pattern-type", rule.pattern.upper(),
        *target, *operations,
    ]  # fmt: skip


def run_script(tmp_path: Path, table: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]], str]:
    recorder = tmp_path / "kafka-acls.sh"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    record = tmp_path / "calls.tsv"
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "KAFKA_ACLS": str(recorder),
            "RECORD": str(record),
            "GRIDFLOW_ACL_TABLE": str(table),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,  # the exit status is what some tests check
    )
    calls = [line.split("\t") for line in record.read_text().splitlines()] if record.exists() else []
    config = Path(f"{record}.config").read_text() if Path(f"{record}.config").exists() else ""
    return result, calls, config


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_compose_script_asks_for_exactly_the_tables_acls(tmp_path: Path) -> None:
    result, calls, config = run_script(
        tmp_path, TABLE, KAFKA_ADMIN_PASSWORD="admin-secret-0001", GRIDFLOW_TOPIC_PREFIX="gf", GRIDFLOW_WORKER_ID="gw"
    )
    assert result.returncode == 0, result.stderr
    rules = read_acl_table(TABLE, "gf", "gw")
    assert len(rules) >= 10
    config_path = calls[0][3]
    assert calls == [kafka_acls_args(rule, "kafka:9092", config_path) for rule in rules]
    assert "gf.accounts" in {rule.name for rule in rules} and "gw-" in {rule.name for rule in rules}
    assert Path(f"{tmp_path}/calls.tsv.lists").read_text().count("--list") == 1  # then it waited for the broker's list
    # It logs in as the super user over SASL/SCRAM, and leaves no password behind.
    assert "security.protocol=SASL_PLAINTEXT" in config and "sasl.mechanism=SCRAM-SHA-512" in config
    assert 'username="admin" password="admin-secret-0001"' in config
    assert not Path(config_path).exists()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_the_compose_script_stops_at_a_bad_line_naming_it(tmp_path: Path) -> None:
    table = tmp_path / "acls.txt"
    table.write_text("# fine\nintake topic literal {prefix}.reports Write\nworker topic {prefix}.cases Read\n")
    result, calls, _ = run_script(tmp_path, table, KAFKA_ADMIN_PASSWORD="admin-secret-0001")
    assert result.returncode == 2
    assert f"{table}:3:" in result.stderr
    assert len(calls) == 1  # the good line before it was applied
    without_password = tmp_path / "without-password"
    without_password.mkdir()
    result, calls, _ = run_script(without_password, table)
    assert result.returncode != 0 and "KAFKA_ADMIN_PASSWORD" in result.stderr and not calls


def test_placeholders_are_filled_and_comments_skipped() -> None:
    rules = parse_acl_table(
        "# a comment\n\nintake topic prefixed {prefix}.alerts. Read  # trailing\nworker group prefixed {worker_id} Read,Describe\n",
        "t.txt",
        "gridflow",
        "gridflow",
    )
    assert rules == [
        AclRule("intake", "topic", "prefixed", "gridflow.alerts.", ("Read",), 3),
        AclRule("worker", "group", "prefixed", "gridflow", ("Read", "Describe"), 4),
    ]
    acls = rules[1].acls()
    assert [a.principal for a in acls] == ["User:worker", "User:worker"]
    assert {a.operation.name for a in acls} == {"READ", "DESCRIBE"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("intake topic literal gridflow.reports", "expected"),
        ("intake cluster literal kafka-cluster Alter", "resource"),
        ("intake topic regex gridflow.* Read", "pattern"),
        ("intake topic literal gridflow.reports Write,Rread", "Rread"),
    ],
)
def test_a_bad_line_is_named(line: str, problem: str) -> None:
    with pytest.raises(DataFileError, match=rf"acls\.txt:2: .*{problem}"):
        parse_acl_table(f"# header\n{line}\n", "acls.txt", "gridflow", "gridflow")
