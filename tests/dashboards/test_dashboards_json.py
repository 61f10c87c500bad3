"""The dashboards are code: the committed JSON is what the builder makes, and it reads what provisioning provides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dashboards.build import DASHBOARDS, OUT, render
from dashboards.clickhouse_query import DATASOURCE_UID

PROVISIONING = Path(__file__).resolve().parents[2] / "dashboards" / "provisioning" / "datasources" / "clickhouse.yaml"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_committed_json_is_fresh(name: str) -> None:
    path = OUT / f"gridflow-{name}.json"
    assert path.exists(), f"{path} missing: run `python -m dashboards.build`"
    assert path.read_text(encoding="utf-8") == render(name), f"{path} is stale: run `python -m dashboards.build`"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_panel_reads_deduplicated_data_from_the_provisioned_datasource(name: str) -> None:
    board = json.loads(render(name))
    provisioned = {d["uid"] for d in yaml.safe_load(PROVISIONING.read_text())["datasources"]}
    assert DATASOURCE_UID in provisioned
    assert board["timezone"] == "Asia/Shanghai"
    assert {v["name"] for v in board["templating"]["list"]} == {"town", "department", "category", "severity"}
    for panel in board["panels"]:
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            for table in re.findall(r"FROM\s+(gridflow\.\w+)(\s+FINAL)?", target["rawSql"]):
                assert table[1], f"{panel['title']}: {table[0]} read without FINAL"
