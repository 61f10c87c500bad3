"""The ClickHouse query type grafana-foundation-sdk lacks (grafana-clickhouse-datasource's SQL editor query)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.cog import variants

from dashboards.provisioned import DATASOURCE_TYPE, DATASOURCE_UID

#: the plugin's query formats (pkg/plugin: FormatTable = 1, FormatTimeSeries = 0)
TABLE, TIME_SERIES = 1, 0


class ClickHouseQuery(variants.Dataquery):
    """One SQL query of the ClickHouse datasource plugin, as a panel target."""

    def __init__(self, ref_id: str, sql: str, fmt: int = TABLE) -> None:
        self.ref_id = ref_id
        self.sql = sql
        self.format = fmt

    def to_json(self) -> dict[str, Any]:
        return {
            "refId": self.ref_id,
            "datasource": {"type": DATASOURCE_TYPE, "uid": DATASOURCE_UID},
            "editorType": "sql",
            "queryType": "timeseries" if self.format == TIME_SERIES else "table",
            "format": self.format,
            "rawSql": self.sql,
        }


class SQL:
    """Builder for a :class:`ClickHouseQuery` (what the SDK's ``with_target`` takes)."""

    def __init__(self, sql: str, ref_id: str = "A", fmt: int = TABLE) -> None:
        self._query = ClickHouseQuery(ref_id, sql, fmt)

    def build(self) -> ClickHouseQuery:
        return self._query
