"""One module per ``face3d`` subcommand (see :mod:`face3d.cli`)."""
