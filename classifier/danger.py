"""Danger-word rules: phrases that make a report P1 whatever the models say.

The phrases live in ``classifier/data/danger_words.yaml`` (domain knowledge,
not the evaluation set); this module compiles them once and reports which
rule fired on which words, so the command centre can see *why* a case was
marked urgent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from classifier.corpus import DATA_DIR, normalise

DANGER_WORDS_PATH = DATA_DIR / "danger_words.yaml"


@dataclass(frozen=True)
class DangerHit:
    """One rule that fired: its group name (e.g. ``gas_leak``) and the words matched."""

    rule: str
    words: str


@dataclass(frozen=True)
class DangerWords:
    """Compiled danger-word rules with their negation and exclusion contexts."""

    rules: tuple[tuple[str, re.Pattern[str]], ...]
    negations: tuple[str, ...]
    window_before: int
    exclusions: tuple[str, ...]
    window_after: int
    only_rules_for: tuple[tuple[str, frozenset[str]], ...] = ()

    @classmethod
    def load(cls, path: str | Path = DANGER_WORDS_PATH) -> "DangerWords":
        """Read and compile the YAML rule file; ValueError names a bad pattern."""
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
        rules: list[tuple[str, re.Pattern[str]]] = []
        for name, patterns in raw["rules"].items():
            try:
                rules.append((name, re.compile("|".join(f"(?:{p})" for p in patterns))))
            except re.error as exc:
                raise ValueError(f"{path}: rule {name!r}: {exc}") from exc
        return cls(
            rules=tuple(rules),
            negations=tuple(normalise(w) for w in raw.get("negation_before", [])),
            window_before=int(raw.get("window_before", 4)),
            exclusions=tuple(normalise(w) for w in raw.get("exclude_after", [])),
            window_after=int(raw.get("window_after", 4)),
            only_rules_for=tuple(
                (key, frozenset(names)) for key, names in (raw.get("only_rules_for") or {}).items()
            ),
        )

    def _negated(self, text: str, start: int, end: int) -> bool:
        """True if a negation ends just before ``start`` or an exclusion starts just after ``end``."""
        longest = max((len(n) for n in self.negations), default=0)
        lo = max(0, start - self.window_before - longest)
        before = text[lo:start]
        for neg in self.negations:
            idx = before.rfind(neg)
            # the negation must END within the window, so "没有人管…起火" far
            # back does not cancel a fire reported later in a long transcript
            if idx >= 0 and len(before) - (idx + len(neg)) < self.window_before:
                return True
        after = text[end : end + self.window_after + max((len(x) for x in self.exclusions), default=0)]
        for exc in self.exclusions:
            idx = after.find(exc)
            if 0 <= idx < self.window_after:
                return True
        return False

    def find(self, text: str, subcategory: str | None = None) -> list[DangerHit]:
        """Every rule that fires on ``text`` (at most one hit per rule).

        ``subcategory`` (``"CATEGORY/sub"``) narrows the rules where the file
        says so: a report *about* a rumour of a dam failing is not a flood.
        """
        allowed = dict(self.only_rules_for).get(subcategory) if subcategory else None
        norm = normalise(text)
        hits: list[DangerHit] = []
        for name, pattern in self.rules:
            if allowed is not None and name not in allowed:
                continue
            for match in pattern.finditer(norm):
                if not self._negated(norm, match.start(), match.end()):
                    hits.append(DangerHit(rule=name, words=match.group(0)))
                    break
        return hits
