"""Why an option ranks where it does, in the dispatcher's words.

Shared by the ranking (`optimizer.assignment`) and the explanations (`optimizer.explain`),
which prices an engineer a dispatcher asks for by name and must say the same things of him.
"""

from __future__ import annotations

from optimizer.candidates import Call
from optimizer.result import Option


def yuan(fen: int) -> str:
    """Money as a dispatcher reads it: whole yuan."""
    return f"CNY {fen / 100:,.0f}"


def option_reason(call: Call, rank: int, option: Option) -> str:
    """Say why an option ranks where it does: the clocks it keeps and breaks, and its cost.

    ``rank`` 0 is an engineer asked for by name, priced outside the ranked options.
    """
    head = f"#{rank}" if rank else "asked for, not among the options shown"
    drive = (option.arrives_at - call.now) // 60
    extra = f"; cost {yuan(option.cost)}" if option.cost else ""
    if option.overtime_s:
        extra += f" ({-(-option.overtime_s // 60)} min overtime)"
    if option.callout:
        extra += f"; call-out of an on-call engineer ({yuan(option.callout_cost)})"
    row = call.world.engineer_row.get(option.engineer_id)
    engineer = None if option.callout or row is None else call.world.engineers[row]
    if engineer is not None and engineer.overtime_cap is not None:
        left = -(-engineer.overtime_s // 60)
        extra += f"; his {engineer.overtime_cap}'s overtime cap leaves {left} min (already worked)"
    short = [c for c in option.promises if c.short_of_slack]
    if short:  # a job of his comes first and may overrun: say the slack is less than wanted
        extra += "; after his current job " + ", ".join(
            f"{c.promise.value} has {c.slack_min} min to spare, less than the "
            f"{c.wanted_s // 60} min slack wanted"
            for c in short
        )
    if option.keeps_all:
        slack = min((c.slack_min for c in option.promises), default=None)
        spare = "" if slack is None else f", {slack} min to spare"
        if option.dedicated:
            return f"{head}: keeps every promise{spare}; the customer's dedicated engineer{extra}"
        return f"{head}: keeps every promise{spare}; on site in {drive} min{extra}"
    broken = ", ".join(
        f"{c.promise.value} by {-c.slack_min} min ({yuan(c.cost)})"
        for c in option.promises
        if not c.kept
    )
    kept = [c.promise.value for c in option.promises if c.kept]
    keeps = f"; keeps {', '.join(kept)}" if kept else ""
    return f"{head}: breaks {broken}{keeps}; on site in {drive} min{extra}"
