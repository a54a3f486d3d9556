"""Importing this module loads the compiled kernels (`optimizer.insertion.load`).

For the solver's process server only: `optimizer.solve` names it in the forkserver's
preload once the parent has loaded the kernels (`optimizer.warm_up`), so every search child
forks from a process that already holds them and prices with them from its first step,
instead of pricing in pure Python (or paying about a second to load them itself).
"""

from optimizer.insertion import load

load()
