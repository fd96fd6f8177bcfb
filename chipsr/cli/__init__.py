"""The ``chipsr`` command line: a thin click layer over :mod:`chipsr.api`, one module per command
group (:mod:`.chipseq`, :mod:`.audio`, :mod:`.impute`); :mod:`.main` is the entry point."""
