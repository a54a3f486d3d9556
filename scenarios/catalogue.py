"""The example scenarios shipped with the package (scenarios/examples/), as documents.

The planner page offers them; a document is what `POST /v1/scenarios/runs` takes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

EXAMPLES = Path(__file__).parent / "examples"


@dataclass(frozen=True, slots=True)
class Example:
    file: str
    name: str
    description: str
    document: dict[str, Any]


def example_scenarios() -> list[Example]:
    """Every example scenario file (sub-folders hold other documents), by file name."""
    found = []
    for path in sorted(EXAMPLES.iterdir()):
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        text = path.read_text(encoding="utf-8")
        document = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        name = str(document.get("name", path.stem))
        found.append(Example(path.name, name, str(document.get("description", "")), document))
    return found
