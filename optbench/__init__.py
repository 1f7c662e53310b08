"""optbench: a benchmark for neural-network training algorithms in the spirit of MLCommons AlgoPerf.

Importing this package imports neither torch nor pandas (docs/design.md §7).
"""

__version__ = "0.1.0"
