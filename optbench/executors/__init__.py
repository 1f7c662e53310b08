"""Where trials run: ``local`` (worker processes) and ``ray`` (a Ray cluster)."""
