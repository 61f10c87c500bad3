"""What a Grafana is provisioned with, and where it lies in the tree: the generated files, and the datasource every panel names.

Plain constants, so that ``dashboards push`` and the tests can find them
without loading grafana-foundation-sdk.
"""

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
#: the ClickHouse datasource: its plugin, and the uid the provisioning file and ``dashboards push`` give it
DATASOURCE_UID = "gridflow-clickhouse"
DATASOURCE_TYPE = "grafana-clickhouse-datasource"
