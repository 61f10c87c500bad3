"""Unit behaviour of ReportClassifier: determinism, hints, danger words, persistence."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the classifier package is not part of the installed distribution
    sys.path.insert(0, str(ROOT))

from classifier import Classification, ReportClassifier  # noqa: E402
from classifier.corpus import EVAL_PATH, TRAIN_PATH, load_reports  # noqa: E402
from classifier.danger import DangerWords  # noqa: E402

# Ambiguous on purpose: "someone is selling things in the estate" could be
# street vending, food, or something shady.
AMBIGUOUS = "东兴社区有人在小区里卖东西"
CONFIDENT = "石门村后山山体滑坡，泥石流冲进村里，房子被埋"


@pytest.fixture(scope="module")
def clf() -> ReportClassifier:
    return ReportClassifier.default()


def _key(c: Classification) -> tuple[str, str, str, float]:
    return (c.category, c.subcategory, c.severity, c.confidence)


def test_two_trainings_give_identical_predictions() -> None:
    texts = [r.text for r in load_reports(EVAL_PATH)]
    first = ReportClassifier.train().classify_many(texts)
    second = ReportClassifier.train().classify_many(texts)
    assert [_key(c) for c in first] == [_key(c) for c in second]


def test_default_is_trained_once_per_process(clf: ReportClassifier) -> None:
    assert ReportClassifier.default() is clf


def test_save_and_load_give_the_same_answers(clf: ReportClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model.joblib"
    clf.save(path)
    loaded = ReportClassifier.load(path)
    texts = [r.text for r in load_reports(TRAIN_PATH)[:50]]
    assert [_key(c) for c in loaded.classify_many(texts)] == [_key(c) for c in clf.classify_many(texts)]


def test_load_refuses_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    import joblib

    path = tmp_path / "other.joblib"
    joblib.dump({"something": "else"}, path)
    with pytest.raises(ValueError):
        ReportClassifier.load(path)


def test_single_and_batch_classification_agree(clf: ReportClassifier) -> None:
    texts = [r.text for r in load_reports(EVAL_PATH)[:40]]
    assert [_key(clf.classify(t)) for t in texts] == [_key(c) for c in clf.classify_many(texts)]
    assert clf.classify_many([]) == []


def test_hint_shifts_an_ambiguous_text(clf: ReportClassifier) -> None:
    plain = clf.classify(AMBIGUOUS)
    proba = clf.models.category_proba(clf.models.transform([AMBIGUOUS]))[0]
    order = np.argsort(-proba)
    runner_up = clf.categories[order[1]]
    # precondition: the text really is a close call for the model
    assert proba[order[0]] - proba[order[1]] < clf.models.config.hint_weight
    hinted = clf.classify(AMBIGUOUS, category_hint=runner_up)
    assert plain.category != runner_up
    assert hinted.category == runner_up
    assert hinted.signals["hint"] == runner_up
    assert hinted.signals["model_category"] == plain.category


def test_hint_does_not_override_a_confident_text(clf: ReportClassifier) -> None:
    plain = clf.classify(CONFIDENT)
    assert plain.category == "DISASTER" and plain.confidence > 0.8
    for hint in ("CYBER", "LIVELIHOOD", "URBAN"):
        hinted = clf.classify(CONFIDENT, category_hint=hint)
        assert hinted.category == "DISASTER"
        assert hinted.confidence < plain.confidence  # the hint still moved some mass


def test_unknown_hint_is_ignored(clf: ReportClassifier) -> None:
    c = clf.classify(CONFIDENT, category_hint="NOT_A_CATEGORY")
    assert c.category == "DISASTER" and c.signals["hint_ignored"]
    assert c.confidence == clf.classify(CONFIDENT).confidence


@pytest.mark.parametrize(
    "text",
    [
        "朝阳社区3栋楼道里煤气泄漏，味道很重",
        "新圩村仓库起火了",
        "北门社区一栋自建房坍塌，有人被埋",
        "湖滨社区有个男的站在楼顶说要跳楼",
        "沙坪村菜市场有人持刀追砍摊主",
        "几十个村民围堵镇政府大门",
        "龙泉社区一户人家着火，烟从窗户冒出来",
    ],
)
def test_danger_words_force_p1(clf: ReportClassifier, text: str) -> None:
    c = clf.classify(text)
    assert c.severity == "P1"
    assert c.signals["severity_source"] == "danger_words" and c.signals["danger_words"]


def test_danger_words_turn_an_ordinary_report_into_p1(clf: ReportClassifier) -> None:
    ordinary = "北门社区菜市场门口有人占道摆摊卖水果"
    assert clf.classify(ordinary).severity != "P1"
    assert clf.classify(ordinary + "，两个摊主吵起来，一个拿着菜刀要砍人").severity == "P1"


def test_negated_or_hazard_wording_is_not_a_danger_hit() -> None:
    danger = DangerWords.load()
    assert danger.find("经检查，仓库没有起火，只是电线老化") == []
    assert danger.find("楼道堆放杂物，存在火灾隐患") == []
    assert [h.rule for h in danger.find("仓库起火了")] == ["fire"]


def test_rumour_of_a_disaster_is_not_a_disaster() -> None:
    danger = DangerWords.load()
    text = "网上有人造谣说水库要溃坝"
    assert danger.find(text)  # the words are there …
    assert danger.find(text, "CYBER/online_rumour") == []  # … but it is a rumour


def test_default_severity_is_injectable() -> None:
    calls: list[tuple[str, str]] = []

    def lookup(category: str, subcategory: str) -> str | None:
        calls.append((category, subcategory))
        return "P4"

    clf = ReportClassifier(ReportClassifier.default().models, default_severity=lookup)
    c = clf.classify("北门社区路灯坏了好几盏")
    assert calls == [(c.category, c.subcategory)]
    assert c.signals["default_severity"] == "P4"


def test_classification_is_json_ready(clf: ReportClassifier) -> None:
    import json

    d = clf.classify("岭头村煤气味好重", category_hint="SAFETY").to_dict()
    assert set(d) == {"category", "subcategory", "severity", "confidence", "signals"}
    json.dumps(d, ensure_ascii=False)
