"""Everything gkllm knows about the national report template, as data.

The spec (report-schema.md) fixes key names and labels; this module is the
single place that encodes them: row and column labels, their anchors and
aliases, the header and heading vocabulary of each table, the kind of every
key and the arithmetic rules. Parsers, rules, the LLM prompts, the eval
harness and the generators all read from here, so a new alias or a new row is
a change to this file only.

Labels are compared after folding (``gkllm.text``: whitespace removed, NFKC,
traditional → simplified, OCR confusions collapsed). A row is found by an
``anchor``: a substring that occurs in that row's label and in no other label
of the same table. Anchors marked ``exact`` are generic words ("其他",
"总计") that also occur inside other labels and headers; they count only as a
whole printed cell.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, Mapping

TemplateName = Literal["2021", "2019"]


@dataclass(frozen=True)
class Row:
    """One row of a table: its key, its label as the template prints it, and
    the substrings that find it in a printed report."""

    key: str
    label: str
    anchors: tuple[str, ...]
    exact: tuple[str, ...] = ()
    templates: tuple[str, ...] = ("2021", "2019")
    exact_2019: tuple[str, ...] = ()  # extra exact labels valid only in the 2019 template

    @property
    def ordinal(self) -> str | None:
        """The arabic ordinal printed before the label ("2" of "2.重复申请"), if any."""
        head = self.label.split(".", 1)[0]
        return head if head.isdigit() else None


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
            ("规章",),
            ("active.rules.issued", "active.rules.repealed", "active.rules.in_force"),
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
            ("规章",),
            ("t2019.active.rules.new_made", "t2019.active.rules.new_published", "t2019.active.rules.total_published"),
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

# Part 2's column headers and sub-table titles: text that sits among the rows
# and carries no value ("第二十条第（五）项 信息内容 本年处理决定数量").
PART2_HEADER_LABELS: tuple[str, ...] = (
    "第二十条第(一)项",
    "第二十条第(五)项",
    "第二十条第(六)项",
    "第二十条第(八)项",
    "第二十条第(九)项",
    "第二十条第(十)项",
    "信息内容",
    "本年制发件数",
    "本年废止件数",
    "现行有效件数",
    "本年处理决定数量",
    "本年收费金额(单位:万元)",
    "本年新制作数量",
    "本年新公开数量",
    "对外公开总数量",
    "上一年项目数量",
    "本年增/减",
    "处理决定数量",
    "采购项目数量",
    "采购总金额",
    "采购总金额(元)",
    "(单位:万元)",
)

# Prose that states a part-2 number which the table may print glued to its
# neighbours ("集中公开现行有效行政规范性文件698件，动态更新本年度制发的规范性
# 文件88件" settles "8855698"): per key, the topic words and the verbs of a clause.
PROSE_HINTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    f"active.{topic}.{col}": (words, verbs)
    for topic, words in (("rules", ("规章",)), ("normative_docs", ("规范性文件",)))
    for col, verbs in (
        ("issued", ("制发", "制定", "印发", "出台", "发布")),
        ("repealed", ("废止", "宣布失效")),
        ("in_force", ("现行有效",)),
    )
}

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
    Row("partial", "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", ("部分公开",)),
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
# Part 4's two header rows: the whole table is these words, then 15 numbers
# (groups in REVIEW_GROUPS order, outcomes in REVIEW_OUTCOMES order).
PART4_HEADER_LABELS: tuple[str, ...] = (
    "行政复议",
    "行政诉讼",
    "未经复议直接起诉",
    "复议后起诉",
    *REVIEW_OUTCOME_LABELS.values(),
)

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

@dataclass(frozen=True)
class NarrativeCue:
    """How the prose states a narrative count: a sentence holding every word of ``all_of`` and
    one of ``any_of``, with the count printed before one of ``units`` (or, where ``zero`` allows,
    a phrase saying there was none: 未收到…申请)."""

    any_of: tuple[str, ...]
    units: tuple[str, ...]
    all_of: tuple[str, ...] = ()
    zero: bool = False

    def about(self, sentence: str) -> bool:
        return all(w in sentence for w in self.all_of) and any(w in sentence for w in self.any_of)


NARRATIVE_CUES: dict[str, NarrativeCue] = {
    "narrative.active_items": NarrativeCue(("主动公开",), ("条",)),
    "narrative.requests_received": NarrativeCue(("收到", "受理", "接到", "接收"), ("件",), ("申请",), zero=True),
    "narrative.trainings": NarrativeCue(("培训",), ("次", "场", "期")),
    "narrative.fee_yuan": NarrativeCue(("处理费", "收费", "费用"), ("元",), zero=True),
}


# --- Parts / segmentation -----------------------------------------------------

# Heading phrases per part, searched on compact text of short lines. Numbering
# ("二、") is deliberately not required: reports drop or change it.
PART_HEADINGS: dict[int, tuple[str, ...]] = {
    1: ("总体情况",),
    2: ("主动公开政府信息情况", "主动公开政府信息"),
    3: ("收到和处理政府信息公开申请", "政府信息公开申请情况", "依申请公开政府信息情况"),
    4: ("行政复议、行政诉讼", "行政复议和行政诉讼", "行政复议与行政诉讼", "行政复议行政诉讼", "复议、诉讼情况"),
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
    return list(_table_keys(template))


@lru_cache(maxsize=None)
def _table_keys(template: TemplateName) -> tuple[str, ...]:
    return tuple(part2_keys(template) + part3_keys(template) + part4_keys())


def flat_keys(template: TemplateName = "2021") -> list[str]:
    """Every key of the contract, in output order."""
    return list(_flat_keys(template))


@lru_cache(maxsize=None)
def _flat_keys(template: TemplateName) -> tuple[str, ...]:
    return tuple(META_KEYS) + _table_keys(template) + tuple(NARRATIVE_KEYS)


KeyKind = Literal["count", "amount", "signed"]

# Keys that are not whole non-negative counts: amounts are decimals (万元 or 元),
# signed keys are changes against last year and may be negative.
AMOUNT_KEYS: frozenset[str] = frozenset({"active.fees", "t2019.active.procurement.amount", "narrative.fee_yuan"})


@lru_cache(maxsize=4096)
def key_kind(key: str) -> KeyKind:
    """count (a non-negative integer), amount (a non-negative decimal) or signed (an integer change)."""
    if key in AMOUNT_KEYS:
        return "amount"
    if key.startswith("t2019.") and key.endswith(".change"):
        return "signed"
    return "count"


def is_decimal_key(key: str) -> bool:
    return key_kind(key) == "amount"


def is_signed_key(key: str) -> bool:
    return key_kind(key) == "signed"


def part_of(key: str) -> str:
    """Which part a flat key belongs to: "2", "3", "4", "narrative" or "meta"."""
    head = key.split(".", 1)[0]
    return {"active": "2", "t2019": "2", "requests": "3", "review": "4"}.get(head, head)


# --- Label folding data (applied by gkllm.text) ---------------------------------------

# Glyphs that OCR confuses, collapsed onto one representative on both sides of
# every label comparison. Folding both the template's anchors and the printed
# labels keeps distinct anchors distinct (对外管理 and 对处管理 would both fold,
# but only one exists).
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
    "忠": "息",
}
# Words that printed labels use for a template word; folded like the above.
LABEL_SYNONYMS: dict[str, str] = {
    "合计": "总计",
}
assert all(len(a) == len(b) for a, b in LABEL_SYNONYMS.items()), "folding keeps text length"


_EPS = 1e-6


@dataclass(frozen=True)
class Rule:
    """An arithmetic rule as data: the sum of ``lhs`` equals the sum of ``rhs``
    (or of one of ``alt_rhs``). A ``soft`` rule compares prose with the table:
    its failure is reported but never used to decide a table value."""

    id: str
    scope: str
    lhs: tuple[str, ...]
    rhs: tuple[str, ...]
    soft: bool = False
    alt_rhs: tuple[tuple[str, ...], ...] = ()

    operands: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # every key the rule reads (lhs, rhs, then the alternatives' extra keys); read in hot loops
        extra = tuple(k for alt in self.alt_rhs for k in alt if k not in self.lhs and k not in self.rhs)
        object.__setattr__(self, "operands", self.lhs + self.rhs + tuple(dict.fromkeys(extra)))

    def holds(self, values: Mapping[str, float | int | None]) -> bool | None:
        """True or False; None when an operand it needs is null or absent (not assessable)."""
        return self.evaluate(values)[0]

    def evaluate(self, values: Mapping[str, float | int | None]) -> tuple[bool | None, float | None, float | None]:
        """``holds`` with both sides of the equation, for reporting."""
        lhs = _sum(values, self.lhs)
        rhs = _sum(values, self.rhs)
        if lhs is None or rhs is None:
            return None, lhs, rhs
        if abs(lhs - rhs) < _EPS:
            return True, lhs, rhs
        for alt in self.alt_rhs:
            other = _sum(values, alt)
            if other is not None and abs(lhs - other) < _EPS:
                return True, lhs, rhs
        return False, lhs, rhs

    def describe(self, where: str | None = None) -> str:
        """The rule in the template's words, for people and for re-ask prompts."""
        return RULE_DESCRIPTIONS[self.id].format(scope=where or self.scope)


def _sum(values: Mapping[str, float | int | None], keys: tuple[str, ...]) -> float | None:
    total = 0.0
    get = values.get
    for k in keys:
        v = get(k)
        if v is None:
            return None
        total += v
    return total


RULE_DESCRIPTIONS: dict[str, str] = {
    "R1": "column {scope}: 一、本年新收 + 二、上年结转 must equal （七）总计 + 四、结转下年度继续办理",
    "R2": "column {scope}: （七）总计 must equal the sum of the result rows （一）…（六）",
    "R3": "row {scope}: 总计 must equal the sum of the six applicant columns",
    "R4": "{scope}: 总计 must equal 结果维持 + 结果纠正 + 其他结果 + 尚未审结",
    "R5": "the prose's count of requests received must equal 一、本年新收 总计 (or 本年新收 + 上年结转)",
}


def rules_for(template: TemplateName = "2021", absent: frozenset[str] = frozenset()) -> list[Rule]:
    """The hard rules R1-R4 of a template: a failure means a misread or an inconsistent report.

    ``absent``: keys a report does not print by design (a 2021 report printing
    （六）其他处理 as one row): they leave R2's sums and their rows' R3.
    """
    rules = _rules_for(template)
    if not absent:
        return list(rules)
    out = []
    for r in rules:
        if all(k in absent for k in r.lhs):
            continue
        out.append(Rule(r.id, r.scope, r.lhs, tuple(k for k in r.rhs if k not in absent), r.soft, r.alt_rhs))
    return out


# R5: prose against the table. Many reports count carried-over requests as received (749 = 713 + 36).
R5 = Rule("R5", "narrative", ("narrative.requests_received",), ("requests.new.total",), soft=True,
          alt_rhs=(("requests.new.total", "requests.carried_over.total"),))


def soft_rules() -> list[Rule]:
    return [R5]


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


@lru_cache(maxsize=1)
def rules_version() -> str:
    """A digest of the rules and their wording: an LLM answer cached under other rules is not reused."""
    data = repr((_rules_for("2021"), _rules_for("2019"), R5, sorted(RULE_DESCRIPTIONS.items())))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]


RULES_VERSION = rules_version()

# Labels that open each table part; a part whose heading is missing starts at
# the first short cell holding one of them.
TABLE_ANCHORS: dict[int, tuple[str, ...]] = {
    2: ("第二十条第(一)项", "本年制发件数", "本年新制作数量"),
    3: ("本年新收政府信息公开申请",),
    4: ("结果维持",),
}
