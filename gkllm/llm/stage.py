"""The LLM stage of the pipeline: plan the questions, ask, judge, merge.

hybrid: the parser's values stand; the LLM is asked only what the parser
could not settle (``plan``). A value for a key the parser left null is kept
only through the gate (``accept``: grounded in its own cell, every hard rule
it takes part in checked and holding); a value that differs from the
parser's goes through ``reconcile`` (the rules decide, the parser on a tie).
llm: the LLM reads every row that has text of its own and every narrative
count; its grounded answers are the values where the rules allow them (a row's
own rule checkable and holding, a rule across rows not failing), so the eval
can compare.
If no LLM answers, the parser's values are returned with a warning naming
what stayed unresolved; nothing extracted is lost.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import LLMRejected, LLMUnavailable
from ..extraction import Extraction
from ..models import Diagnostic, LlmStats
from ..reconcile import reconcile
from ..template import NARRATIVE_KEYS
from . import LLMClient, default_client, describe_backend
from .accept import gate, within_one_row
from .plan import Plan, hard_rules, make_plan
from .tasks import LLMResult, ask_choice, ask_narrative, ask_rows


def run_llm(ex: Extraction, mode: str, client: LLMClient | None) -> LlmStats | None:
    plan = make_plan(ex, mode)
    if not plan:
        if mode == "llm":
            ex.values = {}  # llm mode reports what the LLM read, and it had nothing to read
        return LlmStats(model=client.model_name if client is not None else None)  # nothing to ask: no call
    if client is None:
        ok, why = describe_backend()
        if not ok:
            _give_up(ex, mode, why, plan)
            return None
        client = default_client()
    with client.track() as usage:
        _ask_all(ex, mode, client, plan)
    return usage.to_stats(client.model_name)


def _ask_all(ex: Extraction, mode: str, client: LLMClient, plan: Plan) -> None:
    rules = hard_rules(ex)
    known = {} if mode == "llm" else {k: v.value for k, v in ex.values.items()
                                      if v.value is not None and k not in plan.unsettled}
    got = LLMResult()
    unavailable = False
    jobs = ([("narrative", lambda: ask_narrative(client, ex, plan.narrative))] if plan.narrative else []) + [
        (f"part {g.part} rows {', '.join(r.name for r in g.rows)}", lambda g=g: ask_rows(client, ex, g, known, rules))
        for g in plan.groups] + [
        (f"the split of {a.task.name}", lambda a=a: ask_choice(client, ex, a)) for a in plan.choices]
    for name, job in jobs:
        try:
            got.update(job())
        except LLMUnavailable as err:
            _give_up(ex, mode, str(err), plan)
            unavailable = True
            break
        except LLMRejected as err:
            ex.warnings.append(f"LLM answer for {name} rejected: {err}")
            ex.diagnostics.append(Diagnostic(kind="llm_rejected", message=f"{name}: {err}"))
    ex.diagnostics.extend(got.diagnostics)
    for d in got.diagnostics:
        if d.kind == "ungrounded":
            ex.warnings.append(d.message)
    if mode == "llm" and not unavailable:
        # no parser values to check against: a row's own rule must be checkable and hold (a model that gives
        # a glued run "690000069" as one cell, or a neighbour's number, leaves its row failing or open); a rule
        # across rows must hold where the other rows were read
        kept, dropped = gate({}, got.values, rules, must_check=within_one_row)
        ex.diagnostics.extend(dropped)
        _settle_runs(ex, kept)
        ex.values = kept
        return
    fills, dropped = gate(ex.values, got.values, rules)
    ex.diagnostics.extend(dropped)
    others = {k: v for k, v in got.values.items() if k in ex.values and ex.values[k].value is not None}
    merged = reconcile(ex.values, others, ex.template, ex.diagnostics)
    merged.update(fills)
    ex.values = merged
    _settle_runs(ex, fills)


def _settle_runs(ex: Extraction, values: Mapping[str, object]) -> None:
    """A run whose keys the LLM settled is no longer ambiguous: its diagnostic goes."""
    for amb in list(ex.ambiguous):
        if all(k in values for k in amb.diagnostic.keys):
            if amb.diagnostic in ex.diagnostics:
                ex.diagnostics.remove(amb.diagnostic)
            ex.ambiguous.remove(amb)


def _give_up(ex: Extraction, mode: str, why: str, plan: Plan) -> None:
    unresolved = sorted(plan.unsettled | {k for k in NARRATIVE_KEYS if k in plan.narrative})
    msg = f"LLM unavailable ({why}); {mode} mode returned the parser's values"
    if unresolved:
        msg += f"; unresolved: {', '.join(unresolved[:12])}{' …' if len(unresolved) > 12 else ''}"
    ex.warnings.append(msg)


__all__ = ["run_llm"]
