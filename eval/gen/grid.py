"""The canonical structure of an annual report, built from a gold dict.

A report is a title, intro paragraphs and six ``Part``s. Parts 2-4 carry a
``Table`` that mirrors the national template's real table cell by cell,
including merged cells (``rowspan``/``colspan``), so that every renderer
(plain-text layouts in ``eval.gen.layouts``; HTML/DOCX/PDF writers) starts from
the same grid and only decides how to print it.

Grid model (the HTML table model):

* ``Table.rows[i]`` lists only the cells that *start* in row ``i``, left to
  right; a cell spanning several rows/columns is listed once, at its origin.
* ``Table.width`` is the number of grid columns; ``Table.matrix()`` resolves the
  spans into a full ``len(rows) x width`` matrix of ``Slot``s.
* Value cells carry the flat ``key`` they print (``GridCell.key``) and their
  role; the text of a null value is ``blank`` (default ``""``).

Templates: 国办公开办函〔2021〕30号 (``"2021"``) and 国办公开办函〔2019〕60号
(``"2019"``), selected by ``gold["meta.template"]``.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

from gkllm.template import (
    APPLICANT_COLUMNS,
    COLUMN_LABELS,
    COLUMNS,
    REVIEW_GROUPS,
    REVIEW_OUTCOME_LABELS,
    REVIEW_OUTCOMES,
    ROWS,
    TemplateName,
    rows_for,
)

Role = Literal["corner", "header", "section", "group", "label", "value"]
Value = int | float | str | None

PART3_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
PARTIAL_LABEL = "（二）部分公开（区分处理的，只计这一情形，不计其他情形）"

HEADINGS: dict[int, str] = {
    1: "一、总体情况",
    2: "二、主动公开政府信息情况",
    3: "三、收到和处理政府信息公开申请情况",
    4: "四、政府信息公开行政复议、行政诉讼情况",
    5: "五、存在的主要问题及改进情况",
    6: "六、其他需要报告的事项",
}


@dataclass(frozen=True)
class GridCell:
    """One printed table cell.

    ``role``: ``corner`` (top-left note), ``header`` (column heading),
    ``section`` (part-2 "第二十条第（一）项" line), ``group`` (a label spanning
    several rows, e.g. "三、本年度办理结果"), ``label`` (a row label) or
    ``value`` (a number; ``key`` is its flat key).
    """

    text: str
    rowspan: int = 1
    colspan: int = 1
    role: Role = "label"
    key: str | None = None

    def with_text(self, text: str) -> GridCell:
        return replace(self, text=text)


@dataclass(frozen=True)
class Slot:
    """A grid position: the cell covering it and whether it is the cell's origin."""

    cell: GridCell
    origin: bool
    row0: int  # the cell's origin row
    col0: int  # the cell's origin column


@dataclass
class Table:
    rows: list[list[GridCell]]
    header_rows: int = 0  # leading rows holding column headings
    name: str = ""  # "part2" | "part3" | "part4"

    @property
    def width(self) -> int:
        return _width(self.rows)

    def matrix(self) -> list[list[Slot]]:
        """Resolve spans into a full matrix (raises on overlapping cells)."""
        width = self.width
        grid: list[list[Slot | None]] = [[None] * width for _ in self.rows]
        for r, row in enumerate(self.rows):
            c = 0
            for cell in row:
                while c < width and grid[r][c] is not None:
                    c += 1
                if c + cell.colspan > width or r + cell.rowspan > len(self.rows):
                    raise ValueError(f"cell {cell.text!r} overflows the grid at row {r}")
                for dr in range(cell.rowspan):
                    for dc in range(cell.colspan):
                        if grid[r + dr][c + dc] is not None:
                            raise ValueError(f"cell {cell.text!r} overlaps at ({r + dr},{c + dc})")
                        grid[r + dr][c + dc] = Slot(cell, dr == 0 and dc == 0, r, c)
                c += cell.colspan
        for r, line in enumerate(grid):
            if any(s is None for s in line):
                raise ValueError(f"row {r} has holes")
        return grid  # type: ignore[return-value]

    def cells(self) -> Iterator[GridCell]:
        for row in self.rows:
            yield from row

    def value_cells(self) -> Iterator[GridCell]:
        return (c for c in self.cells() if c.role == "value")

    def map_cells(self, fn) -> Table:  # fn: GridCell -> GridCell
        return Table([[fn(c) for c in row] for row in self.rows], self.header_rows, self.name)


def _width(rows: list[list[GridCell]]) -> int:
    """Grid width: the widest row once rowspans from above are counted."""
    carry: dict[int, int] = {}  # row index -> columns occupied by spans from above
    best = 0
    for r, row in enumerate(rows):
        w = carry.get(r, 0) + sum(c.colspan for c in row)
        best = max(best, w)
        for c in row:
            for dr in range(1, c.rowspan):
                carry[r + dr] = carry.get(r + dr, 0) + c.colspan
    return best


@dataclass
class Part:
    number: int  # 1..6
    heading: str  # e.g. "二、主动公开政府信息情况"
    paragraphs: list[str] = field(default_factory=list)
    table: Table | None = None


@dataclass
class Report:
    title: str
    intro: list[str]
    parts: list[Part]
    template: TemplateName = "2021"


# --- values --------------------------------------------------------------------------


def format_value(value: Value, blank: str = "") -> str:
    """Print a gold value the way a report prints it (None -> ``blank``)."""
    if value is None:
        return blank
    if isinstance(value, float):
        s = f"{value:.4f}".rstrip("0").rstrip(".")
        return "0" if s in ("", "-0") else s
    return str(value)


def _v(gold: Mapping[str, Value], key: str, blank: str, **span: int) -> GridCell:
    return GridCell(format_value(gold.get(key), blank), role="value", key=key, **span)


# --- part 2 --------------------------------------------------------------------------


def _section(text: str, width: int = 4) -> list[GridCell]:
    return [GridCell(text, colspan=width, role="section")]


def _heads(*texts: str, last_span: int = 1) -> list[GridCell]:
    out = [GridCell("信息内容", role="header")]
    for i, t in enumerate(texts):
        span = last_span if i == len(texts) - 1 else 1
        out.append(GridCell(t, colspan=span, role="header"))
    return out


def part2_table(gold: Mapping[str, Value], template: TemplateName = "2021", blank: str = "") -> Table:
    g = gold
    if template == "2019":
        three = ("本年新制作数量", "本年新公开数量", "对外公开总数量")
        decision = ("上一年项目数量", "本年增/减", "处理决定数量")
        t = "t2019.active"
        rows = [
            _section("第二十条第（一）项"),
            _heads(*three),
            [GridCell("规章")]
            + [_v(g, f"{t}.rules.{k}", blank) for k in ("new_made", "new_published", "total_published")],
            [GridCell("规范性文件")]
            + [_v(g, f"{t}.normative_docs.{k}", blank) for k in ("new_made", "new_published", "total_published")],
            _section("第二十条第（五）项"),
            _heads(*decision),
            [GridCell("行政许可"), _v(g, f"{t}.licensing.prev_year_items", blank),
             _v(g, f"{t}.licensing.change", blank), _v(g, "active.licensing", blank)],
            [GridCell("其他对外管理服务事项"), _v(g, f"{t}.other_admin_services.prev_year_items", blank),
             _v(g, f"{t}.other_admin_services.change", blank), _v(g, f"{t}.other_admin_services.decisions", blank)],
            _section("第二十条第（六）项"),
            _heads(*decision),
            [GridCell("行政处罚"), _v(g, f"{t}.punishment.prev_year_items", blank),
             _v(g, f"{t}.punishment.change", blank), _v(g, "active.punishment", blank)],
            [GridCell("行政强制"), _v(g, f"{t}.coercion.prev_year_items", blank), _v(g, f"{t}.coercion.change", blank),
             _v(g, "active.coercion", blank)],
            _section("第二十条第（八）项"),
            _heads("上一年项目数量", "本年增/减", last_span=2),
            [GridCell("行政事业性收费"), _v(g, f"{t}.fees.prev_year_items", blank),
             _v(g, f"{t}.fees.change", blank, colspan=2)],
            _section("第二十条第（九）项"),
            _heads("采购项目数量", "采购总金额", last_span=2),
            [GridCell("政府集中采购"), _v(g, f"{t}.procurement.items", blank),
             _v(g, f"{t}.procurement.amount", blank, colspan=2)],
        ]
        return Table(rows, 0, "part2")
    three = ("本年制发件数", "本年废止件数", "现行有效件数")
    rows = [
        _section("第二十条第（一）项"),
        _heads(*three),
        [GridCell("规章")] + [_v(g, f"active.rules.{k}", blank) for k in ("issued", "repealed", "in_force")],
        [GridCell("行政规范性文件")]
        + [_v(g, f"active.normative_docs.{k}", blank) for k in ("issued", "repealed", "in_force")],
        _section("第二十条第（五）项"),
        _heads("本年处理决定数量", last_span=3),
        [GridCell("行政许可"), _v(g, "active.licensing", blank, colspan=3)],
        _section("第二十条第（六）项"),
        _heads("本年处理决定数量", last_span=3),
        [GridCell("行政处罚"), _v(g, "active.punishment", blank, colspan=3)],
        [GridCell("行政强制"), _v(g, "active.coercion", blank, colspan=3)],
        _section("第二十条第（八）项"),
        _heads("本年收费金额（单位：万元）", last_span=3),
        [GridCell("行政事业性收费"), _v(g, "active.fees", blank, colspan=3)],
    ]
    return Table(rows, 0, "part2")


# --- part 3 --------------------------------------------------------------------------

# Group label cells of part 3 ("（三）不予公开" ...) and the row keys they span.
_GROUPS_2021: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("（三）不予公开", tuple(r.key for r in ROWS if r.key.startswith("denied_"))),
    ("（四）无法提供", tuple(r.key for r in ROWS if r.key.startswith("unavailable_"))),
    ("（五）不予处理", tuple(r.key for r in ROWS if r.key.startswith("rejected_"))),
    ("（六）其他处理", ("other_no_correction", "other_no_fee", "other_other")),
)
PART3_LABELS: dict[str, str] = {r.key: r.label for r in ROWS} | {"partial": PARTIAL_LABEL}


def part3_table(gold: Mapping[str, Value], template: TemplateName = "2021", blank: str = "",
                corner: str = PART3_NOTE) -> Table:
    keys = [r.key for r in rows_for(template)]
    header = [
        [GridCell(corner, rowspan=3, colspan=3, role="corner"), GridCell("申请人情况", colspan=7, role="header")],
        [GridCell("自然人", rowspan=2, role="header"), GridCell("法人或其他组织", colspan=5, role="header"),
         GridCell("总计", rowspan=2, role="header")],
        [GridCell(COLUMN_LABELS[c], role="header") for c in APPLICANT_COLUMNS[1:]],
    ]

    def values(row: str) -> list[GridCell]:
        return [_v(gold, f"requests.{row}.{c}", blank) for c in COLUMNS]

    groups = {members[0]: (label, len([m for m in members if m in keys])) for label, members in _GROUPS_2021}
    grouped = {m for _, members in _GROUPS_2021 for m in members}
    n_results = keys.index("results_total") - keys.index("granted") + 1
    body: list[list[GridCell]] = []
    for k in keys:
        if k in ("new", "carried_over", "carried_forward"):
            body.append([GridCell(PART3_LABELS[k], colspan=3)] + values(k))
            continue
        row: list[GridCell] = []
        if k == "granted":
            row.append(GridCell("三、本年度办理结果", rowspan=n_results, role="group"))
        if template == "2019" and k == "other_other":
            row.append(GridCell("（六）其他处理", colspan=2))
        elif k in grouped:
            if k in groups:
                label, span = groups[k]
                row.append(GridCell(label, rowspan=span, role="group"))
            row.append(GridCell(PART3_LABELS[k]))
        else:  # granted, partial, results_total
            row.append(GridCell(PART3_LABELS[k], colspan=2))
        body.append(row + values(k))
    return Table(header + body, 3, "part3")


# --- part 4 --------------------------------------------------------------------------


def part4_table(gold: Mapping[str, Value], blank: str = "") -> Table:
    outcomes = [GridCell(REVIEW_OUTCOME_LABELS[o], role="header") for o in REVIEW_OUTCOMES]
    rows = [
        [GridCell("行政复议", colspan=5, role="header"), GridCell("行政诉讼", colspan=10, role="header")],
        [GridCell(REVIEW_OUTCOME_LABELS[o], rowspan=2, role="header") for o in REVIEW_OUTCOMES]
        + [GridCell("未经复议直接起诉", colspan=5, role="header"), GridCell("复议后起诉", colspan=5, role="header")],
        outcomes + list(outcomes),
        [_v(gold, f"review.{g}.{o}", blank) for g in REVIEW_GROUPS for o in REVIEW_OUTCOMES],
    ]
    return Table(rows, 3, "part4")


# --- prose -----------------------------------------------------------------------------


def agency_self(agency: str) -> str:
    """How the agency refers to itself in prose ("我区", "我局", ...)."""
    for suffix, me in (
        ("区人民政府", "我区"), ("县人民政府", "我县"), ("镇人民政府", "我镇"), ("市人民政府", "我市"),
        ("街道办事处", "我街道"), ("委员会", "我委"), ("厅", "我厅"), ("局", "我局"),
    ):
        if agency.endswith(suffix):
            return me
    return "本机关"


def report_title(gold: Mapping[str, Value], rng: random.Random | None = None) -> str:
    rng = rng or gold_rng(gold)
    agency, year = gold["meta.agency"], gold["meta.year"]
    return rng.choice((
        f"{agency}{year}年政府信息公开工作年度报告",
        f"{agency}{year}年度政府信息公开工作年度报告",
        f"{agency}{year}年度政府信息公开工作报告",
    ))


def gold_rng(gold: Mapping[str, Value], salt: str = "") -> random.Random:
    """A deterministic rng derived from the gold content (stable across runs)."""
    blob = json.dumps(dict(gold), ensure_ascii=False, sort_keys=True, default=str) + salt
    return random.Random(zlib.crc32(blob.encode("utf-8")))


def _active_sentence(rng: random.Random, me: str, year: int, n: Value) -> str:
    if n is None:
        return f"{year}年，{me}依托政府门户网站、政务新媒体等平台，及时公开政策文件、工作动态、人事信息等内容。"
    if isinstance(n, int) and n % 100 == 0 and rng.random() < 0.6:
        return f"{year}年，{me}通过政府门户网站对外主动公开政府文件、政务动态等方面信息共计{n}余条。"
    return rng.choice((
        f"{year}年，{me}主动公开各类信息{n}条，内容涉及政策法规、政府文件、机构职能、财政预决算等。",
        f"全年通过政府门户网站主动公开信息共{n}条，其中政策文件、工作动态、通知公告等均按时发布。",
        f"{year}年度，{me}在政府信息公开平台主动公开政府信息{n}条。",
    ))


def _requests_sentence(rng: random.Random, me: str, year: int, n: Value) -> str:
    if n is None:
        return "进一步规范依申请公开工作流程，畅通受理渠道，严格按照法定时限答复申请人。"
    if n == 0:
        return rng.choice((
            f"{year}年度{me}未收到依申请公开政府信息。",
            f"{year}年，{me}未收到政府信息公开申请。",
            "本年度未收到公民、法人或其他组织提出的政府信息公开申请。",
        ))
    return rng.choice((
        f"{year}年，{me}共收到政府信息公开申请{n}件，均已按照规定时限向申请人进行了答复。",
        f"全年共收到政府信息公开申请{n}件，已全部按期办结。",
        f"本年度{me}共受理政府信息公开申请{n}件，按时答复率100%。",
    ))


def _fee_sentence(rng: random.Random, n: Value) -> str:
    if n is None:
        return ""
    if n == 0:
        return rng.choice(("本年度未收取信息处理费。", "未收取任何信息处理费用。",
                           "全年未收取政府信息公开信息处理费。"))
    return rng.choice((f"本年度共收取信息处理费{n}元。",
                       f"依据《政府信息公开信息处理费管理办法》收取信息处理费{n}元。"))


def _training_sentence(rng: random.Random, me: str, n: Value) -> str:
    if n is None:
        return "定期组织工作人员学习《中华人民共和国政府信息公开条例》，提升业务能力。"
    return rng.choice((
        f"全年共参加市、区政务公开培训{n}次。",
        f"组织开展政务公开业务培训{n}次，提升工作人员业务水平。",
        f"{me}共组织政务公开专题培训{n}次。",
    ))


_FILLER_1 = (
    "坚持以习近平新时代中国特色社会主义思想为指导，认真贯彻落实《中华人民共和国政府信息公开条例》，坚持以公开为常态、不公开为例外，持续提升政务公开质量和实效。",
    "深入贯彻党中央、国务院关于全面推进政务公开工作的决策部署，按照上级有关要求，扎实推进决策、执行、管理、服务、结果公开。",
)
_MGMT = (
    "严格执行保密审查制度，按照“谁公开、谁审查、谁负责”的原则，坚持先审查、后公开，全年未发生泄密事件。",
    "动态更新政府信息公开指南和主动公开目录，规范政府信息发布、审核流程，确保公开信息准确、规范。",
)
_PLATFORM = (
    "积极推进政府网站集约化建设，优化政府信息公开专栏设置，回复网民留言{k}条，进一步提升平台服务水平。",
    "加强政务新媒体管理，全年通过政务微信公众号发布信息{k}篇，拓宽了公开渠道。",
)
_PROBLEMS = (
    "一是公开内容的全面性和及时性有待提高；二是政策解读形式较为单一，解读质量还需提升；三是工作人员业务能力有待进一步加强。",
    "一是部分科室对政务公开工作重视程度不够，主动公开意识有待增强；二是公开平台栏目更新不够及时。",
)
_IMPROVE = (
    "下一步，{me}将进一步加强组织领导，细化公开内容，加强业务培训，不断提升政务公开工作水平。",
    "针对以上问题，{me}将健全工作机制，强化监督考核，加大重点领域信息公开力度，切实提高政府信息公开质量。",
)


def report_intro(gold: Mapping[str, Value], rng: random.Random | None = None) -> list[str]:
    rng = rng or gold_rng(gold, "intro")
    year = gold["meta.year"]
    period = f"本报告所列数据的统计期限自{year}年1月1日起至{year}年12月31日止。"
    return [rng.choice((
        f"本报告根据《中华人民共和国政府信息公开条例》（以下简称《条例》）规定编制，由总体情况、主动公开政府信息情况、"
        f"收到和处理政府信息公开申请情况等六部分组成。{period}",
        f"根据《中华人民共和国政府信息公开条例》规定，特向社会公布本年度政府信息公开工作年度报告。{period}",
        f"本报告依据《条例》和国务院办公厅政府信息与政务公开办公室有关要求编制。{period}"
        f"如对本报告有疑问，请与本机关办公室联系（电话：0{rng.randint(100, 999)}-{rng.randint(2000000, 8999999)}）。",
    ))]


def part1_paragraphs(gold: Mapping[str, Value], rng: random.Random, fee_in_part1: bool = True) -> list[str]:
    me, year = agency_self(str(gold["meta.agency"])), int(gold["meta.year"])  # type: ignore[arg-type]
    fee = _fee_sentence(rng, gold.get("narrative.fee_yuan")) if fee_in_part1 else ""
    paras = [
        f"{year}年，{me}{rng.choice(_FILLER_1)}",
        "（一）主动公开。" + _active_sentence(rng, me, year, gold.get("narrative.active_items"))
        + rng.choice(("", "召开新闻发布会" + str(rng.randint(2, 9)) + "场，及时回应社会关切。")),
        "（二）依申请公开。" + _requests_sentence(rng, me, year, gold.get("narrative.requests_received")) + fee,
        "（三）政府信息管理。" + rng.choice(_MGMT),
        "（四）政府信息公开平台建设。" + rng.choice(_PLATFORM).format(k=rng.randint(12, 400)),
        "（五）监督保障。" + _training_sentence(rng, me, gold.get("narrative.trainings"))
        + "将政务公开工作纳入年度绩效考核，全年未发生责任追究情况。",
    ]
    return paras


def report_parts(gold: Mapping[str, Value], rng: random.Random | None = None, *, blank: str = "") -> list[Part]:
    """The six parts of the report; parts 2-4 carry the template tables.

    Prose is drawn from ``rng`` (default: derived from the gold, so the same
    gold always gives the same report). ``blank`` is the text of null cells.
    """
    rng = rng or gold_rng(gold, "parts")
    template: TemplateName = gold.get("meta.template", "2021")  # type: ignore[assignment]
    me = agency_self(str(gold["meta.agency"]))
    fee_in_part1 = rng.random() < 0.7
    part6 = [] if fee_in_part1 else [_fee_sentence(rng, gold.get("narrative.fee_yuan"))]
    part6 = [p for p in part6 if p] + [rng.choice((
        "本年度无其他需要报告的事项。",
        f"{me}无其他需要报告的事项。",
        "按照《政府信息公开信息处理费管理办法》规定，本机关依法落实政府信息公开信息处理费制度。",
    ))]
    return [
        Part(1, HEADINGS[1], part1_paragraphs(gold, rng, fee_in_part1)),
        Part(2, HEADINGS[2], [], part2_table(gold, template, blank)),
        Part(3, HEADINGS[3], [], part3_table(gold, template, blank)),
        Part(4, HEADINGS[4], [], part4_table(gold, blank)),
        Part(5, HEADINGS[5], [rng.choice(_PROBLEMS), rng.choice(_IMPROVE).format(me=me)]),
        Part(6, HEADINGS[6], part6),
    ]


def build_report(gold: Mapping[str, Value], rng: random.Random | None = None, *, blank: str = "") -> Report:
    """Title + intro + parts, all drawn from one rng."""
    rng = rng or gold_rng(gold, "report")
    title = report_title(gold, rng)
    intro = report_intro(gold, rng)
    return Report(title, intro, report_parts(gold, rng, blank=blank), gold.get("meta.template", "2021"))  # type: ignore[arg-type]
