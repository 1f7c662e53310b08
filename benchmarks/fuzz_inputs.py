"""The fuzz suite's table: malformed inputs per format through the real CLI, and what became of them.

    python benchmarks/fuzz_inputs.py --per-format 60 --seed 0 [--timeout 60] [--formats workload,cli]
        [--failures failures.txt]

Each case (tests/fuzz/corpus.py) runs in a forked copy of this process (tests/fuzz/harness.py:
run_forked), in its own sandbox folder, killed with its process group at --timeout. The table counts
per format: tried, clean (a clean one-line error, or a legitimate success), traceback, hang (killed at
the time limit), silent (an invalid input accepted), unclean (another exit code, a signal, a missing or
overlong error line) and escaped (a file written outside the results folder). docs/reliability.md
quotes it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fuzz.corpus import FORMATS, cases  # noqa: E402
from tests.fuzz.harness import VERDICTS, run_forked  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-format", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a case counts as a hang")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--failures", type=Path, default=None, help="write every non-clean case here")
    args = parser.parse_args()

    cache = Path(tempfile.mkdtemp(prefix="optbench-fuzz-cache-"))
    os.environ.setdefault("OPTBENCH_CACHE", str(cache))
    import torch  # imported once here: every forked case inherits it instead of importing it again

    torch.set_num_threads(1)
    import optbench.cli  # noqa: F401

    rows, failures = [], []
    started = time.monotonic()
    for fmt in args.formats.split(","):
        counts: Counter[str] = Counter()
        for i, case in enumerate(cases(fmt, args.per_format, args.seed)):
            sandbox = Path(tempfile.mkdtemp(prefix="optbench-fuzz-"))
            root = sandbox / "case"
            root.mkdir()
            try:
                outcome = run_forked(case, root, args.timeout)
            finally:
                shutil.rmtree(sandbox, ignore_errors=True)
            counts[outcome.verdict] += 1
            if outcome.verdict != "clean":
                failures.append(f"{fmt}\t{outcome.verdict}\t{case.label[:80]}\t{' '.join(case.argv)[:120]}\t"
                                f"{outcome.detail[:300]}")
                print(f"  [{fmt} {i}] {outcome.verdict}: {case.label[:80]} -- {outcome.detail[:200]}",
                      file=sys.stderr, flush=True)
        rows.append((fmt, sum(counts.values()), *(counts[v] for v in VERDICTS)))
    shutil.rmtree(cache, ignore_errors=True)

    header = ("format", "tried", *VERDICTS)
    print(f"fuzz corpus: seed {args.seed}, {args.per_format} per format (+ fixed regression cases), "
          f"timeout {args.timeout:g} s, {time.monotonic() - started:.0f} s in all")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(x) for x in row) + " |")
    totals = ["all", *(sum(r[i] for r in rows) for i in range(1, len(header)))]
    print("| " + " | ".join(f"**{x}**" for x in totals) + " |")
    if args.failures:
        args.failures.write_text("\n".join(failures) + "\n")


if __name__ == "__main__":
    main()
