"""Defaults of dispatch requests, in a module that imports nothing: the command line shows
them in its help without loading the solver (`dispatch.planning` and `dispatch.disruptions`
re-export them)."""

DEFAULT_TIME_LIMIT_S = 5.0  # a plan's search, when the request names no limit
DEFAULT_ABSENCE_REASON = "absent (reported as a disruption)"  # an absence without a reason
