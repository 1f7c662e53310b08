"""Figures and reports built from scores and results (DESIGN.md §1: ``report/``).

Each module draws one thing and imports matplotlib only when called, so importing
``optbench.report`` stays cheap. :mod:`optbench.report.profiles`: the performance-profile
figure of ``optbench score``; :mod:`~optbench.report.compare`: ``optbench compare``
(baseline vs candidate, for CI); :mod:`~optbench.report.collect`: a results folder read
tolerantly for the report; :mod:`~optbench.report.figures`: the report's figures
(``optbench plot``); :mod:`~optbench.report.html`: ``optbench report``, one HTML page.
"""
