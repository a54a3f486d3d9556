"""The stock recommendation's sampling defaults, apart from the simulation so that the command
line can show them without loading numpy (`scenarios.stock` re-exports them)."""

RATE_SEED = 9_999  # the rate streams' seed; never the scenario's own (see `rate_seed`)
RATE_STREAMS = 40  # replications counted: ~40 x the horizon's days of demand per rate
