"""Everything gkllm knows about the national report template, as data.

The spec (report-schema.md) fixes key names and labels; this module is the
single place that encodes them. Parsers, rules, the LLM prompts, the eval
harness and the generators all read from here, so a new alias or a new
template variant is a change to this file only.

Label matching works on *compact* text (see ``compact``): whitespace removed,
NFKC-normalised, ordinals such as "1." / "(三)" / "三、" stripped. A row is
found by an ``anchor``: a substring that occurs in that row's label and in no
other label of the same table. Anchors marked ``exact`` must equal the whole
compact cell, because they are generic words ("其他", "总计") that also occur
inside other labels and headers.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from dataclasses import dataclass
from typing import Literal

TemplateName = Literal["2021", "2019"]


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    anchors: tuple[str, ...]
    exact: tuple[str, ...] = ()
    templates: tuple[str, ...] = ("2021", "2019")
    exact_2019: tuple[str, ...] = ()  # extra exact labels valid only in the 2019 template


@dataclass(frozen=True)
class Part2Item:
    """One line of the part-2 tables: a label followed by one cell per key."""

    label: str
    anchors: tuple[str, ...]
    keys: tuple[str, ...]
    exact: tuple[str, ...] = ()


# --- Part 2 -----------------------------------------------------------------

PART2: dict[str, tuple[Part2Item, ...]] = {
    "2021": (
        Part2Item(
            "规章",
            (),
            ("active.rules.issued", "active.rules.repealed", "active.rules.in_force"),
            exact=("规章",),
        ),
        Part2Item(
            "行政规范性文件",
            ("规范性文件",),
            ("active.normative_docs.issued", "active.normative_docs.repealed", "active.normative_docs.in_force"),
        ),
        Part2Item("行政许可", ("行政许可",), ("active.licensing",)),
        Part2Item("行政处罚", ("行政处罚",), ("active.punishment",)),
        Part2Item("行政强制", ("行政强制",), ("active.coercion",)),
        Part2Item("行政事业性收费", ("事业性收费",), ("active.fees",)),
    ),
    # 国办公开办函〔2019〕60号: wider tables, counts of items and their change.
    "2019": (
        Part2Item(
            "规章",
            (),
            ("t2019.active.rules.new_made", "t2019.active.rules.new_published", "t2019.active.rules.total_published"),
            exact=("规章",),
        ),
        Part2Item(
            "规范性文件",
            ("规范性文件",),
            (
                "t2019.active.normative_docs.new_made",
                "t2019.active.normative_docs.new_published",
                "t2019.active.normative_docs.total_published",
            ),
        ),
        Part2Item(
            "行政许可",
            ("行政许可",),
            ("t2019.active.licensing.prev_year_items", "t2019.active.licensing.change", "active.licensing"),
        ),
        Part2Item(
            "其他对外管理服务事项",
            ("对外管理服务",),
            (
                "t2019.active.other_admin_services.prev_year_items",
                "t2019.active.other_admin_services.change",
                "t2019.active.other_admin_services.decisions",
            ),
        ),
        Part2Item(
            "行政处罚",
            ("行政处罚",),
            ("t2019.active.punishment.prev_year_items", "t2019.active.punishment.change", "active.punishment"),
        ),
        Part2Item(
            "行政强制",
            ("行政强制",),
            ("t2019.active.coercion.prev_year_items", "t2019.active.coercion.change", "active.coercion"),
        ),
        Part2Item(
            "行政事业性收费",
            ("事业性收费",),
            ("t2019.active.fees.prev_year_items", "t2019.active.fees.change"),
        ),
        Part2Item(
            "政府集中采购",
            ("集中采购",),
            ("t2019.active.procurement.items", "t2019.active.procurement.amount"),
        ),
    ),
}

# Labels that only the 2019 template prints; any of them marks a 2019 report.
TEMPLATE_2019_MARKERS: tuple[str, ...] = ("本年新制作数量", "上一年项目数量", "对外公开总数量", "政府集中采购")

# --- Part 3 -----------------------------------------------------------------

COLUMNS: tuple[str, ...] = (
    "natural_person",
    "commercial",
    "research",
    "social_org",
    "legal_service",
    "other_org",
    "total",
)
COLUMN_LABELS: dict[str, str] = {
    "natural_person": "自然人",
    "commercial": "商业企业",
    "research": "科研机构",
    "social_org": "社会公益组织",
    "legal_service": "法律服务机构",
    "other_org": "其他",
    "total": "总计",
}
APPLICANT_COLUMNS: tuple[str, ...] = COLUMNS[:-1]

# The rest of part 3's column header (besides COLUMN_LABELS): a header that
# a PDF repeats after a page break is made of these words.
PART3_HEADER_LABELS: tuple[str, ...] = (
    "申请人情况",
    "法人或其他组织",
    "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）",
)

# Group headings that sit in label cells of part 3 but carry no values.
PART3_GROUP_LABELS: tuple[str, ...] = (
    "本年度办理结果",
    "不予公开",
    "无法提供",
    "不予处理",
    "其他处理",
)

ROWS: tuple[Row, ...] = (
    Row("new", "一、本年新收政府信息公开申请数量", ("本年新收",)),
    Row("carried_over", "二、上年结转政府信息公开申请数量", ("上年结转",)),
    Row("granted", "（一）予以公开", ("予以公开",)),
    Row("partial", "（二）部分公开", ("部分公开",)),
    Row("denied_state_secret", "1.属于国家秘密", ("国家秘密",)),
    Row("denied_law_forbidden", "2.其他法律行政法规禁止公开", ("法规禁止公开", "禁止公开")),
    Row("denied_safety_stability", "3.危及“三安全一稳定”", ("三安全一稳定", "一稳定")),
    Row("denied_third_party", "4.保护第三方合法权益", ("第三方合法权益", "第三方")),
    Row("denied_internal_affairs", "5.属于三类内部事务信息", ("内部事务",)),
    Row("denied_process_info", "6.属于四类过程性信息", ("过程性信息",)),
    Row("denied_enforcement_file", "7.属于行政执法案卷", ("执法案卷",)),
    Row("denied_inquiry", "8.属于行政查询事项", ("行政查询",)),
    Row("unavailable_not_held", "1.本机关不掌握相关政府信息", ("不掌握",)),
    Row("unavailable_needs_creation", "2.没有现成信息需要另行制作", ("另行制作", "没有现成信息")),
    Row("unavailable_unclear", "3.补正后申请内容仍不明确", ("仍不明确", "补正后")),
    Row("rejected_petition", "1.信访举报投诉类申请", ("信访举报", "投诉类")),
    Row("rejected_duplicate", "2.重复申请", ("重复申请",)),
    Row("rejected_publication", "3.要求提供公开出版物", ("公开出版物",)),
    Row("rejected_excessive", "4.无正当理由大量反复申请", ("大量反复",)),
    Row("rejected_confirmation", "5.要求行政机关确认或重新出具已获取信息", ("重新出具", "确认或重新")),
    Row(
        "other_no_correction",
        "1.申请人无正当理由逾期不补正、行政机关不再处理其政府信息公开申请",
        ("逾期不补正",),
        templates=("2021",),
    ),
    Row(
        "other_no_fee",
        "2.申请人逾期未按收费通知要求缴纳费用、行政机关不再处理其政府信息公开申请",
        ("逾期未按收费", "缴纳费用"),
        templates=("2021",),
    ),
    # 2021: "3.其他"; 2019: the single row "（六）其他处理".
    Row("other_other", "3.其他", (), exact=("其他",), exact_2019=("其他处理",)),
    Row("results_total", "（七）总计", (), exact=("总计", "合计")),
    Row("carried_forward", "四、结转下年度继续办理", ("结转下年", "下年度继续")),
)
ROW_KEYS: tuple[str, ...] = tuple(r.key for r in ROWS)
RESULT_ROWS: tuple[str, ...] = ROW_KEYS[ROW_KEYS.index("granted") : ROW_KEYS.index("results_total")]

# --- Part 4 -----------------------------------------------------------------

REVIEW_GROUPS: tuple[str, ...] = ("reconsideration", "litigation_direct", "litigation_after")
REVIEW_GROUP_LABELS: dict[str, str] = {
    "reconsideration": "行政复议",
    "litigation_direct": "未经复议直接起诉",
    "litigation_after": "复议后起诉",
}
REVIEW_OUTCOMES: tuple[str, ...] = ("upheld", "corrected", "other", "pending", "total")
REVIEW_OUTCOME_LABELS: dict[str, str] = {
    "upheld": "结果维持",
    "corrected": "结果纠正",
    "other": "其他结果",
    "pending": "尚未审结",
    "total": "总计",
}

# --- Narrative ----------------------------------------------------------------

NARRATIVE_KEYS: tuple[str, ...] = (
    "narrative.active_items",
    "narrative.requests_received",
    "narrative.trainings",
    "narrative.fee_yuan",
)
NARRATIVE_DESCRIPTIONS: dict[str, str] = {
    "narrative.active_items": "主动公开政府信息的条数（如：主动公开各类信息845条）",
    "narrative.requests_received": "本年收到政府信息公开申请的件数（未收到申请则为0）",
    "narrative.trainings": "组织或参加政务公开培训的次数",
    "narrative.fee_yuan": "收取的信息处理费金额，单位元（未收取则为0）",
}

META_KEYS: tuple[str, ...] = ("meta.agency", "meta.year")

# --- Parts / segmentation -----------------------------------------------------

# Heading phrases per part, searched on compact text of short lines. Numbering
# ("二、") is deliberately not required: reports drop or change it.
PART_HEADINGS: dict[int, tuple[str, ...]] = {
    1: ("总体情况",),
    2: ("主动公开政府信息情况", "主动公开政府信息"),
    3: ("收到和处理政府信息公开申请", "政府信息公开申请情况", "依申请公开政府信息情况"),
    4: ("行政复议、行政诉讼", "行政复议和行政诉讼", "行政复议行政诉讼", "复议、诉讼情况"),
    5: ("存在的主要问题", "主要问题及改进"),
    6: ("其他需要报告", "需要报告的事项"),
}

# --- Flat keys ------------------------------------------------------------------


def part2_keys(template: TemplateName = "2021") -> list[str]:
    return [k for item in PART2[template] for k in item.keys]


def rows_for(template: TemplateName = "2021") -> tuple[Row, ...]:
    return tuple(r for r in ROWS if template in r.templates)


def part3_keys(template: TemplateName = "2021") -> list[str]:
    return [f"requests.{r.key}.{c}" for r in rows_for(template) for c in COLUMNS]


def part4_keys() -> list[str]:
    return [f"review.{g}.{o}" for g in REVIEW_GROUPS for o in REVIEW_OUTCOMES]


def table_keys(template: TemplateName = "2021") -> list[str]:
    """The numbers of parts 2-4 (200 for the 2021 template)."""
    return part2_keys(template) + part3_keys(template) + part4_keys()


def flat_keys(template: TemplateName = "2021") -> list[str]:
    """Every key of the contract, in output order."""
    return list(META_KEYS) + table_keys(template) + list(NARRATIVE_KEYS)


def is_decimal_key(key: str) -> bool:
    return key in ("active.fees", "t2019.active.procurement.amount")


def is_signed_key(key: str) -> bool:
    return key.startswith("t2019.") and key.endswith(".change")


def part_of(key: str) -> str:
    """Which part a flat key belongs to: "2", "3", "4", "narrative" or "meta"."""
    head = key.split(".", 1)[0]
    return {"active": "2", "t2019": "2", "requests": "3", "review": "4"}.get(head, head)


# --- Label normalisation ---------------------------------------------------------

# Label folding. Both sides of every label comparison go through ``fold``:
# traditional characters become simplified (character by character, from
# zhconv's maintained table) and glyphs that OCR confuses collapse onto one
# representative, so an anchor also matches a label read as "予以公幵".
# Folding both the template's anchors and the printed labels keeps distinct
# anchors distinct (对外管理 and 对处管理 would both fold, but only one exists).
OCR_CONFUSIONS: dict[str, str] = {
    "幵": "开",
    "袐": "秘",
    "宙": "审",
    "夏": "复",
    "埋": "理",
    "甲": "申",
    "洁": "结",
    "外": "处",
    "子": "予",
}
# Words that printed labels use for a template word; folded like the above.
LABEL_SYNONYMS: dict[str, str] = {
    "合计": "总计",
}
assert all(len(a) == len(b) for a, b in LABEL_SYNONYMS.items()), "folding keeps text length"


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    try:
        from zhconv import zhconv as _zh

        _zh.loaddict()
        for trad, simp in _zh.zhcdicts["zh2Hans"].items():
            if len(trad) == 1 and len(simp) == 1 and trad != simp:
                table[ord(trad)] = simp
    except Exception:  # pragma: no cover - zhconv is a pinned dependency
        pass
    for wrong, right in OCR_CONFUSIONS.items():
        table[ord(wrong)] = right
    return table


@lru_cache(maxsize=1)
def _fold_chars() -> frozenset[str]:
    return frozenset(chr(c) for c in _fold_table())


def fold_text(text: str) -> str:
    """``fold`` for long text (prose): same length, so offsets still hold."""
    # most prose has nothing to fold: a C-speed search decides before any per-character work
    t = text.translate(_fold_table()) if not _fold_chars().isdisjoint(text) else text
    for variant, canonical in LABEL_SYNONYMS.items():
        if variant in t:
            t = t.replace(variant, canonical)
    return t


@lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Traditional → simplified, OCR confusions and label synonyms collapsed."""
    t = text.translate(_fold_table())
    for variant, canonical in LABEL_SYNONYMS.items():
        if variant in t:
            t = t.replace(variant, canonical)
    return t


_ORDINAL = re.compile(
    r"^(?:[一二三四五六七八九十]+[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+[.．、](?!\d))"
)
_SPACE = re.compile(r"\s+")


@lru_cache(maxsize=8192)
def compact(text: str) -> str:
    """Whitespace-free NFKC text with leading ordinals stripped (repeatedly)."""
    t = fold(_SPACE.sub("", unicodedata.normalize("NFKC", text)))
    t = t.strip("|#*")
    while True:
        m = _ORDINAL.match(t)
        if not m:
            return t
        t = t[m.end() :]


@dataclass(frozen=True)
class Rule:
    """An arithmetic rule as data: lhs terms sum equals rhs terms sum."""

    id: str
    scope: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    soft: bool = False


def rules_for(template: TemplateName = "2021") -> list[Rule]:
    return list(_rules_for(template))


@lru_cache(maxsize=None)
def _rules_for(template: TemplateName) -> tuple[Rule, ...]:
    rows = [r.key for r in rows_for(template)]
    results = [r for r in rows if r in RESULT_ROWS]
    out: list[Rule] = []
    for c in COLUMNS:
        out.append(
            Rule(
                "R1",
                c,
                (f"requests.new.{c}", f"requests.carried_over.{c}"),
                (f"requests.results_total.{c}", f"requests.carried_forward.{c}"),
            )
        )
    for c in COLUMNS:
        out.append(Rule("R2", c, (f"requests.results_total.{c}",), tuple(f"requests.{r}.{c}" for r in results)))
    for r in rows:
        out.append(Rule("R3", r, (f"requests.{r}.total",), tuple(f"requests.{r}.{c}" for c in APPLICANT_COLUMNS)))
    for g in REVIEW_GROUPS:
        out.append(
            Rule("R4", g, (f"review.{g}.total",), tuple(f"review.{g}.{o}" for o in REVIEW_OUTCOMES[:-1]))
        )
    return tuple(out)


RULES_VERSION = "1"

# Labels that open each table part; a part whose heading is missing starts at
# the first short cell holding one of them.
TABLE_ANCHORS: dict[int, tuple[str, ...]] = {
    2: ("第二十条第(一)项", "本年制发件数", "本年新制作数量"),
    3: ("本年新收政府信息公开申请",),
    4: ("结果维持",),
}
