"""The SQL a dashboard panel sends to ClickHouse, as Grafana would send it.

Grafana's front end substitutes the template variables (``${town}``); the
ClickHouse datasource plugin (grafana-clickhouse-datasource 4.x) then expands
its ``$__`` macros on the server side. The tests and the benchmark run each
panel's query this way against real ClickHouse engines.

The plugin's Go module is not served by the Go module proxy these machines
reach, so the macros are expanded here, with the plugin's documented output
for each macro (its README's macro table; ``pkg/macros/macros.go``). Every
panel's expansion was compared once with the plugin's own Go code (v4.18.0,
built here from its source, not kept): identical. A macro
this module does not know is an error, never passed through: a panel that
starts using one fails its test until it is added here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterator

#: ``$__name`` or ``$__name(args)``; arguments hold no parentheses in gridflow's panels
_MACRO = re.compile(r"\$__(\w+)(?:\(([^()]*)\))?")
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)\b")


@dataclass(frozen=True)
class TimeRange:
    """The dashboard's time picker and the panel's interval, as the plugin receives them."""

    start: datetime
    end: datetime
    interval_ms: int = 60_000


@dataclass(frozen=True)
class PanelQuery:
    """One query of one panel of one dashboard."""

    dashboard: str
    panel: str
    panel_type: str
    query_format: int
    sql: str


def _one(name: str, args: list[str]) -> str:
    if len(args) != 1:
        raise ValueError(f"$__{name} expects 1 argument, got {len(args)}")
    return args[0]


def _seconds(at: datetime) -> str:
    return f"toDateTime({int(at.timestamp())})"


def _interval_seconds(window: TimeRange) -> int:
    return int(max(window.interval_ms / 1000, 1))


#: the plugin's macros: name → (time range, arguments) → SQL
MACROS: dict[str, Callable[[TimeRange, list[str]], str]] = {
    "timeFilter": lambda w, a: f"{_one('timeFilter', a)} >= {_seconds(w.start)} AND {a[0]} <= {_seconds(w.end)}",
    "fromTime": lambda w, a: _seconds(w.start),
    "toTime": lambda w, a: _seconds(w.end),
    "timeInterval": lambda w, a: (
        f"toStartOfInterval(toDateTime({_one('timeInterval', a)}), INTERVAL {_interval_seconds(w)} second)"
    ),
    "interval_s": lambda w, a: str(_interval_seconds(w)),
}


def expand_macros(sql: str, window: TimeRange) -> str:
    """``sql`` with the plugin's ``$__`` macros expanded for ``window``."""

    def one(match: re.Match[str]) -> str:
        name, raw = match.group(1), match.group(2)
        if name not in MACROS:
            raise ValueError(f"unknown macro $__{name}")
        args = [part.strip() for part in raw.split(",")] if raw else []
        return MACROS[name](window, args)

    return _MACRO.sub(one, sql)


def substitute(sql: str, values: dict[str, str]) -> str:
    """``sql`` with Grafana's template variables (``${name}``, ``$name``) replaced by ``values``."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name.startswith("__"):
            return match.group(0)  # a macro: the plugin's, not the front end's
        if name not in values:
            raise ValueError(f"no value for template variable {name}")
        return values[name]

    return _VARIABLE.sub(one, sql)


def defaults(board: dict[str, Any]) -> dict[str, str]:
    """Each template variable's current value as the dashboard opens (its default)."""
    return {v["name"]: str(v.get("current", {}).get("value", v.get("query", ""))) for v in board["templating"]["list"]}


def queries(board: dict[str, Any]) -> Iterator[PanelQuery]:
    """Every ClickHouse query of every panel of ``board`` (a dashboard's JSON model)."""
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            yield PanelQuery(board["uid"], panel["title"], panel["type"], int(target["format"]), target["rawSql"])


def rendered(query: PanelQuery, values: dict[str, str], window: TimeRange) -> str:
    """The SQL ClickHouse receives for ``query`` with ``values`` chosen, over ``window``."""
    return expand_macros(substitute(query.sql, values), window)

