"""The ``kyodaku`` command line (typer)."""
