"""Agency and year from the title or the opening sentences."""

from __future__ import annotations

import re
from collections import Counter

from ..document import Document

_TITLE = re.compile(
    r"^[#*\s]*(?P<agency>[^\d#*\n]{0,40}?)\s*(?P<year>(?:19|20)\d{2})\s*年度?\s*(?:政府信息公开|政务公开|信息公开)"
)
_COMPILED = re.compile(
    r"(?:编制|公布|发布)了?(?:《)?(?P<agency>[\u4e00-\u9fff]{2,30}?)\s*(?P<year>(?:19|20)\d{2})\s*年度?政府信息公开工作(?:年度)?报告"
)
_AGENCY_END = re.compile(
    r"(?:政府|人民政府|局|委员会|委|办公室|办|街道|街道办事处|镇|乡|厅|部|院|署|中心|管委会|公司)$")
_PERIOD = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年\s*1\s*月\s*1\s*日")
_ANY_YEAR = re.compile(r"(?P<year>(?:19|20)\d{2})\s*年(?!\s*\d+\s*月)")


# A crawler's or a page's field label before the title ("标题: …"), and page furniture around it.
_FIELD = re.compile(r"^(?:标\s*题|题\s*目|名\s*称|文章标题|主\s*题)\s*[:：]\s*")
_SOURCE = re.compile(
    r"(?:发布机构|发文机关|来源|信息来源)\s*[:：]\s*(?P<agency>[\u4e00-\u9fff]{2,30}?)(?:\s|时间|发布|$)")


def read_meta(doc: Document, head_lines: int = 60) -> tuple[str | None, int | None]:
    """The publishing agency and the year reported on, from the title (a crawler's "标题:" field,
    a page's heading among its menus) or the opening sentences."""
    lines: list[str] = []
    for ln in doc.lines[:400]:
        ln = ln.strip()
        if ln:
            lines.append(_FIELD.sub("", ln) if len(lines) < head_lines + 1 and ("题" in ln or "称" in ln) else ln)
            if len(lines) > head_lines + 1:
                break
    agency: str | None = None
    year: int | None = None
    for i, line in enumerate(lines[:head_lines]):
        m = _TITLE.match(line)
        if m is None and i + 1 < len(lines) and len(line) < 40 and not _TITLE.match(lines[i + 1]):
            # a title wrapped over two lines (PDF text); not a breadcrumb ("政府信息公开年报") above a whole title
            m = _TITLE.match(line + lines[i + 1])
        if not m or len(line) > 80:
            continue
        year = int(m.group("year"))
        name = m.group("agency").strip(" :：#*")
        if name:
            agency = name
        elif i > 0 and len(lines[i - 1]) <= 30 and _AGENCY_END.search(lines[i - 1].strip("#* ")):
            agency = lines[i - 1].strip("#* ")
        break
    if agency is None:
        m = _SOURCE.search(doc.text[:5000])
        if m and _AGENCY_END.search(m.group("agency")):
            agency = m.group("agency")
    if agency is None or year is None:
        m = _COMPILED.search(doc.text[:5000])
        if m:
            agency = agency or m.group("agency")
            year = year or int(m.group("year"))
    if year is None:
        years = Counter(int(m.group("year")) for m in _PERIOD.finditer(doc.text[:8000]))
        if not years:
            years = Counter(int(m.group("year")) for m in _ANY_YEAR.finditer(doc.text[:3000]))
        if years:
            year = years.most_common(1)[0][0]
    return agency, year
