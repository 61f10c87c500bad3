"""Where the generated Grafana files live in the tree (what docker-compose's Grafana provisions)."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
#: one JSON file per dashboard, written by ``gridflow dashboards build``
JSON_DIR = HERE / "json"
PROVISIONING_DIR = HERE / "provisioning"
#: the alert rules, written by ``gridflow dashboards build``
ALERTING_FILE = PROVISIONING_DIR / "alerting" / "gridflow.yaml"
DATASOURCE_FILE = PROVISIONING_DIR / "datasources" / "clickhouse.yaml"
PROVIDER_FILE = PROVISIONING_DIR / "dashboards" / "gridflow.yaml"
