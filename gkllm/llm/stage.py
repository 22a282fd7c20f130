"""The LLM stage of the pipeline: decide what to ask, ask, reconcile.

hybrid: the parser's values stand; the LLM reads the narrative counts (one
call) and any table part the parser left incomplete or failing a rule.
llm: the LLM reads every part and its (grounded) answers are the values, so
the eval can compare it with the parser.
If no LLM answers, the parser's values are returned with a warning naming
what stayed unresolved; nothing extracted is lost.
"""

from __future__ import annotations

from ..extraction import Extraction
from ..models import Diagnostic, LlmStats
from ..reconcile import reconcile
from ..rules import check_all
from ..template import NARRATIVE_KEYS, TemplateName, part2_keys, part3_keys, part4_keys
from . import LLMClient, LLMRejected, LLMUnavailable, default_client, describe_backend
from .tasks import LLMResult, ask_narrative, ask_part


def _part_keys(part: int, template: TemplateName) -> list[str]:
    if part == 2:
        return part2_keys(template)
    if part == 3:
        return part3_keys(template)
    return part4_keys()


def _unsettled(ex: Extraction, part: int) -> set[str]:
    """Keys of a part the parser did not read, or that sit in a failing rule."""
    keys = [k for k in _part_keys(part, ex.template) if k not in ex.absent]
    wanted = {k for k in keys if k not in ex.values}
    flat = {k: v.value for k, v in ex.values.items()}
    for r in check_all(flat, ex.template):
        if r.status == "failed" and r.id in ("R1", "R2", "R3", "R4") and any(k in keys for k in r.keys):
            wanted.update(k for k in r.keys if k in keys)
    for d in ex.diagnostics:
        if d.kind == "ambiguous":
            wanted.update(k for k in d.keys if k in keys)
    return wanted


def run_llm(ex: Extraction, mode: str, client: LLMClient | None) -> LlmStats | None:
    if client is None:
        ok, why = describe_backend()
        if not ok:
            _give_up(ex, mode, why)
            return None
        client = default_client()
    if client.down:
        # a batch does not retry a dead endpoint for every file
        _give_up(ex, mode, client.down)
        return LlmStats(model=client.model_name)
    with client.track() as usage:
        _ask_all(ex, mode, client)
    return usage.to_stats(client.model_name)


def _ask_all(ex: Extraction, mode: str, client: LLMClient) -> None:
    # what each part still needs is fixed before any answer arrives: compute it once
    open_keys = {p: (set(_part_keys(p, ex.template)) if mode == "llm" else _unsettled(ex, p)) for p in (2, 3, 4)}
    jobs: list[tuple[str, int | None]] = [(f"part {p}", p) for p in (2, 3, 4) if p in ex.segments and open_keys[p]]
    jobs.insert(0, ("narrative", None))
    got = LLMResult()
    unavailable = False
    for name, part in jobs:
        try:
            if part is None:
                r = ask_narrative(client, ex.doc, ex.segments)
            else:
                wanted = open_keys[part]
                known = {} if mode == "llm" else {k: v.value for k, v in ex.values.items() if k not in wanted}
                table = ex.tables.get(part)
                r = ask_part(client, ex.doc, ex.segments[part], part, ex.template, wanted, known,
                             table.rows if table is not None else ())
        except LLMUnavailable as err:
            client.down = str(err)
            _give_up(ex, mode, str(err))
            unavailable = True
            break
        except LLMRejected as err:
            ex.warnings.append(f"LLM answer for {name} rejected: {err}")
            ex.diagnostics.append(Diagnostic(kind="llm_rejected", message=str(err)))
            continue
        got.values.update(r.values)
        got.diagnostics.extend(r.diagnostics)
    ex.diagnostics.extend(got.diagnostics)
    for d in got.diagnostics:
        if d.kind == "ungrounded":
            ex.warnings.append(d.message)
    if mode == "llm" and not unavailable:
        ex.values = dict(got.values)
    else:
        ex.values = reconcile(ex.values, got.values, ex.template, ex.diagnostics)


def _give_up(ex: Extraction, mode: str, why: str) -> None:
    unresolved = sorted(set().union(*(_unsettled(ex, p) for p in (2, 3, 4))) | {
        k for k in NARRATIVE_KEYS if k not in ex.values})
    msg = f"LLM unavailable ({why}); {mode} mode returned the parser's values"
    if unresolved:
        msg += f"; unresolved: {', '.join(unresolved[:12])}{' …' if len(unresolved) > 12 else ''}"
    ex.warnings.append(msg)


__all__ = ["run_llm"]
