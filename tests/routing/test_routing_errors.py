"""A broken routing file is refused at load with FILE:LINE and the problem (fixtures in tmp_path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from district import Registry, load_registry
from infra.datafile import DataFileError
from routing import load_rules, load_sla, load_taxonomy

WriteData = Callable[..., Path]

RULES_HEAD = "rules:\n"


def line_of(path: Path, marker: str) -> int:
    """The 1-based line of the one line of ``path`` that contains ``marker``."""
    hits = [n for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if marker in text]
    assert len(hits) == 1, (marker, hits)
    return hits[0]


def assert_refused(exc: pytest.ExceptionInfo[DataFileError], path: Path, line: int, *words: str) -> None:
    message = str(exc.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert (exc.value.file, exc.value.line) == (str(path), line)
    for word in words:
        assert word in message, (word, message)


def append_rules(*lines: str) -> Callable[[str], str]:
    """An edit that adds rules at the end of the shipped rules file."""
    return lambda text: text.rstrip("\n") + "\n" + "".join(f"  {line}\n" for line in lines)


@pytest.mark.parametrize(
    ("rule", "marker", "words"),
    [
        ("- {category: DISPUTE, subcategory: debt, lead: XYZ}  # BAD", "# BAD", ("unknown department", "XYZ")),
        ("- {category: DISPUTE, subcategory: debts, lead: RS}  # BAD", "# BAD", ("unknown subcategory", "debts")),
        ("- {category: DISPUTES, lead: RS}  # BAD", "# BAD", ("unknown category",)),
        ("- {category: DISPUTE, town: XX, lead: RS}  # BAD", "# BAD", ("unknown town",)),
        ("- {category: DISPUTE, subcategory: debt, co_handlers: [RS, QQ]}  # BAD", "# BAD", ("QQ",)),
        ("- {category: DISPUTE, subcategory: debt, co_handler: [RS]}  # BAD", "# BAD", ("unknown key", "co_handler")),
        ("- {category: DISPUTE, subcategory: debt, lead: SFS-XL}  # BAD", "# BAD", ("bare code SFS",)),
        ("- {category: DISPUTE, subcategory: debt, lead: RS, co_handlers: [RS]}  # BAD", "# BAD",
         ("co-handler",)),
        ("- {category: DISPUTE, subcategory: debt, alternates: [RS], co_handlers: [ZF]}  # BAD", "# BAD",
         ("alternates without a lead",)),
        ("- {category: DISPUTE, subcategory: debt}  # BAD", "# BAD", ("sets none",)),
        ("- {category: DISPUTE, subcategory: debt, lead: ZZZX, severity: P7}  # BAD", "# BAD", ("severity",)),
    ],
)
def test_bad_rule_names_file_and_line(write_data: WriteData, rule: str, marker: str, words: tuple[str, ...]) -> None:
    path = write_data("rules.yaml", edit=append_rules(rule))
    with pytest.raises(DataFileError) as exc:
        load_rules(path)
    assert_refused(exc, path, line_of(path, marker), *words)


def test_duplicate_rule_points_at_the_second(write_data: WriteData) -> None:
    path = write_data("rules.yaml", edit=append_rules("- {category: DISPUTE, subcategory: wages, lead: SFJ}  # AGAIN"))
    with pytest.raises(DataFileError) as exc:
        load_rules(path)
    first = line_of(path, "subcategory: wages, lead: RS}")
    assert_refused(exc, path, line_of(path, "# AGAIN"), "duplicate rule", f"first at line {first}")


def test_duplicate_yaml_key_is_refused(write_data: WriteData) -> None:
    path = write_data("rules.yaml", edit=append_rules(
        "- category: DISPUTE", "  subcategory: debt", "  lead: RS", "  lead: SFJ  # TWICE"))
    with pytest.raises(DataFileError) as exc:
        load_rules(path)
    assert_refused(exc, path, line_of(path, "# TWICE"), "duplicate key 'lead'")


def test_looser_sla_is_refused(write_data: WriteData) -> None:
    path = write_data("rules.yaml", edit=append_rules(
        "- category: SAFETY", "  subcategory: hazardous_chemicals", "  severity: P1",
        "  sla: {dispatch: 5m,", "        sign: 30m}  # LOOSE"))
    with pytest.raises(DataFileError) as exc:
        load_rules(path)
    assert_refused(exc, path, line_of(path, "# LOOSE"), "looser", "P1")


def test_looser_sla_against_the_subcategory_default(write_data: WriteData) -> None:
    # no severity key: compared with hazardous_chemicals' default P2 (resolve 24h)
    path = write_data("rules.yaml", edit=append_rules(
        "- {category: SAFETY, subcategory: hazardous_chemicals, sla: {resolve: 2d}}  # LOOSE"))
    with pytest.raises(DataFileError) as exc:
        load_rules(path)
    assert_refused(exc, path, line_of(path, "# LOOSE"), "looser", "P2")


def test_stricter_sla_in_a_custom_file_applies(write_data: WriteData) -> None:
    from routing import route

    path = write_data("rules.yaml", edit=append_rules(
        "- {category: SAFETY, subcategory: hazardous_chemicals, severity: P3, sla: {resolve: 1d}}"))
    d = route(load_rules(path), category="SAFETY", subcategory="hazardous_chemicals", town="DH", severity="P3")
    assert (d.sla.clock, d.sla.resolve_minutes) == ("working", 9 * 60)


def test_yaml_syntax_error_has_a_line(write_data: WriteData) -> None:
    path = write_data("rules.yaml", RULES_HEAD + "  - {category: DISPUTE, lead: RS\n  - x\n")
    with pytest.raises(DataFileError) as exc:
        load_rules(path)
    assert exc.value.line is not None and str(path) in str(exc.value)


def test_taxonomy_category_without_default_lead(write_data: WriteData) -> None:
    path = write_data("taxonomy.yaml", edit=lambda t: t.replace("    lead: JJ\n", ""))
    with pytest.raises(DataFileError) as exc:
        load_taxonomy(path)
    assert_refused(exc, path, line_of(path, "  TRAFFIC:"), "TRAFFIC", "no default lead")


def test_taxonomy_missing_category(write_data: WriteData) -> None:
    path = write_data("taxonomy.yaml", edit=lambda t: t.replace("  CYBER:", "  CYBERS:"))
    with pytest.raises(DataFileError) as exc:
        load_taxonomy(path)
    assert_refused(exc, path, line_of(path, "CYBERS:"), "unknown category")


def test_taxonomy_bad_severity(write_data: WriteData) -> None:
    path = write_data("taxonomy.yaml", edit=lambda t: t.replace("扰民, severity: P3", "扰民, severity: P5"))
    with pytest.raises(DataFileError) as exc:
        load_taxonomy(path)
    assert_refused(exc, path, line_of(path, "噪声扰民"), "severity")


def test_sla_file_errors(write_data: WriteData) -> None:
    path = write_data("sla.yaml", edit=lambda t: t.replace("sign: 2h,", "sign: 2 hours,"))
    with pytest.raises(DataFileError) as exc:
        load_sla(path)
    assert_refused(exc, path, line_of(path, "2 hours"), "duration")
    path = write_data("sla.yaml", edit=lambda t: t.replace("  P4:", "  # P4:"))
    with pytest.raises(DataFileError) as exc:
        load_sla(path)
    assert "P4" in str(exc.value)


def test_a_town_without_a_unit_makes_the_rules_incomplete() -> None:
    """A registry with no 南江镇政府: the demolition rule's ZF cannot be placed in NJ."""
    full = load_registry()
    registry = Registry(
        name=full.name, datum=full.datum, bbox=full.bbox, grids=full.grids,
        departments=[d for d in full.departments if d.code != "ZF-NJ"], town_units=full.town_units,
    )
    with pytest.raises(DataFileError) as exc:
        load_rules(registry=registry)
    assert "rules.yaml:" in str(exc.value) and "ZF" in str(exc.value) and "NJ" in str(exc.value)


def test_a_worker_with_a_bad_rule_file_stops_naming_file_and_line(tmp_path: Path) -> None:
    """Start-up validation: `gridflow worker` refuses a district's broken rules.yaml before any Kafka work."""
    import os
    import subprocess
    import sys

    from routing import default_data_dir

    text = (default_data_dir() / "rules.yaml").read_text(encoding="utf-8")
    line = next(n for n, ln in enumerate(text.splitlines(), 1) if "lead: RS" in ln)
    (tmp_path / "rules.yaml").write_text(text.replace("lead: RS", "lead: NOPE", 1), encoding="utf-8")
    env = dict(os.environ, GRIDFLOW_ROUTING_DIR=str(tmp_path), KAFKA_BOOTSTRAP="127.0.0.1:9", GRIDFLOW_HOME=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "gridflow", "worker"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"rules.yaml:{line}: lead: unknown department code 'NOPE'" in done.stderr
    assert "Traceback" not in done.stderr
