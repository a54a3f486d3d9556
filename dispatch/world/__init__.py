"""The deterministic demo world on real geography (Guangdong, from GeoNames).

`generate_world(seed, size)` builds every table's rows as plain data (pure, no database);
`load_world(session, world)` bulk-inserts them into an empty, migrated database.
`solver_view(tables)` and `demo_tickets` turn the rows into optimizer data for benchmarks.
`DEMO_KEYS` are the demo users' API keys: demo only, NOT secret.
"""

from dispatch.errors import WorldNotEmptyError
from dispatch.world.generate import generate_world
from dispatch.world.load import load_world, world_is_empty
from dispatch.world.model import REFERENCE_DATE, SIZES, TABLE_ORDER, SizeSpec, World, WorldSize
from dispatch.world.people import DEMO_KEYS, DEMO_USERS
from dispatch.world.solver_view import SolverView, demo_tickets, solver_view

__all__ = [
    "DEMO_KEYS",
    "DEMO_USERS",
    "REFERENCE_DATE",
    "SIZES",
    "TABLE_ORDER",
    "SizeSpec",
    "SolverView",
    "World",
    "WorldNotEmptyError",
    "WorldSize",
    "demo_tickets",
    "generate_world",
    "load_world",
    "solver_view",
    "world_is_empty",
]
