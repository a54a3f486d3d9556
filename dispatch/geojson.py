"""A stored plan as GeoJSON (RFC 7946): any map library can draw it as it is.

One LineString per route (the engineer's start, every stop in order, his end), one Point
per stop (visit or pickup, with its ETA and promise states) and one Point per dropped
ticket (with its reason). Coordinates are ``[lon, lat]``, as RFC 7946 orders them.
"""

from __future__ import annotations

from typing import Any

MEDIA_TYPE = "application/geo+json"


def _point(lat: float, lon: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def _promise(late_min: float | None) -> str:
    """kept (on time), late, or none (no such promise)."""
    if late_min is None:
        return "none"
    return "kept" if late_min <= 0 else "late"


def plan_geojson(result: dict[str, Any], *, plan_id: int | None = None) -> dict[str, Any]:
    """Return the FeatureCollection of a stored plan's result (`dispatch.planning`)."""
    ends = {e["id"]: e for e in result.get("engineers", [])}
    tickets = {t["id"]: t for t in result.get("tickets", [])}
    features: list[dict[str, Any]] = []
    for route in result["routes"]:
        engineer_id = route["engineer_id"]
        ends_of = ends.get(engineer_id, {})
        line = [[s["lon"], s["lat"]] for s in route["stops"]]
        if "start" in ends_of:
            line = [[ends_of["start"]["lon"], ends_of["start"]["lat"]], *line]
        if "end" in ends_of:
            line.append([ends_of["end"]["lon"], ends_of["end"]["lat"]])
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": line},
            "properties": {
                "feature": "route", "engineer_id": engineer_id,
                "engineer_name": ends_of.get("name"), "departs_at": route["departs_at"],
                "returns_at": route["returns_at"], "stops": len(route["stops"]),
                "travel_min": route["travel_min"], "distance_km": route["distance_km"],
                "overtime_min": route["overtime_min"],
            },
        })  # fmt: skip
        for seq, stop in enumerate(route["stops"], start=1):
            features.append(_stop(stop, seq, engineer_id, tickets))
    for dropped in result["dropped"]:
        ticket = tickets.get(dropped["ticket_id"])
        if ticket is None:  # a plan stored without its context: nowhere to draw it
            continue
        features.append({
            "type": "Feature",
            "geometry": _point(ticket["lat"], ticket["lon"]),
            "properties": {
                "feature": "dropped", "ticket_id": dropped["ticket_id"],
                "ticket_code": ticket.get("code"), "severity": ticket.get("severity"),
                "reason": dropped["reason"], "detail": dropped["detail"],
            },
        })  # fmt: skip
    out: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if plan_id is not None:
        out["properties"] = {"plan_id": plan_id, "quality": result["quality"], "now": result["now"]}
    return out


def _stop(
    stop: dict[str, Any], seq: int, engineer_id: int, tickets: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    ticket = tickets.get(stop["ticket_id"], {})
    props = {
        "feature": "stop", "kind": stop["kind"], "sequence": seq, "engineer_id": engineer_id,
        "ticket_id": stop["ticket_id"], "ticket_code": ticket.get("code"),
        "severity": ticket.get("severity"), "eta": stop["arrives_at"],
        "starts_at": stop["starts_at"], "departs_at": stop["departs_at"],
        "depot_id": stop["depot_id"],
    }  # fmt: skip
    if stop["kind"] == "visit":
        props["arrival_promise"] = _promise(stop["arrival_late_min"])
        props["fix_promise"] = _promise(stop["fix_late_min"])
    return {"type": "Feature", "geometry": _point(stop["lat"], stop["lon"]), "properties": props}
