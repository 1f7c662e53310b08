"""A stand-in for AlgoPerf's ``algoperf`` package, so AlgoPerf's PyTorch submissions import unchanged.

While a submission of the ``algoperf`` form is loaded (:mod:`optbench.submissions.algoperf`), the
names ``algoperf`` and ``algorithmic_efficiency`` (the package's name before AlgoPerf 0.6)
resolve to this package (:mod:`optbench.submissions.import_aliases`). It holds only what PyTorch
submissions import from AlgoPerf — :mod:`.spec`, :mod:`.pytorch_utils`, :mod:`.param_utils` —
written for optbench from AlgoPerf's documented API, never JAX, TensorFlow or flax.

The workload a submission is handed is :class:`optbench.submissions.algoperf_workload.WorkloadAdapter`,
an optbench workload dressed as an AlgoPerf ``spec.Workload``. See docs/algoperf.md.
"""
