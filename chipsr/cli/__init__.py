"""The ``chipsr`` command line: a thin click layer, one module per subcommand (see :mod:`.main`)."""
