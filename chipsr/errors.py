"""Exceptions that chipsr raises for bad input.

The command-line interface (``chipsr.cli.main``) turns a :class:`ChipsrInputError` into click's
one-line ``Error: <message>`` on stderr and exit code 1, with no traceback, e.g.::

    $ chipsr subsample bad.bed -o low.bed --reads 1
    Error: bad.bed line 1: end (100) <= start (200)

File-system errors (``OSError``) print the same way (``Error: <file>: <reason>``, exit 1), and usage
errors (an unknown option, a missing argument) print ``Error: <message> (see 'chipsr <command>
--help')`` with exit code 2. Library users can catch a :class:`ChipsrInputError` as a ``ValueError``.
"""

from __future__ import annotations


class ChipsrInputError(ValueError):
    """Bad user input: a missing, malformed or inconsistent file or value.

    The message always names the file (or option) and the offending value or line, e.g.
    ``"reads.bed.gz line 17: end (100) <= start (200)"``.
    """
