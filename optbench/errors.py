"""The one exception type users see.

Anything raised as :class:`OptbenchError` is bad input (a YAML key, a search space,
a submission, a data folder, a results folder): the CLI prints its message as one
line, ``error: <message>``, and exits with code 2 — never a traceback. Messages say
what is wrong, where (file and key), and what to do.
"""


class OptbenchError(Exception):
    """Bad user input; ``str(exc)`` is the whole one-line message."""

    exit_code = 2


#: The longest error line printed (a message quoting a 20,000-element list must not flood the terminal).
MAX_LINE = 500


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """``text`` as one line of at most ``limit`` characters: newlines folded, the middle elided."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    keep = limit - 5
    return f"{text[: keep * 2 // 3]} ... {text[len(text) - (keep - keep * 2 // 3):]}"
