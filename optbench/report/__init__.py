"""Figures and reports built from scores and results (DESIGN.md §1: ``report/``).

Each module draws one thing and imports matplotlib only when called, so importing
``optbench.report`` stays cheap. :mod:`optbench.report.profiles`: the performance-profile
figure of ``optbench score``.
"""
