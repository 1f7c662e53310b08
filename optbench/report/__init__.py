"""Everything optbench prints or draws (docs/design.md §1: ``report/``); the numbers come from :mod:`optbench.scoring`.

Each module does one thing and imports rich, matplotlib or jinja2 only when called, so
importing ``optbench.report`` stays cheap:

- :mod:`~optbench.report.format`: numbers and durations as text, once for every output;
- :mod:`~optbench.report.terminal`: the rich tables (leaderboard, run summary, compare) and warnings;
- :mod:`~optbench.report.progress`: a run's progress as it goes; :mod:`~optbench.report.calibration`:
  what ``optbench calibrate`` prints;
- :mod:`~optbench.report.figures`: every figure (performance profile; metric vs time and steps);
- :mod:`~optbench.report.baseline` and :mod:`~optbench.report.compare`: ``optbench compare``
  (baseline vs candidate, for CI) and its markdown/JSON;
- :mod:`~optbench.report.collect`: a results folder read tolerantly for the report;
- :mod:`~optbench.report.html`: ``optbench report``, one HTML page (template in ``templates/``);
- :mod:`~optbench.report.commands`: the ``score``, ``compare``, ``report`` and ``plot`` commands
  after their options are parsed.
"""
