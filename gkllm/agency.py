"""Which printed agency names are one agency, so its reports can be compared across years (R6).

An agency prints its own name differently from one year to the next:
``洪泽区人民政府`` in one report, ``淮安市洪泽区人民政府`` in the next. Names
are matched in two steps.

1. **Normalized name** (``normalize``): Unicode NFKC (full-width → half-width),
   whitespace and the separators ``·•・`` removed, a crawler's field label
   before the name dropped (``标题:``, ``发布机关:``), traditional characters
   made simplified (zhconv), and ``人民政府`` written ``政府``. Names equal
   after this are one agency.
2. **Leading places** (``group_names``): a name is also the same agency as a
   name that is itself preceded by whole administrative divisions
   (``江苏省``, ``淮安市``: names ending in 省, 自治区, 市, 州, 地区, 盟, 县, 旗,
   区, 镇, 乡, 街道), provided the shorter name still begins with a place of its
   own: ``洪泽区政府`` = ``淮安市洪泽区政府``, but ``行政审批局`` is not taken
   as ``平潭综合实验区行政审批局`` (it names no place, so it could be any
   county's). A short name that two different longer names extend
   (``朝阳区政府`` under ``北京市朝阳区政府`` and ``长春市朝阳区政府``) is
   matched with neither, and the grouping says so.

Only names present together are matched: the grouping depends on the whole
set (a batch), never on a list of places gkllm would have to keep.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

# A name of an administrative division: some characters, then the kind of division.
# The multi-character kinds come first so that "自治区" is not read as "自治" + "区".
_DIVISION = r"[\u4e00-\u9fff]{1,15}?(?:特别行政区|自治区|自治州|自治县|自治旗|地区|街道|省|市|州|盟|县|旗|区|镇|乡)"
_DIVISIONS = re.compile(f"(?:{_DIVISION})+")
_PLACE_START = re.compile(_DIVISION)
_MARKER_LAST = tuple("省市州盟县旗区镇乡") + ("街道",)
_DROP = re.compile(r"[\s·•・]+")
_LABEL = re.compile(r"^(?:标题|发布机关|发布机构|来源)[:：]")  # a crawler's field label before the name


@lru_cache(maxsize=4096)
def normalize(name: str) -> str:
    """The name as compared: NFKC, no whitespace, simplified characters, 人民政府 → 政府."""
    from zhconv import convert  # a pinned dependency (gkllm.text uses it too)

    text = _LABEL.sub("", _DROP.sub("", unicodedata.normalize("NFKC", name)))
    text = convert(text, "zh-hans")
    return text.replace("人民政府", "政府")


def _placed(name: str) -> bool:
    """Does the name begin with a place of its own (洪泽区政府: yes; 行政审批局, 人民政府: no)?"""
    return _PLACE_START.match(name) is not None


def _shorter_forms(name: str) -> list[str]:
    """The name with one or more leading divisions removed, each still beginning with a place."""
    out = []
    for i in range(1, len(name)):
        if not name[:i].endswith(_MARKER_LAST):
            continue
        rest = name[i:]
        if _DIVISIONS.fullmatch(name[:i]) and _placed(rest):
            out.append(rest)
    return out


@dataclass
class Grouping:
    """Printed names → the agency each was taken as (its longest printed name)."""

    agency_of: dict[str, str] = field(default_factory=dict)  # printed name → canonical printed name
    merged: dict[str, list[str]] = field(default_factory=dict)  # canonical → its printed names, when more than one
    unmatched: list[str] = field(default_factory=list)  # short names two agencies could own: one line each

    def key(self, name: str | None) -> str | None:
        return None if name is None else self.agency_of.get(name)

    def notes(self) -> list[str]:
        """One line per decision a person may want to check."""
        lines = [f"taken as one agency: {' = '.join(names)}" for names in self.merged.values()]
        return lines + self.unmatched


def group_names(names: Iterable[str | None]) -> Grouping:
    """Decide which printed names are one agency (see the module's docstring for the rules)."""
    printed = sorted({n for n in names if n})
    by_norm: dict[str, list[str]] = {}
    for n in printed:
        by_norm.setdefault(normalize(n), []).append(n)
    parent = {n: n for n in by_norm}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    # every longer name that a short one (present in the set) is the tail of
    longer: dict[str, list[str]] = {}
    for n in by_norm:
        for short in _shorter_forms(n):
            if short in by_norm:
                longer.setdefault(short, []).append(n)
    grouping = Grouping()
    for short, owners in sorted(longer.items()):
        owners.sort(key=len)
        # one agency only if the owners form a chain (淮安市洪泽区政府 ⊂ 江苏省淮安市洪泽区政府)
        chain = all(b.endswith(a) for a, b in zip(owners, owners[1:]))
        if not chain:
            shown = " / ".join(by_norm[o][0] for o in owners)
            grouping.unmatched.append(f"not matched across years: {by_norm[short][0]} could be any of {shown}")
            continue
        for o in owners:
            parent[find(short)] = find(o)
    members: dict[str, list[str]] = {}
    for norm in by_norm:
        members.setdefault(find(norm), []).append(norm)
    for group in members.values():
        names_in = sorted((p for norm in group for p in by_norm[norm]), key=lambda s: (-len(s), s))
        canonical = names_in[0]
        for p in names_in:
            grouping.agency_of[p] = canonical
        if len(names_in) > 1:
            grouping.merged[canonical] = names_in
    return grouping
