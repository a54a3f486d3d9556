"""Errors of the solver core.

Hierarchy::

    OptimizerError(Exception)
    +-- InvalidProblemError(OptimizerError, ValueError)  bad input: a world, ticket or params
    +-- RoadNetworkError(OptimizerError)  an OSM extract without a usable road graph

Infeasibility is data, never an exception: a ticket that nobody can serve comes back as a
`Recommendation` without options, with `excluded` and `suggestions` saying why.
"""

from __future__ import annotations


class OptimizerError(Exception):
    """Base class of every error the optimizer raises."""


class InvalidProblemError(OptimizerError, ValueError):
    """The input is inconsistent (an unknown id, a duplicate, a ticket outside the world).

    Parameters
    ----------
    field
        The name of the offending field.
    message
        What is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class RoadNetworkError(OptimizerError):
    """An OpenStreetMap extract yields no drivable, connected road graph."""
