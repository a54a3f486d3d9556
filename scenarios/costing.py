"""The cost of a job through the production rules: warranty coverage, then the repair quote.

Coverage on the fix date (contract time zone) decides; a replaced key part restarts its own
warranty on that date (`swapped_part_warranty_start`), which the run remembers per asset, so
a later failure of that part is judged by its fresh warranty as in production.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from inventory.pricing import LineKind, PartToPrice, PriceRule, Rates, price_repair
from inventory.warranty import (
    AssetFacts,
    Cause,
    PartFacts,
    asset_coverage,
    part_coverage,
    swapped_part_warranty_start,
)
from scenarios.model import LoanerRates, SimAsset, SimPart, SimPolicy


@dataclass(frozen=True, slots=True)
class JobCost:
    parts_cost: Decimal
    warranty_cost: Decimal
    charged: Decimal
    swapped: tuple[int, ...] = ()  # the line parts taken out (faulty units), in line order
    under_warranty: tuple[int, ...] = ()  # of those, the ones swapped free under warranty


@dataclass
class Costing:
    """Prices jobs and remembers restarted key-part warranties within one run."""

    parts: dict[int, SimPart]
    restarted: dict[tuple[int, int], date] = field(default_factory=dict)

    def job(
        self,
        asset: SimAsset,
        policy: SimPolicy,
        uses: Sequence[tuple[int, int]],  # (line part id, fitted part id)
        cause: Cause,
        *,
        fixed_on: date,
        travel_km: Decimal,
    ) -> JobCost:
        """Quote the repair with `price_repair` and split out what warranty paid."""
        facts = AssetFacts(asset.installed_on, asset.accepted_on, asset.has_warranty_record)
        years = policy.warranty_years
        priced = []
        for line_part, fitted in uses:
            part, original = self.parts[fitted], self.parts[line_part]
            installed = PartFacts(
                asset.installed_on, original.key_part, self.restarted.get((asset.id, line_part))
            )
            coverage = part_coverage(facts, installed, on=fixed_on, years=years)
            substitute = fitted != line_part
            priced.append(
                PartToPrice(
                    part.sku,
                    1,
                    part.cost_price,
                    coverage,
                    original.sku if substitute else None,
                    original.cost_price if substitute else None,
                )  # fmt: skip
            )
        quote = price_repair(
            asset=asset_coverage(facts, on=fixed_on, years=years),
            parts=priced,
            cause=cause,
            rates=Rates(policy.currency),
            travel_km=travel_km,
        )
        cost = sum((p.cost_price for p in priced), Decimal(0))
        free_lines = [
            line.kind == LineKind.PARTS and line.rule == PriceRule.WARRANTY_FREE
            for line in quote.lines[: len(priced)]
        ]
        free = sum((p.cost_price for p, f in zip(priced, free_lines, strict=True) if f), Decimal(0))
        for line_part, fitted in uses:
            start = swapped_part_warranty_start(
                key_part=self.parts[fitted].key_part, fixed_on=fixed_on
            )
            if start is not None:
                self.restarted[(asset.id, line_part)] = start
        swapped = tuple(line_part for line_part, _ in uses)
        warranty = tuple(p for p, f in zip(swapped, free_lines, strict=True) if f)
        return JobCost(cost, free, quote.total.amount, swapped, warranty)


def loaner_cost(rates: LoanerRates, *, fix_by: int, fixed_at: int) -> Decimal:
    """A loan from the fix deadline to the fix: handling plus each started day.

    E.g. 200 + 50 per day, fixed 26 h late: 200 + 2 x 50 = 300 (a few minutes late: 250).
    """
    late = max(0, fixed_at - fix_by)
    days = max(1, -(-late // 86_400))
    return rates.per_loan + rates.per_day * days
