"""Optional tools around the benchmark, each behind its own command:

- :mod:`.calibrate` (``optbench calibrate``): set a workload's target and budget the AlgoPerf way;
- :mod:`.theory` (``optbench theory``): plain SGD beside the SGD lecture's convergence bounds;
- :mod:`.datacheck` (``optbench data check``): check a data folder before a real-data run.

They sit above the runner (they plan and run trials, or read workloads) and below the CLI.
"""
