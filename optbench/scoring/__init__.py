"""Scoring (docs/design.md §6): time-to-target per trial -> per workload -> performance profiles -> scores.

One module per job, imported in this order (none imports :mod:`optbench.report` or
:mod:`optbench.cli`: scoring computes, the report layer prints and draws):

- :mod:`~optbench.scoring.rules`: AlgoPerf's seven steps, steps 4-7 once on numpy arrays;
- :mod:`~optbench.scoring.bootstrap`: intervals by resampling studies (``score --bootstrap``
  and ``optbench compare``, one convention);
- :mod:`~optbench.scoring.inputs`: our results folder as a :class:`~optbench.scoring.inputs.ScoringInput`,
  and the count checks;
- :mod:`~optbench.scoring.algoperf_targets`, :mod:`~optbench.scoring.algoperf_tree` and
  :mod:`~optbench.scoring.algoperf_logs`: AlgoPerf's targets files and log tree as the same
  kind of input;
- :mod:`~optbench.scoring.tuning_curve` (the score with k of N trials) and
  :mod:`~optbench.scoring.clock_ranks` (the ranks on steps and on seconds), and
  :mod:`~optbench.scoring.significance` (paired tests, the speedrun check);
- :mod:`~optbench.scoring.scoreboard`: all of it on one folder (:func:`~optbench.scoring.scoreboard.score_folder`),
  and the CSV/JSON files ``optbench score`` writes.

Nothing is re-exported here: import the module that does the job.
"""
