"""Product lines, models, ticket types, suppliers and the parts catalogue of the demo world."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from dispatch.world.catalogue_data import FAULT_CLASSES, LINES, SUPPLIERS
from dispatch.world.model import Row, SizeSpec
from dispatch.world.places import Places
from inventory.depot_times import DEFAULT_TRANSIT_HOURS

CENT = Decimal("0.01")
MARKUP_RANGE = (1.25, 1.9)  # list price over purchase cost
SUBSTITUTE_SHARE = 0.35  # parts that name at least one substitute of similar function


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Catalogue rows plus the lookups the rest of the world needs (index = id - 1)."""

    tables: dict[str, list[Row]]
    part_line: npt.NDArray[np.int64]  # line index of each part
    part_key: npt.NDArray[np.bool_]
    model_line: npt.NDArray[np.int64]
    model_key_parts: tuple[tuple[int, ...], ...]  # part ids built into each model
    model_parts: tuple[tuple[int, ...], ...]  # part ids that fit each model


def build_catalogue(spec: SizeSpec, places: Places, rng: np.random.Generator) -> Catalogue:
    """Build the catalogue: a fixed structure, with seeded prices, fits and substitutes."""
    lines = [{"id": i + 1, "code": s.code, "name": s.name} for i, s in enumerate(LINES)]
    models, model_line = _models(spec.models_per_line)
    suppliers = _suppliers(places)
    parts, part_line, part_key, part_group = _parts(spec.parts, suppliers, rng)
    key_parts, fits = _fits(model_line, part_line, part_key, rng)
    model_parts: list[list[int]] = [[] for _ in models]
    for fit in fits:
        model_parts[fit["product_model_id"] - 1].append(fit["part_id"])
    costs = np.array([float(p["cost_price"]) for p in parts])
    tables = {
        "product_lines": lines,
        "product_models": models,
        "suppliers": suppliers,
        "parts": parts,
        "part_fits": fits,
        "part_substitutes": _substitutes(part_group, costs, rng),
        "ticket_types": _ticket_types(),
    }
    return Catalogue(
        tables=tables,
        part_line=part_line,
        part_key=part_key,
        model_line=model_line,
        model_key_parts=tuple(tuple(k) for k in key_parts),
        model_parts=tuple(tuple(sorted(p)) for p in model_parts),
    )


def _models(per_line: int) -> tuple[list[Row], npt.NDArray[np.int64]]:
    """`per_line` models per line, cycling through the line's families by generation."""
    rows: list[Row] = []
    line_of: list[int] = []
    for line_index, line in enumerate(LINES):
        for k in range(per_line):
            family_code, family_name = line.families[k % len(line.families)]
            generation = k // len(line.families) + 1
            rows.append(
                {
                    "id": len(rows) + 1,
                    "code": f"{line.prefix}-{family_code}{generation * 100 + 20}",
                    "name": f"{line.brand} {family_name}, generation {generation}",
                    "product_line_id": line_index + 1,
                }
            )
            line_of.append(line_index)
    return rows, np.array(line_of, dtype=np.int64)


def _suppliers(places: Places) -> list[Row]:
    rows = []
    for i, (code, name, kind, geonameid, lead_hours, _lines) in enumerate(SUPPLIERS, start=1):
        row = places.index_of(geonameid) if geonameid is not None else None
        rows.append(
            {
                "id": i,
                "code": code,
                "name": name,
                "kind": kind,
                "lat": None if row is None else float(places.lat[row]),
                "lon": None if row is None else float(places.lon[row]),
                "lead_time_hours": lead_hours,
                "transit_hours": DEFAULT_TRANSIT_HOURS,
            }
        )
    return rows


def _line_counts(total: int) -> list[int]:
    """Split `total` SKUs over the lines as evenly as possible."""
    base, extra = divmod(total, len(LINES))
    return [base + (1 if i < extra else 0) for i in range(len(LINES))]


def _parts(
    total: int, suppliers: list[Row], rng: np.random.Generator
) -> tuple[list[Row], npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """SKUs cycling through each line's templates; costs log-uniform in the template's range."""
    line_of, template_of = [], []
    for line_index, count in enumerate(_line_counts(total)):
        line_of += [line_index] * count
        template_of += list(range(count))
    part_line = np.array(line_of, dtype=np.int64)
    position = np.array(template_of, dtype=np.int64)
    templates = [
        LINES[li].parts[k % len(LINES[li].parts)]
        for li, k in zip(line_of, template_of, strict=True)
    ]
    low = np.log([t[2] for t in templates])
    high = np.log([t[3] for t in templates])
    costs = np.exp(rng.uniform(low, high)).tolist()
    markups = rng.uniform(*MARKUP_RANGE, size=total).tolist()
    supplier_pick = rng.random(total).tolist()
    by_line = {
        li: [
            s["id"]
            for s, spec in zip(suppliers, SUPPLIERS, strict=True)
            if LINES[li].code in spec[5]
        ]
        for li in range(len(LINES))
    }
    rows: list[Row] = []
    for i, (li, template) in enumerate(zip(line_of, templates, strict=True)):
        line = LINES[li]
        variant = position[i] // len(line.parts) + 1
        cost = Decimal(costs[i]).quantize(CENT)
        choices = by_line[li]
        rows.append(
            {
                "id": i + 1,
                "sku": f"{line.prefix}-{template[0]}-{variant:02d}",
                "name": f"{template[1]}, {line.brand} type {variant}",
                "product_line_id": li + 1,
                "cost_price": cost,
                "list_price": (cost * Decimal(markups[i])).quantize(CENT),
                "currency": "CNY",
                "key_part": template[4],
                "supplier_id": choices[int(supplier_pick[i] * len(choices))],
            }
        )
    key = np.array([t[4] for t in templates], dtype=bool)
    group = part_line * 100 + position % np.array([len(LINES[li].parts) for li in line_of])
    return rows, part_line, key, group


def _fits(
    model_line: npt.NDArray[np.int64],
    part_line: npt.NDArray[np.int64],
    part_key: npt.NDArray[np.bool_],
    rng: np.random.Generator,
) -> tuple[list[list[int]], list[Row]]:
    """Each model is built with 1-2 key parts of its line; every part fits 1-4 models."""
    pairs: set[tuple[int, int]] = set()
    key_parts: list[list[int]] = []
    for model, line in enumerate(model_line.tolist()):
        candidates = np.flatnonzero((part_line == line) & part_key)
        take = min(candidates.size, int(rng.integers(1, 3)))
        chosen = sorted(int(p) + 1 for p in rng.choice(candidates, size=take, replace=False))
        key_parts.append(chosen)
        pairs.update((p, model + 1) for p in chosen)
    for part, line in enumerate(part_line.tolist()):
        models = np.flatnonzero(model_line == line)
        take = min(models.size, int(rng.integers(1, 5)))
        pairs.update((part + 1, int(m) + 1) for m in rng.choice(models, size=take, replace=False))
    fits = [{"part_id": p, "product_model_id": m} for p, m in sorted(pairs)]
    return key_parts, fits


def _substitutes(
    group: npt.NDArray[np.int64], costs: npt.NDArray[np.float64], rng: np.random.Generator
) -> list[Row]:
    """Substitutes of similar function: same line and template, never cheaper, never itself."""
    rows = []
    draws = rng.random(group.size).tolist()
    for part in range(group.size):
        if draws[part] >= SUBSTITUTE_SHARE:
            continue
        same = np.flatnonzero((group == group[part]) & (costs >= costs[part]))
        same = same[same != part]
        if same.size == 0:
            continue
        take = min(same.size, int(rng.integers(1, 3)))
        for sub in sorted(rng.choice(same, size=take, replace=False).tolist()):
            rows.append({"part_id": part + 1, "substitute_id": int(sub) + 1})
    return rows


def _ticket_types() -> list[Row]:
    """Product line x fault class; service time scaled per line, rounded to 15 minutes."""
    rows: list[Row] = []
    for line_index, line in enumerate(LINES):
        for fault, name, minutes, level in FAULT_CLASSES:
            rows.append(
                {
                    "id": len(rows) + 1,
                    "code": f"{line.code}-{fault}",
                    "name": f"{line.name}: {name}",
                    "product_line_id": line_index + 1,
                    "fault_class": fault,
                    "service_min": max(15, round(minutes * line.service_factor / 15) * 15),
                    "required_level": level,
                }
            )
    return rows
