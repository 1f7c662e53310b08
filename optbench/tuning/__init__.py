"""Hyperparameter tuning's inputs: search spaces, quasi-random points, ruleset presets.

Three jobs, one module each, so each can be read and tested alone:

- :mod:`optbench.tuning.spaces`: reading ``search_space.yaml`` or AlgoPerf's
  ``tuning_search_space.json`` (dict or list form), and checking every hyperparameter
  value and name wherever it comes from (``--hparams``, submission.yaml's defaults);
- :mod:`optbench.tuning.points`: seeded scrambled Halton points, mapped as AlgoPerf's
  ``halton.py`` maps them, and the points of each study (our default and AlgoPerf's);
- :mod:`optbench.tuning.rulesets`: the ``algoperf-v06``/``v05`` presets and the flags over them.

This package imports neither torch nor pandas, and ``import optbench`` does not import it;
scipy is imported only when points are drawn. Import the module that does the job (nothing
is re-exported here, so importing one does not import the others).
"""
