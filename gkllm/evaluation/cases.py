"""Find eval cases: a file ``name.<ext>`` with ``name.gold.json`` beside it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GOLD_SUFFIX = ".gold.json"


@dataclass(frozen=True)
class Case:
    id: str  # path relative to the cases root, without extension
    path: Path
    gold: dict[str, Any]
    tag: str  # layout or format: from the gold's "_case", else the folder name
    real: bool = False  # a real report (under a folder named real/), not a generated one

    @property
    def inconsistent_rules(self) -> list[str]:
        return list(self.gold.get("_case", {}).get("inconsistent_rules", []))

    @property
    def ambiguous_keys(self) -> list[str] | None:
        """The keys the case declares ambiguous; ``None`` when it declares none (hand-written golds)."""
        keys = self.gold.get("_case", {}).get("ambiguous_keys")
        return None if keys is None else list(keys)

    @property
    def ambiguous(self) -> bool:
        return bool(self.gold.get("_case", {}).get("ambiguous", False))


REAL_DIR = "real"


def is_real(root: Path, rel: Path) -> bool:
    """A case is real when it lies in a folder named ``real`` (``eval/cases/real/…``), whether the
    eval runs over ``eval/cases`` (its id then starts with ``real/``), over that folder, or over a
    folder inside it."""
    root = root.resolve()
    return REAL_DIR in rel.parts[:-1] or REAL_DIR in (root.name, root.parent.name)


def find_cases(root: Path) -> list[Case]:
    """Every case under ``root`` (recursively), sorted by id."""
    cases = []
    for gold_path in sorted(root.rglob(f"*{GOLD_SUFFIX}")):
        stem = gold_path.name[: -len(GOLD_SUFFIX)]
        siblings = [
            p for p in gold_path.parent.glob(f"{stem}.*")
            if p.name != gold_path.name and not p.name.endswith(GOLD_SUFFIX) and p.name[len(stem):].count(".") == 1
        ]
        if not siblings:
            continue
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        meta = gold.get("_case", {})
        tag = meta.get("layout") or meta.get("format") or gold_path.parent.name
        rel = gold_path.parent.relative_to(root) / stem
        cases.append(Case(id=rel.as_posix(), path=siblings[0], gold=gold, tag=str(tag), real=is_real(root, rel)))
    return cases
