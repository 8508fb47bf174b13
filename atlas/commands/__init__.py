"""One module per ``atlas`` subcommand; see :mod:`atlas.cli`."""
