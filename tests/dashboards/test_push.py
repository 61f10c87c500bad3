"""`gridflow dashboards push`: idempotent install into an existing Grafana, clear refusals, no secrets shown.

Runs against :class:`fake_grafana.FakeGrafana`, a recorded contract of
Grafana's HTTP API, because no Grafana can run here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Iterator

import pytest
from fake_grafana import FakeGrafana

from dashboards.exceptions import PushError
from dashboards.grafana_objects import JSON_DIR, clickhouse_connection
from dashboards.push import Action, Kind, push
from gridflow.cli import main

PASSWORD = "ch-Pa55-word"
CLICKHOUSE = f"clickhouse://grafana_ro:{PASSWORD}@clickhouse.district.internal:9000/gridflow"
BOARDS = sorted(json.loads(p.read_text(encoding="utf-8"))["uid"] for p in JSON_DIR.glob("*.json"))


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana() as server:
        yield server


@pytest.fixture(autouse=True)
def no_grafana_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests name the Grafana themselves; the developer's environment must not."""
    for name in ("GRIDFLOW_GRAFANA_URL", "GRIDFLOW_GRAFANA_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``gridflow dashboards push ARGS``: exit code, stdout, stderr."""
    code = main(["dashboards", "push", "--clickhouse-url", CLICKHOUSE, *args])
    out, err = capsys.readouterr()
    return code, out, err


def cli(grafana: FakeGrafana, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run(capsys, "--url", grafana.url, "--token", grafana.token, *args)


def actions(out: str) -> dict[tuple[str, str], str]:
    """(kind, uid) → the action of each report line ("created", "would create", ...)."""
    found = {}
    for words in (line.split() for line in out.splitlines()):
        at = next((i for i, word in enumerate(words) if word in {k.value for k in Kind}), None)
        if at:
            found[(words[at], words[at + 1])] = " ".join(words[:at])
    return found


def test_first_push_creates_everything_and_the_second_writes_nothing(grafana: FakeGrafana, capsys) -> None:
    code, out, err = cli(grafana, capsys)
    assert code == 0, err
    expected = {("datasource", "gridflow-clickhouse"), ("folder", "gridflow"), *(("dashboard", uid) for uid in BOARDS)}
    assert actions(out) == {key: "created" for key in expected}
    assert f"{len(expected)} created, 0 updated, 0 unchanged" in out
    assert "gridflow 网格治理" in out and "指挥中心总览" in out

    ds = grafana.datasources["gridflow-clickhouse"]
    assert ds["type"] == "grafana-clickhouse-datasource" and ds["name"] == "gridflow ClickHouse"
    assert ds["jsonData"] == {"host": "clickhouse.district.internal", "port": 9000, "protocol": "native", "secure": False,
                              "username": "grafana_ro", "defaultDatabase": "gridflow"}  # fmt: skip
    assert grafana.secrets["gridflow-clickhouse"] == {"password": PASSWORD}
    assert grafana.folders["gridflow"]["title"] == "gridflow 网格治理"
    assert sorted(grafana.dashboards) == BOARDS and {d["folderUid"] for d in grafana.dashboards.values()} == {"gridflow"}

    grafana.requests.clear()
    code, out, _ = cli(grafana, capsys)
    assert code == 0
    assert set(actions(out).values()) == {"unchanged"} and len(actions(out)) == len(expected)
    assert grafana.writes == [], "a second push must not write"


def test_one_changed_dashboard_is_the_only_update(grafana: FakeGrafana, tmp_path: Path) -> None:
    boards = tmp_path / "json"
    shutil.copytree(JSON_DIR, boards)
    push(grafana.url, grafana.token, CLICKHOUSE, "gridflow", json_dir=boards)
    path = boards / "gridflow-sources.json"
    board = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**board, "refresh": "1m"}, ensure_ascii=False), encoding="utf-8")

    grafana.requests.clear()
    changes = push(grafana.url, grafana.token, CLICKHOUSE, "gridflow", json_dir=boards)
    changed = [(c.kind, c.uid) for c in changes if c.action is not Action.UNCHANGED]
    assert changed == [(Kind.DASHBOARD, "gridflow-sources")]
    assert grafana.writes == [("POST", "/api/dashboards/db")]
    saved = grafana.dashboards["gridflow-sources"]["board"]
    assert saved["refresh"] == "1m" and saved["version"] == 2


def test_a_dashboard_moved_to_another_folder_is_moved_back(grafana: FakeGrafana) -> None:
    push(grafana.url, grafana.token, CLICKHOUSE, "gridflow")
    grafana.dashboards["gridflow-map"]["folderUid"] = ""
    changes = {c.uid: c.action for c in push(grafana.url, grafana.token, CLICKHOUSE, "gridflow")}
    assert changes["gridflow-map"] is Action.UPDATED
    assert grafana.dashboards["gridflow-map"]["folderUid"] == "gridflow"


def test_dry_run_reports_without_writing(grafana: FakeGrafana, capsys) -> None:
    code, out, _ = cli(grafana, capsys, "--dry-run")
    assert code == 0
    assert list(actions(out).values()) == ["would create"] * (len(BOARDS) + 2) and "nothing written" in out
    assert grafana.writes == [] and not grafana.dashboards


def test_a_wrong_token_is_one_line_and_no_traceback(grafana: FakeGrafana, capsys) -> None:
    code, out, err = run(capsys, "--url", grafana.url, "--token", "wrong")
    assert code != 0
    assert "401" in err and "token" in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out and grafana.writes == []


def test_a_token_without_the_admin_role_names_the_object_it_could_not_write(grafana: FakeGrafana, capsys) -> None:
    code, _, err = run(capsys, "--url", grafana.url, "--token", grafana.viewer_token)
    assert code == 1 and "403" in err and "datasource gridflow-clickhouse" in err and "Admin role" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_grafana_credentials_in_the_url_are_not_shown(grafana: FakeGrafana, capsys) -> None:
    url = grafana.url.replace("http://", "http://admin:grafana-Secret@")
    code, out, err = run(capsys, "--url", url)
    assert code == 1 and "401" in err
    assert "grafana-Secret" not in out + err


def test_an_unreachable_grafana_is_one_line(capsys) -> None:
    with FakeGrafana() as gone:
        url = gone.url  # a port that served a moment ago and now is closed
    code, out, err = run(capsys, "--url", url, "--token", "t")
    assert code == 1 and "cannot reach Grafana" in err
    assert "Traceback" not in err + out


def test_a_provisioned_dashboard_refuses_the_whole_push(grafana: FakeGrafana, capsys) -> None:
    grafana.provision_dashboard(json.loads((JSON_DIR / "gridflow-overview.json").read_text(encoding="utf-8")))
    code, _, err = cli(grafana, capsys)
    assert code == 1
    assert "dashboard gridflow-overview" in err and "provisioned" in err and "never both" in err
    assert grafana.writes == [], "the refusal comes before any write"


def test_grafanas_own_refusal_to_save_a_provisioned_dashboard_is_named(capsys) -> None:
    """An older Grafana that does not report meta.provisioned still answers the save with 400."""
    with FakeGrafana(report_provisioned=False) as grafana:
        board = json.loads((JSON_DIR / "gridflow-overview.json").read_text(encoding="utf-8"))
        grafana.provision_dashboard({**board, "title": "provisioned from an older checkout"})
        code, _, err = cli(grafana, capsys)
    assert code == 1
    assert "dashboard gridflow-overview" in err and "Cannot save provisioned dashboard" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_provisioned_datasource_is_refused(grafana: FakeGrafana, capsys) -> None:
    grafana.provision_datasource("gridflow-clickhouse", "gridflow ClickHouse", "grafana-clickhouse-datasource")
    code, _, err = cli(grafana, capsys)
    assert code == 1 and "datasource gridflow-clickhouse" in err and "provisioned" in err
    assert grafana.writes == []


def test_the_password_is_never_printed_and_only_resent_when_asked(grafana: FakeGrafana, capsys) -> None:
    outputs = [cli(grafana, capsys), cli(grafana, capsys), cli(grafana, capsys, "--send-password", "--dry-run")]
    assert actions(outputs[1][1])[("datasource", "gridflow-clickhouse")] == "unchanged"
    assert actions(outputs[2][1])[("datasource", "gridflow-clickhouse")] == "would update"

    grafana.secrets["gridflow-clickhouse"] = {"password": "rotated-elsewhere"}
    outputs.append(cli(grafana, capsys, "--send-password"))
    assert actions(outputs[-1][1])[("datasource", "gridflow-clickhouse")] == "updated"
    assert grafana.secrets["gridflow-clickhouse"] == {"password": PASSWORD}
    assert all(PASSWORD not in out + err for _, out, err in outputs)


def test_a_changed_clickhouse_keeps_the_districts_own_settings(grafana: FakeGrafana) -> None:
    push(grafana.url, grafana.token, CLICKHOUSE, "gridflow")
    ds = grafana.datasources["gridflow-clickhouse"]
    ds["isDefault"], ds["jsonData"]["dialTimeout"] = True, "20"  # set by the district in Grafana's UI

    moved = CLICKHOUSE.replace("clickhouse.district.internal:9000", "ch2.district.internal:9440") + "?secure=true"
    changes = {c.kind: c.action for c in push(grafana.url, grafana.token, moved, "gridflow")}
    assert changes[Kind.DATASOURCE] is Action.UPDATED and changes[Kind.FOLDER] is Action.UNCHANGED
    assert ds["isDefault"] is True and ds["jsonData"]["dialTimeout"] == "20"
    assert ds["jsonData"]["host"] == "ch2.district.internal" and ds["jsonData"]["secure"] is True
    assert grafana.secrets["gridflow-clickhouse"] == {"password": PASSWORD}


def test_a_renamed_folder_gets_its_title_back(grafana: FakeGrafana) -> None:
    push(grafana.url, grafana.token, CLICKHOUSE, "gridflow")
    grafana.folders["gridflow"]["title"] = "renamed"
    changes = {c.kind: c.action for c in push(grafana.url, grafana.token, CLICKHOUSE, "gridflow")}
    assert changes[Kind.FOLDER] is Action.UPDATED and grafana.folders["gridflow"]["title"] == "gridflow 网格治理"


def test_push_without_a_url_is_a_usage_error(capsys) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "--url" in err


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("clickhouse://default@127.0.0.1:19000", ("127.0.0.1", 19000, False, "default", "fallback", None)),
        ("clickhouses://u:p%40ss@ch.example/db1", ("ch.example", 9440, True, "u", "db1", "p@ss")),
        ("clickhouse://u@ch.example/db1?secure=True", ("ch.example", 9440, True, "u", "db1", None)),
    ],
)
def test_the_datasource_connection_comes_from_the_clickhouse_url(url: str, expected: tuple) -> None:
    connection, password = clickhouse_connection(url, "fallback")
    keys = ("host", "port", "secure", "username", "defaultDatabase")
    assert (*(connection[k] for k in keys), password) == expected


def test_a_clickhouse_url_that_is_not_one_is_refused() -> None:
    with pytest.raises(PushError, match="clickhouse://"):
        clickhouse_connection("http://ch.example:8123", "gridflow")


def test_gridflow_settings_shows_neither_the_grafana_token_nor_the_clickhouse_password(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("GRIDFLOW_GRAFANA_TOKEN", "glsa_very_secret")
    monkeypatch.setenv("CLICKHOUSE_URL", CLICKHOUSE)
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "glsa_very_secret" not in out and "GRIDFLOW_GRAFANA_TOKEN" in out
    assert PASSWORD not in out and "clickhouse://grafana_ro:***@clickhouse.district.internal:9000/gridflow" in out


def test_the_dashboards_read_the_database_the_clickhouse_url_names(grafana: FakeGrafana) -> None:
    url = CLICKHOUSE.replace("/gridflow", "/district_gf")
    push(grafana.url, grafana.token, url, "gridflow")
    for saved in grafana.dashboards.values():
        (database,) = [v for v in saved["board"]["templating"]["list"] if v["name"] == "database"]
        assert database["query"] == "district_gf"
    assert grafana.datasources["gridflow-clickhouse"]["jsonData"]["defaultDatabase"] == "district_gf"
    grafana.requests.clear()
    push(grafana.url, grafana.token, url, "gridflow")
    assert grafana.writes == []


def test_without_grafana_client_the_push_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(__import__("sys").modules, "grafana_client", None)  # as if the extra were not installed
    code, _, err = run(capsys, "--url", "http://127.0.0.1:9")
    assert code == 1 and "pip install 'gridflow[grafana]'" in err and "Traceback" not in err
