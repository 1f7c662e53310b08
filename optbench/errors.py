"""The one exception type users see.

Anything raised as :class:`OptbenchError` is bad input (a YAML key, a search space,
a submission, a data folder, a results folder): the CLI prints its message as one
line, ``error: <message>``, and exits with code 2 — never a traceback. Messages say
what is wrong, where (file and key), and what to do.
"""


class OptbenchError(Exception):
    """Bad user input; ``str(exc)`` is the whole one-line message."""

    exit_code = 2
