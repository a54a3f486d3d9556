"""Loads the compiled SISR kernels in the solver's process server (imported there only).

`optimizer.solve.warm_up` names this module in the server's preload list after loading the
kernels in its own process (so the disk cache is fresh and this takes well under a second,
outside any limit). Every search child is forked from the server and inherits the loaded
kernels: `optimizer.sisr.ready` is true there. A server started by a plan without
`warm_up` does not import this module, and its children keep the vectorised
`optimizer.ruin` rather than compile inside a limit.
"""

from optimizer.sisr import load

load()
