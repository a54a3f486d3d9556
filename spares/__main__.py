"""`python -m spares`: the same command line as the `spares` script."""

from spares.cli import app

app(prog_name="spares")
