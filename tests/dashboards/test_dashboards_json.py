"""The dashboards are code: the committed JSON is what the builder makes, and it reads what provisioning provides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from dashboards.build import DASHBOARDS, render
from dashboards.provisioned import DATASOURCE_FILE, DATASOURCE_UID, JSON_DIR


@pytest.mark.parametrize("name", DASHBOARDS)
def test_committed_json_is_fresh(name: str) -> None:
    path = JSON_DIR / f"gridflow-{name}.json"
    assert path.exists(), f"{path} missing: run `gridflow dashboards build`"
    assert path.read_text(encoding="utf-8") == render(name), f"{path} is stale: run `gridflow dashboards build`"


@pytest.mark.parametrize("name", DASHBOARDS)
def test_every_panel_reads_deduplicated_data_from_the_provisioned_datasource(name: str) -> None:
    board = json.loads(render(name))
    provisioned = {d["uid"] for d in yaml.safe_load(DATASOURCE_FILE.read_text())["datasources"]}
    assert DATASOURCE_UID in provisioned
    assert board["timezone"] == "Asia/Shanghai"
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert set(variables) == {"database", "town", "department", "category", "severity"}
    assert variables["database"]["type"] == "constant" and variables["database"]["query"] == "gridflow"
    for panel in board["panels"]:
        # The panel's own datasource decides where Grafana sends the query: in a Grafana that
        # gridflow does not provision, the default datasource is someone else's.
        assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            tables = re.findall(r"FROM\s+(\S+)(\s+FINAL)?", target["rawSql"])
            assert tables, panel["title"]
            for table, final in tables:
                if table != "(":
                    assert table.startswith("${database}."), f"{panel['title']}: {table} outside the database variable"
                    assert final, f"{panel['title']}: {table} read without FINAL"


def test_the_map_reads_the_grids_grafana_is_given() -> None:
    """The map's basemap and gazetteer are the registry's GeoJSON, mounted into Grafana by docker-compose."""
    from dashboards.build import GRIDS_GEOJSON

    root = Path(__file__).resolve().parents[2]
    board = json.loads(render("map"))
    options = board["panels"][0]["options"]
    assert options["basemap"]["type"] == "geojson" and options["basemap"]["config"]["src"] == GRIDS_GEOJSON
    assert options["layers"][0]["location"] == {"mode": "lookup", "lookup": "grid_id", "gazetteer": GRIDS_GEOJSON}
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    mounts = [v.split(":") for v in compose["services"]["grafana"]["volumes"] if isinstance(v, str)]
    target = "/usr/share/grafana/" + GRIDS_GEOJSON
    sources = [m[0] for m in mounts if len(m) > 1 and m[1] == target]
    assert sources, f"docker-compose does not mount the grids at {target}"
    grids = json.loads((root / sources[0]).read_text())
    assert len(grids["features"]) == 48 and all(f["id"] == f["properties"]["grid_id"] for f in grids["features"])
