"""Exceptions that chipsr raises for bad input.

The command-line interface turns a :class:`ChipsrInputError` into a one-line message
(``chipsr <command>: error: <message>``) and exit code 1; library users can catch it as a
``ValueError``.
"""

from __future__ import annotations


class ChipsrInputError(ValueError):
    """Bad user input: a missing, malformed or inconsistent file or value.

    The message always names the file (or option) and the offending value or line, e.g.
    ``"reads.bed.gz line 17: end (100) <= start (200)"``.
    """
