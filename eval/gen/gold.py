"""Random gold data for synthetic 政府信息公开工作年度报告 (eval corpus only).

``random_gold`` returns a flat dict over exactly ``gkllm.template.flat_keys(template)``
plus ``"meta.template"``; rendering that dict into a report is the job of
``eval.gen.grid`` and ``eval.gen.layouts``.

Value conventions (the output contract, report-schema.md):

* counts are ``int`` (``t2019.*.change`` may be negative);
* ``active.fees`` (万元) and ``t2019.active.procurement.amount`` (元) are ``float``
  rounded to at most 4 decimals;
* a cell printed blank is ``None``;
* ``meta.agency`` is a ``str``, ``meta.year`` an ``int``, ``meta.template`` ``"2021"``/``"2019"``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping

from gkllm.template import (
    APPLICANT_COLUMNS,
    RESULT_ROWS,
    REVIEW_GROUPS,
    REVIEW_OUTCOMES,
    Rule,
    TemplateName,
    flat_keys,
    rows_for,
    rules_for,
    table_keys,
)

Value = int | float | str | None
Gold = dict[str, Value]

# --- agency names ---------------------------------------------------------------

_CITIES = (
    "兴安", "牧野", "曲阳", "奉化", "相山", "临川", "安平", "永和", "江宁", "龙泉",
    "新华", "长宁", "白云", "河西", "金水", "清河", "东城", "南湖", "西山", "北塘",
)
_DISTRICTS = (
    "城关", "高新", "经开", "东湖", "鼓楼", "青山", "铁西", "开福", "雨花", "天河",
    "望城", "新城", "滨江", "海陵", "涧西", "沙河", "红旗", "桥东", "城南", "丰泽",
)
_TOWNS = ("东兴", "柳河", "石桥", "大营", "新集", "马坊", "白沙", "朱庄", "龙湾", "黄岗")
_STREETS = ("曲阳", "和平", "解放", "建设", "人民路", "长江路", "文化", "胜利", "光明", "北关")
_PROVINCES = ("河南", "黑龙江", "安徽", "浙江", "湖南", "四川", "江西", "山东", "吉林", "广西")
_BUREAUS = (
    "应急管理局", "生态环境局", "教育局", "民政局", "财政局", "人力资源和社会保障局",
    "自然资源和规划局", "住房和城乡建设局", "交通运输局", "农业农村局", "卫生健康委员会",
    "市场监督管理局", "司法局", "商务局", "文化和旅游局", "医疗保障局", "水利局", "统计局",
)


def random_agency(rng: random.Random) -> str:
    """A plausible 发布机关 name, e.g. "临川市鼓楼区人民政府"."""
    city, district = rng.choice(_CITIES), rng.choice(_DISTRICTS)
    form = rng.randrange(8)
    if form == 0:
        return f"{city}市{district}区人民政府"
    if form == 1:
        return f"{city}市人民政府"
    if form == 2:
        return f"{city}县{rng.choice(_TOWNS)}镇人民政府"
    if form == 3:
        return f"{district}区{rng.choice(_STREETS)}街道办事处"
    if form == 4:
        return f"{city}市{district}区{rng.choice(_BUREAUS)}"
    if form == 5:
        return f"{city}市{rng.choice(_BUREAUS)}"
    if form == 6:
        return f"{rng.choice(_PROVINCES)}省{rng.choice(_BUREAUS).replace('局', '厅', 1)}"
    return f"{city}县人民政府"


# --- rules ------------------------------------------------------------------------


def rule_id(rule: Rule) -> str:
    """The id used in ``inconsistent_rules``: ``"R3:granted"``."""
    return f"{rule.id}:{rule.scope}"


def evaluate_rule(values: Mapping[str, Value], rule: Rule) -> bool | None:
    """True/False, or None when an operand is missing or null (not assessable)."""
    terms = [values.get(k) for k in rule.lhs + rule.rhs]
    if any(not isinstance(t, (int, float)) or isinstance(t, bool) for t in terms):
        return None
    lhs = sum(values[k] for k in rule.lhs)  # type: ignore[misc]
    rhs = sum(values[k] for k in rule.rhs)  # type: ignore[misc]
    return lhs == rhs


def broken_rules(values: Mapping[str, Value], template: TemplateName = "2021") -> list[str]:
    """Ids of the rules R1-R4 that are assessable and fail, in ``rules_for`` order."""
    return [rule_id(r) for r in rules_for(template) if evaluate_rule(values, r) is False]


# --- numbers ---------------------------------------------------------------------


def _count(rng: random.Random, hi: float, zero_p: float) -> int:
    """0 with probability ``zero_p``, else log-uniform in [1, hi]."""
    hi = int(hi)
    if hi < 1 or rng.random() < zero_p:
        return 0
    return max(1, min(hi, int(math.exp(rng.uniform(0.0, math.log(hi + 1))))))


def _decimal(rng: random.Random, lo: float, hi: float, max_decimals: int = 4) -> float:
    d = rng.randint(0, max_decimals)
    v = round(math.exp(rng.uniform(math.log(lo), math.log(hi))), d)
    return float(v)


_COLUMN_WEIGHT = {
    "natural_person": 1.0,
    "commercial": 0.35,
    "research": 0.06,
    "social_org": 0.08,
    "legal_service": 0.12,
    "other_org": 0.15,
}
_ROW_WEIGHT = {
    "granted": 1.0,
    "partial": 0.3,
    "unavailable_not_held": 0.45,
    "unavailable_needs_creation": 0.12,
    "unavailable_unclear": 0.1,
    "rejected_petition": 0.2,
    "rejected_duplicate": 0.1,
    "denied_third_party": 0.08,
    "denied_process_info": 0.08,
    "other_other": 0.12,
    "other_no_correction": 0.1,
}
CELL_MAX = 99_999  # "up to 5 digits" for single cells; totals may be larger


def _part3(rng: random.Random, template: TemplateName, gold: Gold) -> None:
    scale = rng.choices((9, 60, 600, 20_000, 99_999), weights=(30, 30, 22, 12, 6))[0]
    zero_p = rng.uniform(0.08, 0.3)
    rows = [r.key for r in rows_for(template)]
    results = [r for r in rows if r in RESULT_ROWS]
    v: dict[str, int] = {}
    for c in APPLICANT_COLUMNS:
        w_c = _COLUMN_WEIGHT[c]
        for r in results:
            w = w_c * _ROW_WEIGHT.get(r, 0.05)
            hi = min(CELL_MAX, max(2, scale * w))
            v[f"{r}.{c}"] = _count(rng, hi, min(0.6, zero_p + 0.2 * (1 - w_c)))
        rt = sum(v[f"{r}.{c}"] for r in results)
        v[f"results_total.{c}"] = rt
        cf = _count(rng, min(CELL_MAX, max(2, rt // 4)), zero_p + 0.25)
        co = min(_count(rng, min(CELL_MAX, max(2, rt // 3)), zero_p + 0.25), rt + cf)
        v[f"carried_forward.{c}"] = cf
        v[f"carried_over.{c}"] = co
        v[f"new.{c}"] = rt + cf - co
    for r in rows:
        v[f"{r}.total"] = sum(v[f"{r}.{c}"] for c in APPLICANT_COLUMNS)
    for key, val in v.items():
        gold[f"requests.{key}"] = val


def _part4(rng: random.Random, gold: Gold) -> None:
    scale = rng.choice((3, 9, 30, 250))
    weights = {"upheld": 1.0, "corrected": 0.3, "other": 0.5, "pending": 0.4}
    for g in REVIEW_GROUPS:
        gw = {"reconsideration": 1.0, "litigation_direct": 0.6, "litigation_after": 0.3}[g]
        vals = {o: _count(rng, max(1, scale * gw * weights[o]), 0.3) for o in REVIEW_OUTCOMES[:-1]}
        vals["total"] = sum(vals.values())
        for o, x in vals.items():
            gold[f"review.{g}.{o}"] = x


def _part2_2021(rng: random.Random, gold: Gold) -> None:
    z = 0.2
    gold["active.rules.issued"] = _count(rng, 6, 0.45)
    gold["active.rules.repealed"] = _count(rng, 4, 0.5)
    gold["active.rules.in_force"] = gold["active.rules.issued"] + _count(rng, 80, 0.3)
    gold["active.normative_docs.issued"] = _count(rng, 40, z)
    gold["active.normative_docs.repealed"] = _count(rng, 15, 0.3)
    gold["active.normative_docs.in_force"] = gold["active.normative_docs.issued"] + _count(rng, 300, 0.1)
    gold["active.licensing"] = _count(rng, rng.choice((500, 9_999, 99_999)), z)
    gold["active.punishment"] = _count(rng, rng.choice((50, 2_000, 30_000)), z)
    gold["active.coercion"] = _count(rng, rng.choice((10, 300)), 0.35)
    gold["active.fees"] = 0.0 if rng.random() < 0.25 else _decimal(rng, 0.01, 9_999.0)


def _part2_2019(rng: random.Random, gold: Gold) -> None:
    for what in ("rules", "normative_docs"):
        made = _count(rng, 6 if what == "rules" else 40, 0.3)
        published = made - _count(rng, max(1, made // 4), 0.7) if made else 0
        gold[f"t2019.active.{what}.new_made"] = made
        gold[f"t2019.active.{what}.new_published"] = published
        gold[f"t2019.active.{what}.total_published"] = published + _count(rng, 300, 0.15)

    def prev_change(name: str, hi: int) -> None:
        prev = _count(rng, hi, 0.2)
        change = rng.randint(-min(prev, 12), 12) if rng.random() < 0.75 else 0
        gold[f"t2019.active.{name}.prev_year_items"] = prev
        gold[f"t2019.active.{name}.change"] = change

    prev_change("licensing", 400)
    gold["active.licensing"] = _count(rng, rng.choice((500, 9_999, 99_999)), 0.2)
    prev_change("other_admin_services", 200)
    gold["t2019.active.other_admin_services.decisions"] = _count(rng, rng.choice((100, 5_000)), 0.3)
    prev_change("punishment", 600)
    gold["active.punishment"] = _count(rng, rng.choice((50, 2_000, 30_000)), 0.2)
    prev_change("coercion", 60)
    gold["active.coercion"] = _count(rng, rng.choice((10, 300)), 0.35)
    prev_change("fees", 30)
    items = _count(rng, 300, 0.25)
    gold["t2019.active.procurement.items"] = items
    gold["t2019.active.procurement.amount"] = _decimal(rng, 1_000.0, 5e7, 2) if items else 0.0


def _narrative(rng: random.Random, gold: Gold) -> None:
    if rng.random() < 0.15:
        gold["narrative.active_items"] = None
    elif rng.random() < 0.12:
        gold["narrative.active_items"] = rng.randint(2, 40) * 100  # printed "1300余条"
    else:
        gold["narrative.active_items"] = _count(rng, 6_000, 0.0) + rng.randint(20, 80)
    new_t, co_t = gold.get("requests.new.total"), gold.get("requests.carried_over.total")
    if rng.random() < 0.15 or not isinstance(new_t, int):
        gold["narrative.requests_received"] = None
    elif isinstance(co_t, int) and co_t and rng.random() < 0.4:
        gold["narrative.requests_received"] = new_t + co_t
    else:
        gold["narrative.requests_received"] = new_t
    gold["narrative.trainings"] = None if rng.random() < 0.25 else rng.randint(1, 20)
    r = rng.random()
    gold["narrative.fee_yuan"] = None if r < 0.3 else 0 if r < 0.8 else rng.randint(1, 200) * 10


def _blank(rng: random.Random, gold: Gold, template: TemplateName, n: int) -> None:
    keys = table_keys(template)
    zeros = [k for k in keys if gold[k] == 0]
    for k in rng.sample(zeros, min(n, len(zeros))) if len(zeros) >= n else rng.sample(keys, n):
        gold[k] = None


def _perturb(rng: random.Random, gold: Gold, template: TemplateName) -> list[str]:
    """Change one or two printed numbers of parts 3/4 so that some rules fail."""
    candidates = [k for k in table_keys(template) if k.startswith(("requests.", "review.")) and gold[k] is not None]
    while True:
        saved = {k: gold[k] for k in candidates}
        for key in rng.sample(candidates, 1 if rng.random() < 0.7 else 2):
            old = gold[key]
            assert isinstance(old, int)
            step = rng.randint(1, max(1, min(old // 5, 50)) + 2)
            if old - step < 0 or rng.random() < 0.55:
                gold[key] = old + step
            else:
                gold[key] = old - step
        broken = broken_rules(gold, template)
        if broken:
            return broken
        gold.update(saved)


def random_gold(
    rng: random.Random,
    template: TemplateName = "2021",
    *,
    inconsistent: bool = False,
    blanks: int | None = None,
) -> tuple[Gold, list[str]]:
    """A random report's gold values and the rules deliberately broken.

    ``blanks``: number of table cells printed blank (value None); ``None`` means
    "occasionally" (about 6% of reports get 1-3 blank cells), ``0`` none.
    Returns ``(gold, broken)`` where ``broken`` lists ``"R<n>:<scope>"`` ids of
    every rule R1-R4 that fails on the printed numbers (empty when consistent).
    """
    gold: Gold = {
        "meta.agency": random_agency(rng),
        "meta.year": rng.choice((2019, 2020)) if template == "2019" else rng.randint(2021, 2024),
        "meta.template": template,
    }
    if template == "2019":
        _part2_2019(rng, gold)
    else:
        _part2_2021(rng, gold)
    _part3(rng, template, gold)
    _part4(rng, gold)
    if blanks is None:
        blanks = rng.randint(1, 3) if rng.random() < 0.06 else 0
    if blanks:
        _blank(rng, gold, template, blanks)
    broken = _perturb(rng, gold, template) if inconsistent else []
    _narrative(rng, gold)
    ordered: Gold = {"meta.agency": gold["meta.agency"], "meta.year": gold["meta.year"], "meta.template": template}
    for k in flat_keys(template):
        ordered[k] = gold[k]
    return ordered, broken


def table_values(gold: Mapping[str, Value], template: TemplateName | None = None) -> Iterable[tuple[str, Value]]:
    """(key, value) for the numbers of parts 2-4, in template order."""
    t = template or gold.get("meta.template", "2021")
    for k in table_keys(t):  # type: ignore[arg-type]
        yield k, gold.get(k)
