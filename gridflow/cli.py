"""The ``gridflow`` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit, urlunsplit

from analytics.indicators import DIMENSIONS
from infra.settings import Settings
from schemas.vocabulary import INTEGRATED_NETWORKS, Role, SourceNetwork

NETWORKS = [n.value for n in INTEGRATED_NETWORKS]


def _stack(settings: Settings, args: argparse.Namespace) -> int:
    from infra import stack

    if args.action == "up":
        stack.up(settings)
        for name, info in stack.status(settings).items():
            print(f"{name}: {info.get('endpoint')}  (log: {info.get('log')})")
    elif args.action == "down":
        stack.down(settings)
    else:
        print(json.dumps(stack.status(settings), indent=2, ensure_ascii=False, default=str))
    return 0


def _users(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.directory import add_account, revoke_user
    from accounts.password_policy import WeakPassword, check_password
    from district import load_registry
    from infra.kafka import ensure_topics
    from schemas.topics import declared

    password = None
    if args.users_command == "add" and args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        try:  # before any Kafka work: a refused password changes nothing
            check_password(password, field="--password-stdin")
        except WeakPassword as exc:
            print(f"gridflow users add: --password-stdin: {exc.message}", file=sys.stderr)
            return 2
    ensure_topics(settings, declared(load_registry().department_codes))
    if args.users_command == "revoke":
        count = revoke_user(settings, args.id)
        print(f"已吊销 revoked {count} token(s) of {args.id}")
        return 0 if count else 1
    expires = None
    if args.expires_days is not None:
        expires = datetime.now(timezone.utc) + timedelta(days=args.expires_days)
    try:
        token = add_account(
            settings, args.id, Role(args.role), department=args.department, town=args.town, expires_at=expires,
            password=password, network=SourceNetwork(args.network) if args.network else None,
        )
    except ValueError as exc:
        print(f"gridflow users add: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from infra.clickhouse import ServerEngine
    from schemas.migrate import apply

    engine = ServerEngine.from_settings(settings)
    applied = apply(engine, settings.clickhouse_database)
    print(f"applied migrations: {applied or 'none (up to date)'}")
    return 0


def _intake(settings: Settings, args: argparse.Namespace) -> int:
    from producers.api.server import run_intake

    run_intake(settings)
    return 0


def _worker(settings: Settings, args: argparse.Namespace) -> int:
    from processors.worker import run_worker

    if args.web_port:
        settings = settings.replace(worker_web_port=args.web_port)
    run_worker(settings)
    return 0


def _simulate(settings: Settings, args: argparse.Namespace) -> int:
    from producers.simulate import run_simulation

    stats = run_simulation(settings, rate=args.rate, duration=args.duration, token=args.token, seed=args.seed)
    print(json.dumps(stats, ensure_ascii=False))
    return 0


def _import(settings: Settings, args: argparse.Namespace) -> int:
    from producers.imports.run import ImportStopped, run_import

    path = Path(args.file)
    if not path.is_file():
        print(f"gridflow import: {path}: 没有这个文件 no such file", file=sys.stderr)
        return 2
    try:
        summary = run_import(
            settings, SourceNetwork(args.network), path, token=args.token, url=args.url, encoding=args.encoding,
            concurrency=args.concurrency, progress=sys.stderr.isatty(),
        )  # fmt: skip
    except (ValueError, LookupError) as exc:  # an unreadable header, an unknown encoding or file type
        print(f"gridflow import: {exc}", file=sys.stderr)
        return 2
    except ImportStopped as exc:
        print(f"gridflow import: 在第 {exc.line} 行停止 stopped at line {exc.line}: {exc}; 可重新运行 (safe to re-run)",
              file=sys.stderr)  # fmt: skip
        return 1
    for line, reason in summary.problems:
        print(f"{path.name}:{line}: {reason}")
    for line in summary.lines():
        print(line)
    return 0


def _dlq(settings: Settings, args: argparse.Namespace) -> int:
    """List the dead letters, or send them back to their topics."""
    from producers.dead_letters import read_letters, redrive, select

    letters = select(
        read_letters(settings), ids=args.ids, consumer=args.consumer, topic=args.topic,
        pending_only=not getattr(args, "all", False),
    )  # fmt: skip
    if args.dlq_command == "list":
        for letter in letters:
            if args.json:
                print(letter.model_dump_json(exclude={"value_base64"} if not args.bytes else None))
            else:
                done = f"  re-driven {letter.redriven_at:%Y-%m-%d %H:%M}" if letter.redriven_at else ""
                print(f"{letter.at:%Y-%m-%d %H:%M:%S}  {letter.id}  {letter.error}: {letter.reason}{done}")
        if not args.json:
            print(f"{len(letters)} 条死信 dead letter(s)", file=sys.stderr)
        return 0
    if not letters:
        print("gridflow dlq redrive: 没有待重发的死信 no pending dead letter matches", file=sys.stderr)
        return 1
    if not args.ids and not args.everything:
        print("gridflow dlq redrive: 请指定死信编号或 --all (name the letters, or pass --all)", file=sys.stderr)
        return 2
    sent = redrive(settings, letters)
    print(f"已重发 re-driven {sent} dead letter(s)")
    return 0


def _demo(settings: Settings, args: argparse.Namespace) -> int:
    from gridflow.demo import run_demo

    return run_demo(settings, rate=args.rate, duration=args.duration, workers=args.workers, work_for=args.work_for)


def _soak(settings: Settings, args: argparse.Namespace) -> int:
    """The pipeline at a steady rate for many minutes: memory, lag and latency every minute, reconciled at the end."""
    from gridflow.soak import run_soak

    if args.rate <= 0 or args.minutes < 1 or args.minute_seconds <= 0 or args.workers < 1:
        print("gridflow soak: --rate, --minute-seconds 须为正数 must be positive; --minutes, --workers ≥ 1", file=sys.stderr)
        return 2
    return run_soak(
        settings, rate=args.rate, minutes=args.minutes, out=args.out, workers=args.workers,
        minute_s=args.minute_seconds, threshold=args.level_threshold / 100,
    )  # fmt: skip


def _report(settings: Settings, args: argparse.Namespace) -> int:
    """The indicator table for a period, grouped as asked, in the format asked."""
    from analytics.indicators import case_rows, indicators
    from analytics.report import render, title_for
    from analytics.targets import load_targets
    from infra.clickhouse import ServerEngine

    since, until = _day_start(args.since), _day_start(args.until, end=True)
    as_of = _day_start(args.as_of) if args.as_of else datetime.now(timezone.utc)
    engine = ServerEngine.from_settings(settings)
    try:
        rows = indicators(case_rows(engine, settings.clickhouse_database, as_of, since, until), args.by, as_of)
    finally:
        engine.close()
    target = args.out or Path(f"gridflow-report-{args.by}-{args.since}-{args.until}.xlsx")
    out = render(rows, args.format, title=title_for(args.by, since, until, as_of), out=target, targets=load_targets())
    print(f"写入 written: {out}" if args.format == "xlsx" else out, end="\n" if args.format == "xlsx" else "")
    return 0


def _day_start(text: str, end: bool = False) -> datetime:
    """A date (Asia/Shanghai; ``end``: the day after it, so --until is inclusive) or an ISO time."""
    from analytics.indicators import SHANGHAI

    when = datetime.fromisoformat(text)
    if len(text) == 10:  # a bare date
        when = when.replace(tzinfo=SHANGHAI) + (timedelta(days=1) if end else timedelta())
    elif when.tzinfo is None:
        when = when.replace(tzinfo=SHANGHAI)
    return when.astimezone(timezone.utc)


def _dashboards(settings: Settings, args: argparse.Namespace) -> int:
    """build: regenerate the dashboards' JSON and the alert rules; push: install them into an existing Grafana."""
    if args.action == "push":
        return _dashboards_push(settings, args)
    from dashboards import alerts, build

    for path in [*build.write(), alerts.write()]:
        print(path)
    return 0


def _dashboards_push(settings: Settings, args: argparse.Namespace) -> int:
    from dashboards.exceptions import PushError
    from dashboards.push import push, report

    url = args.url or settings.grafana_url
    if not url:
        print("gridflow: dashboards push 需要 needs --url or GRIDFLOW_GRAFANA_URL", file=sys.stderr)
        return 2
    try:
        changes = push(
            url, args.token or settings.grafana_token, args.clickhouse_url or settings.clickhouse,
            settings.clickhouse_database, dry_run=args.dry_run, send_password=args.send_password,
        )  # fmt: skip
    except PushError as exc:
        print(f"gridflow: 推送失败 push failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report(changes, dry_run=args.dry_run)))
    return 0


def _classify(settings: Settings, args: argparse.Namespace) -> int:
    """JSON lines in, one decision per line out, in order; the model is loaded once."""
    from classifier import ReportClassifier
    from district import load_registry
    from processors.lifecycle.decide import decide
    from routing import load_routing

    registry, rules = load_registry(), load_routing(settings.routing_dir)[0]  # data first: fail fast
    classifier = ReportClassifier.cached(settings.cache_path)
    keys = ("category", "subcategory", "severity", "confidence", "lead_department", "co_departments")
    for number, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
        except (ValueError, KeyError, TypeError) as exc:
            print(f"line {number}: expected a JSON object with a \"text\" field ({exc})", file=sys.stderr)
            return 2
        decision = decide(
            text,
            grid_id=item.get("grid_id"),
            category_hint=item.get("category_hint"),
            classifier=classifier,
            registry=registry,
            rules=rules,
            min_confidence=settings.classifier_min_confidence,
        ).to_dict()
        print(json.dumps({k: decision[k] for k in keys}, ensure_ascii=False), flush=True)
    return 0


def _without_password(value: object) -> object:
    """A URL's password as ``***`` (CLICKHOUSE_URL may carry one); other values as they are."""
    if not isinstance(value, str) or "://" not in value:
        return value
    parts = urlsplit(value)
    if not parts.password:
        return value
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _settings(settings: Settings, args: argparse.Namespace) -> int:
    for f in dataclasses.fields(Settings):
        value = getattr(settings, f.name)
        shown = "(set)" if f.metadata["secret"] and value else _without_password(value)
        print(f"{f.metadata['env']:36} {shown!s:32} {f.metadata['doc']}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="gridflow", description="网格事件流转 grid-governance event pipeline")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("stack", help="start, stop or inspect the local Kafka and ClickHouse")
    p.add_argument("action", choices=["up", "down", "status"])
    p.set_defaults(run=_stack)

    p = sub.add_parser("users", help="accounts and tokens")
    users = p.add_subparsers(dest="users_command", required=True)
    add = users.add_parser("add", help="create an account and print its bearer token")
    add.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    add.add_argument("--id", required=True, help="account id, e.g. wgy-xl-0203")
    add.add_argument("--department", help="department code for department staff/heads, e.g. SFS-XL")
    add.add_argument("--town", help="town code for a town sub-centre or grid worker, e.g. XL")
    add.add_argument(
        "--network", choices=NETWORKS, help="the source network an integrator speaks for (required for integrators)"
    )
    add.add_argument(
        "--expires-days", dest="expires_days", type=float, help="days the token is valid (default GRIDFLOW_TOKEN_TTL_DAYS)"
    )
    add.add_argument(
        "--password-stdin", dest="password_stdin", action="store_true",
        help="read a sign-in password for the pages from standard input (stored as a scrypt hash; at least 10 "
        "characters of at least two kinds: letters, digits, symbols)",
    )  # fmt: skip
    add.set_defaults(run=_users)
    revoke = users.add_parser("revoke", help="revoke every token of an account (refused everywhere within seconds)")
    revoke.add_argument("--id", required=True, help="account id")
    revoke.set_defaults(run=_users)

    p = sub.add_parser("migrate", help="apply ClickHouse migrations")
    p.set_defaults(run=_migrate)

    p = sub.add_parser("intake", help="serve the HTTP intake")
    p.set_defaults(run=_intake)

    p = sub.add_parser("worker", help="run a Faust worker")
    p.add_argument("--web-port", type=int, default=0, help="web port of this worker (default from settings)")
    p.set_defaults(run=_worker)

    p = sub.add_parser("simulate", help="post realistic reports of the demo district to the intake")
    p.add_argument("--rate", type=float, default=5.0, help="reports per second")
    p.add_argument("--duration", type=float, default=60.0, help="seconds to run")
    p.add_argument("--token", help="bearer token (default: create simulator accounts)")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(run=_simulate)

    p = sub.add_parser("import", help="import a source network's export file (CSV in UTF-8 or GBK, or JSON Lines)")
    p.add_argument("--network", required=True, choices=NETWORKS, help="the network whose export it is")
    p.add_argument("file", help="the export file (.csv or .jsonl)")
    p.add_argument("--encoding", default="auto", help="auto (UTF-8, else GBK), or a codec name such as gbk")
    p.add_argument("--token", help="the network's integrator token (default: a day's token of import-<network>)")
    p.add_argument("--url", help="the intake (default: GRIDFLOW_INTAKE_HOST/PORT)")
    p.add_argument("--concurrency", type=int, default=32, help="records in flight at once")
    p.set_defaults(run=_import)

    p = sub.add_parser("dlq", help="the dead letters: records a consumer could not use (list, redrive)")
    dlq = p.add_subparsers(dest="dlq_command", required=True)
    for name, text in (("list", "list the dead letters (pending ones unless --all)"),
                       ("redrive", "send dead letters back to the topic they came from")):  # fmt: skip
        q = dlq.add_parser(name, help=text)
        q.add_argument("ids", nargs="*", help="dead letter ids (consumer:topic:partition:offset); none: all that match")
        q.add_argument("--consumer", help="only those of this consumer (an agent, clickhouse-sink, webhook-<DEPT>)")
        q.add_argument("--topic", help="only those from this topic (its name without the prefix)")
        if name == "list":
            q.add_argument("--all", action="store_true", help="re-driven ones too")
            q.add_argument("--json", action="store_true", help="one JSON object per line")
            q.add_argument("--bytes", action="store_true", help="with --json: include the original bytes (personal data)")
        else:
            q.add_argument("--all", dest="everything", action="store_true", help="every pending letter that matches")
        q.set_defaults(run=_dlq)

    p = sub.add_parser("demo", help="the whole pipeline locally, fed by the simulator")
    p.add_argument("--rate", type=float, default=20.0, help="simulated reports per second")
    p.add_argument("--duration", type=float, default=0, help="seconds to run (0: until Ctrl-C)")
    p.add_argument("--workers", type=int, default=2, help="Faust workers to start")
    p.add_argument(
        "--work-for", dest="work_for", type=float, default=120.0,
        help="seconds the simulated departments keep working after the reports stop, before the report",
    )  # fmt: skip
    p.set_defaults(run=_demo)

    p = sub.add_parser("soak", help="the whole pipeline at a steady rate for M minutes: memory, lag, latency each minute")
    p.add_argument("--rate", type=float, default=30.0, help="simulated reports per second")
    p.add_argument("--minutes", type=int, default=30, help="minutes to run (one row each)")
    p.add_argument("--workers", type=int, default=2, help="Faust workers to start")
    p.add_argument("--out", type=Path, help="JSON Lines file the rows are appended to (default: <home>/logs/soak-<time>.jsonl)")
    p.add_argument(
        "--minute-seconds", dest="minute_seconds", type=float, default=60.0,
        help="seconds in a measured \"minute\" (shorter for a quick check, e.g. 15)",
    )  # fmt: skip
    p.add_argument(
        "--level-threshold", dest="level_threshold", type=float, default=5.0,
        help="percent by which the last third's memory peak may exceed the earlier peak and still count as levelled off",
    )  # fmt: skip
    p.set_defaults(run=_soak)

    p = sub.add_parser("classify", help="classify and route JSON lines from stdin ({\"text\": ...})")
    p.set_defaults(run=_classify)

    p = sub.add_parser("report", help="the indicator table (综合评价) for a period, from ClickHouse")
    p.add_argument("--since", required=True, help="first day (YYYY-MM-DD, Asia/Shanghai) or an ISO time")
    p.add_argument("--until", required=True, help="last day, inclusive (YYYY-MM-DD) or an ISO time (exclusive)")
    p.add_argument("--by", default="department", choices=list(DIMENSIONS))
    p.add_argument("--format", default="table", choices=["table", "csv", "json", "xlsx"])
    p.add_argument("--out", type=Path, help="the .xlsx file (default: gridflow-report-<by>-<since>-<until>.xlsx)")
    p.add_argument("--as-of", dest="as_of", help="count as things stood then (default: now)")
    p.set_defaults(run=_report)

    p = sub.add_parser("dashboards", help="Grafana dashboards as code")
    p.add_argument(
        "action", choices=["build", "push"],
        help="build: regenerate dashboards/json from dashboards/build.py; push: install the datasource, folder and "
        "dashboards into an existing Grafana that docker-compose does not provision",
    )  # fmt: skip
    p.add_argument("--url", help="push: the Grafana, e.g. https://grafana.example.gov.cn (default GRIDFLOW_GRAFANA_URL)")
    p.add_argument(
        "--token", help="push: service account token (default GRIDFLOW_GRAFANA_TOKEN, which keeps it out of ps)"
    )
    p.add_argument(
        "--clickhouse-url", dest="clickhouse_url",
        help="push: ClickHouse as Grafana reaches it, clickhouse://user:password@host:9000/db "
        "(default CLICKHOUSE_URL, else the local server)",
    )  # fmt: skip
    p.add_argument("--dry-run", dest="dry_run", action="store_true", help="push: report what would change, write nothing")
    p.add_argument(
        "--send-password", dest="send_password", action="store_true",
        help="push: write the ClickHouse URL's password even if the datasource is unchanged (Grafana cannot show it, "
        "so otherwise it is written only when the datasource is created or changed)",
    )  # fmt: skip
    p.set_defaults(run=_dashboards)

    p = sub.add_parser("settings", help="list every setting, its environment variable and value")
    p.set_defaults(run=_settings)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    settings = Settings.from_env()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    # httpx and kafka-python narrate every request at INFO: keep them for warnings.
    for noisy in ("httpx", "kafka"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    run: Callable[[Settings, argparse.Namespace], int] = args.run
    from district.validate import RegistryError
    from infra.datafile import DataFileError

    try:
        return run(settings, args)
    except (DataFileError, RegistryError) as exc:
        # A bad data file stops start-up with its file, line and problem, not a traceback.
        print(f"gridflow: 数据文件有误 bad data file: {exc}", file=sys.stderr)
        return 2
