"""A seeded generator of malformed inputs for every file format and the command line.

Each :class:`Case` is a set of files (relative path -> bytes) written into an empty sandbox folder
and one ``optbench`` command line run inside it. ``@ROOT@`` in paths, arguments and file contents
is replaced by the sandbox folder. Every command that writes is given ``--results @ROOT@/out``
(or writes its outputs inside an input folder of the sandbox), so a file appearing elsewhere in the
sandbox, or outside it, is a bug (a name used as a path part, an escaping ``--name``).

``invalid`` says what the outcome must be: True = the input is wrong and must be refused (exit 2,
one line); None = either a clean success or a clean refusal is right (the generator cannot tell
cheaply). A case marked True that exits 0 is *silently accepted*.

The corpus is reproducible: ``cases(fmt, n, seed)`` always gives the same cases.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

DATA = Path(__file__).resolve().parent / "data"
FORMATS = ("workload", "search_space", "submission", "results", "baseline", "algoperf", "cli")


@dataclass(frozen=True)
class Case:
    fmt: str
    label: str  #: what was mutated, for the report
    argv: tuple[str, ...]
    files: dict[str, bytes] = field(default_factory=dict)
    invalid: bool | None = True
    heavy: bool = False  #: may train a model (imports torch): kept out of the in-process fast lane
    fifo: str | None = None  #: a FIFO to create at this relative path


# --------------------------------------------------------------------------- evil values

HUGE_INT_TEXT = "1" * 5000  # over Python's 4,300-digit int conversion limit
BIG_INT_TEXT = "1" + "0" * 400  # fits an int; float(int) overflows
DEEP = 3000  # nesting levels: over the recursion limit of naive walkers

#: (label, value) pairs that a serialiser can write; ``NAN``/``INF`` are real floats.
EVIL_VALUES: list[tuple[str, Any]] = [
    ("null", None), ("empty-string", ""), ("markup", "[/]"), ("markup-open", "[bold red]x"),
    ("long-string", "x" * 20000), ("negative", -1), ("zero", 0), ("fraction", 1.5), ("nan", float("nan")),
    ("inf", float("inf")), ("-inf", float("-inf")), ("bool", True), ("empty-list", []), ("empty-map", {}),
    ("long-list", list(range(20000))), ("string-number", "12"), ("escape-path", "../../../../escape"),
    ("absolute-path", "/tmp/optbench-fuzz-escape"), ("nested-map", {"a": {"b": [1, {"c": None}]}}),
    ("list-of-maps", [{"x": 1}, {"y": [2]}]), ("unicode", "é\u202e\x00"),
]

#: Text-level replacements of one value (formats that a dump cannot produce).
YAML_TEXT_VALUES: list[tuple[str, str]] = [
    ("huge-int", HUGE_INT_TEXT), ("400-digit-int", BIG_INT_TEXT), ("deep-list", "[" * DEEP + "]" * DEEP),
    ("deep-map", "{a: " * DEEP + "1" + "}" * DEEP), ("yaml-nan", ".nan"), ("yaml-inf", ".inf"),
    ("tagged", "!!python/object:os.system x"), ("binary-tag", "!!binary aGVsbG8="), ("set-tag", "!!set {a, b}"),
    ("timestamp", "2001-12-14t21:59:43.10-05:00"),
]
JSON_TEXT_VALUES: list[tuple[str, str]] = [
    ("huge-int", HUGE_INT_TEXT), ("400-digit-int", BIG_INT_TEXT), ("1e400", "1e400"),
    ("deep-list", "[" * DEEP + "]" * DEEP), ("deep-map", '{"a": ' * DEEP + "1" + "}" * DEEP),
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"),
]
ALIAS_BOMB = """a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""
BAD_BYTES: list[tuple[str, bytes]] = [
    ("not-utf8", b"\xff\xfe\x00bad \xc3\x28 bytes\n"), ("latin1", "name: caf\xe9\n".encode("latin-1")),
    ("nul-bytes", b"\x00" * 64), ("binary", bytes(range(256)) * 4),
]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _finite(v: Any) -> bool:
    return _is_number(v) and v == v and v not in (float("inf"), float("-inf"))


#: What a key accepts, as a predicate on a value; None: anything (the value is free text or open).
KINDS: dict[str, Callable[[Any], bool] | None] = {
    "int+": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 1,
    "int0": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "num+": lambda v: _finite(v) and v > 0,
    "num0": lambda v: _finite(v) and v >= 0,
    "num": _finite,
    "name": lambda v: isinstance(v, str) and v.replace("_", "").replace("-", "").isalnum(),
    "str": lambda v: isinstance(v, str) and bool(v.strip()),
    "any": None,
    # a feasible point or a constant: anything plain but null and non-finite numbers
    "point": lambda v: v is not None and not (isinstance(v, float) and not _finite(v)),
}


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a nested mapping/list (leaves and inner nodes)."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.append(prefix + (k,))
            out += _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data[:3]):
            out.append(prefix + (i,))
            out += _paths(v, prefix + (i,))
    return out


def _set(data: Any, path: tuple, value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    return data


def _delete(data: Any, path: tuple) -> Any:
    data = copy.deepcopy(data)
    node = data
    for k in path[:-1]:
        node = node[k]
    del node[path[-1]]
    return data


MARK = "FUZZMARKQQ"


def structured_mutations(base: dict, kinds: dict[str, str], dump: Callable[[Any], str], text_values: list,
                         rng: random.Random, n: int, yaml_like: bool) -> list[tuple[str, bytes, bool | None]]:
    """``n`` mutations of ``base``: (label, file bytes, invalid?). ``kinds`` maps dotted key paths to KINDS."""
    paths = _paths(base)
    out = []
    for _ in range(n):
        roll = rng.random()
        path = rng.choice(paths)
        dotted = ".".join(str(p) for p in path)
        kind = KINDS.get(kinds.get(dotted, "any"))
        if roll < 0.45:
            label, value = rng.choice(EVIL_VALUES)
            invalid = None if kind is None else not kind(value)
            out.append((f"{dotted}={label}", dump(_set(base, path, value)).encode(), invalid))
        elif roll < 0.65:
            label, text = rng.choice(text_values)
            body = dump(_set(base, path, MARK)).replace(json.dumps(MARK) if not yaml_like else MARK, text, 1)
            invalid = None if kind is None else (label not in ("timestamp",) or None)
            if label == "huge-int":
                invalid = True  # no parser may turn 5,000 digits into a number
            elif label == "400-digit-int" and kind is not None:
                invalid = True if kinds.get(dotted, "").startswith("num") else None
            out.append((f"{dotted}={label}", body.encode(), invalid))
        elif roll < 0.75:
            out.append((f"{dotted}:deleted", dump(_delete(base, path)).encode(), None))
        elif roll < 0.83 and isinstance(base, dict):
            extra = rng.choice([("colour", "red"), (1, "x"), ("", 0), ("x" * 300, 1)])
            data = copy.deepcopy(base)
            data[extra[0]] = extra[1]
            data = {str(k) if not yaml_like else k: v for k, v in data.items()}
            out.append((f"unknown-key:{str(extra[0])[:10]}", dump(data).encode(), None))
        elif roll < 0.9:
            label, raw = rng.choice(BAD_BYTES)
            out.append((f"bytes:{label}", raw, True))
        elif yaml_like and roll < 0.95:
            key = rng.choice(list(base))
            text = dump(base) + dump({key: base[key]})
            out.append((f"duplicate-key:{key}", text.encode(), True))
        elif yaml_like:
            choice = rng.choice(["bomb", "self-alias", "alias-value"])
            if choice == "bomb":
                out.append(("alias-bomb", ALIAS_BOMB.encode(), True))
            elif choice == "self-alias":
                out.append(("self-alias", (dump(base) + "loop: &x [*x]\n").encode(), True))
            else:
                key = rng.choice(list(base))
                body = ALIAS_BOMB.replace("a: &a", "zz0: &a") + dump({k: v for k, v in base.items() if k != key}) \
                    + f"{key}: *i\n"
                out.append((f"alias-bomb-in:{key}", body.encode(), True))
        else:
            label = rng.choice(["list", "number", "null", "string"])
            text = {"list": "[1, 2]", "number": "3", "null": "null", "string": '"x"'}[label]
            out.append((f"top-level:{label}", text.encode(), None if label == "null" else True))
    return out


def yaml_dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=10**9)


def json_dump(data: Any) -> str:
    return json.dumps(data, indent=1)


# --------------------------------------------------------------------------- per format

WORKLOAD = yaml.safe_load((DATA / "w.yaml").read_text())
WORKLOAD_KINDS = {
    "name": "name", "version": "int+", "dataset": "any", "dataset.name": "str", "model": "any", "model.name": "str",
    "loss": "str", "metrics": "any", "target": "any", "target.metric": "str", "target.value": "num",
    "target.mode": "str", "budget": "any", "budget.seconds": "num+", "budget.steps": "int+",
    "budget.step_hint": "int+", "eval": "any", "eval.every_steps": "int+", "batch_size": "int+",
}
# mapping-valued keys that must stay mappings: replacing them is always invalid
for _k in ("target", "budget", "eval"):
    WORKLOAD_KINDS[_k] = "map"
KINDS["map"] = lambda v: isinstance(v, dict) and bool(v)

SIMPLE_SUBMISSION = b"""import torch
DEFAULT_HPARAMS = {"learning_rate": 0.1}
def make_optimizer(params, hparams, ctx):
    return torch.optim.SGD(params, lr=float(hparams.get("learning_rate", 0.1)))
"""
SPACE = {"learning_rate": {"min": 1e-4, "max": 0.5, "scaling": "log"}, "momentum": {"feasible_points": [0.0, 0.9]}}
SPACE_KINDS = {"learning_rate.min": "num+", "learning_rate.max": "num+", "learning_rate.scaling": "str",
               "momentum.feasible_points.0": "point", "momentum.feasible_points.1": "point"}
SUB_YAML = {"optimizer": "torch.optim.SGD", "defaults": {"learning_rate": 0.05, "momentum": 0.9},
            "description": "plain SGD"}
SUB_YAML_KINDS = {"optimizer": "str", "defaults": "map", "defaults.learning_rate": "point",
                  "defaults.momentum": "point", "description": "any"}
TARGETS = {"benchmark_version": "0.5", "base_workloads": ["wmt"], "held_out_workloads": [],
           "workloads": {"wmt": {"target_metric_name": "bleu", "validation_target_value": 30.0, "step_hint": 133}}}
TARGETS_KINDS = {"base_workloads": "any", "workloads": "map", "workloads.wmt": "map",
                 "workloads.wmt.target_metric_name": "str", "workloads.wmt.validation_target_value": "num"}
EVALS_HEADER = "global_step,score,accumulated_submission_time,accumulated_eval_time,total_duration,preemption_count," \
               "train/loss,validation/bleu,test/bleu"


def _evals_csv(rows: int = 3) -> str:
    lines = [EVALS_HEADER] + [f"{100 * (i + 1)},{10.0 * (i + 1)},{10.0 * (i + 1)},{i},{12.0 * (i + 1)},0,"
                              f"{1.0 / (i + 1)},{10.0 * (i + 1) + 5},{10.0 * (i + 1)}" for i in range(rows)]
    return "\n".join(lines) + "\n"


def experiment_files() -> dict[str, bytes]:
    """The template experiment (a real 2x2x2 run of a tiny workload) and its workload file."""
    files = {"w.yaml": (DATA / "w.yaml").read_bytes()}
    for path in sorted((DATA / "experiment").rglob("*")):
        if path.is_file():
            files[str(Path("experiment") / path.relative_to(DATA / "experiment"))] = path.read_bytes()
    return files


def _workload_cases(rng: random.Random, n: int) -> list[Case]:
    out = []
    for label, body, invalid in structured_mutations(WORKLOAD, WORKLOAD_KINDS, yaml_dump, YAML_TEXT_VALUES, rng, n,
                                                     yaml_like=True):
        command = rng.choice(["validate", "list", "run"])
        files = {"wl/fuzz/w.yaml": body}
        if command == "validate":
            argv = ("validate", "@ROOT@/wl/fuzz/w.yaml", "--steps", "1", "--submission", "sgd_nesterov")
        elif command == "list":
            argv = ("list", "workloads", "--workloads-dir", "@ROOT@/wl")
        else:
            argv = ("run", "--workloads", "@ROOT@/wl/fuzz/w.yaml", "--submissions", "sgd_nesterov", "--clock", "steps",
                    "--hparams", "learning_rate=0.1", "--results", "@ROOT@/out", "--name", "x")
        out.append(Case("workload", f"{command}:{label}", argv, files, invalid, heavy=command != "list"))
    for escape in ("../../../../escape", "/tmp/optbench-fuzz-abs", "a/b", "..", "x[/]"):
        body = yaml_dump({**WORKLOAD, "name": escape}).encode()
        out.append(Case("workload", f"run:name={escape}", ("run", "--workloads", "@ROOT@/wl/fuzz/w.yaml",
                        "--submissions", "sgd_nesterov", "--clock", "steps", "--hparams", "learning_rate=0.1",
                        "--results", "@ROOT@/out", "--name", "x"), {"wl/fuzz/w.yaml": body}, True, heavy=True))
    return out


def _space_cases(rng: random.Random, n: int) -> list[Case]:
    out = []
    half = n // 2
    for suffix, dump, text_values, yaml_like, count in (("search_space.yaml", yaml_dump, YAML_TEXT_VALUES, True, half),
                                                         ("tuning_search_space.json", json_dump, JSON_TEXT_VALUES, False,
                                                          n - half)):
        for label, body, invalid in structured_mutations(SPACE, SPACE_KINDS, dump, text_values, rng, count, yaml_like):
            files = {"subs/fz/submission.py": SIMPLE_SUBMISSION, f"subs/fz/{suffix}": body}
            if rng.random() < 0.5:
                argv = ("validate", "@ROOT@/subs/fz", "--steps", "1")
            else:
                argv = ("run", "--workloads", "@ROOT@/w.yaml", "--submissions", "fz", "--submissions-dir",
                        "@ROOT@/subs", "--ruleset", "external", "--trials", "1", "--clock", "steps",
                        "--results", "@ROOT@/out", "--name", "x")
                files["w.yaml"] = (DATA / "w.yaml").read_bytes()
            out.append(Case("search_space", f"{suffix}:{label}", argv, files, invalid, heavy=True))
    return out


def _submission_cases(rng: random.Random, n: int) -> list[Case]:
    out = []
    for label, body, invalid in structured_mutations(SUB_YAML, SUB_YAML_KINDS, yaml_dump, YAML_TEXT_VALUES, rng,
                                                     n - 12, yaml_like=True):
        command = rng.choice(["validate", "list"])
        argv = ("validate", "@ROOT@/subs/fz", "--steps", "1") if command == "validate" else \
            ("list", "submissions", "--submissions-dir", "@ROOT@/subs")
        out.append(Case("submission", f"{command}:{label}", argv, {"subs/fz/submission.yaml": body}, invalid,
                        heavy=command == "validate"))
    py = {
        "sleep-import": ("import time\ntime.sleep(3600)\n", True),
        "sys-exit": ("import sys\nsys.exit(3)\n", True),
        "keyboard-interrupt": ("raise KeyboardInterrupt\n", True),
        "os-exit": ("import os\nos._exit(0)\n", True),
        "segfault": ("import ctypes\nctypes.string_at(0)\n", True),
        "sleep-factory": ("import time\nDEFAULT_HPARAMS={}\ndef make_optimizer(p, h, c):\n    time.sleep(3600)\n", True),
        "exit-factory": ("import sys\nDEFAULT_HPARAMS={}\ndef make_optimizer(p, h, c):\n    sys.exit(0)\n", True),
        "batch-size-negative": (SIMPLE_SUBMISSION.decode() + "def get_batch_size(workload_name):\n    return -1\n", True),
        "syntax-error": ("def f(:\n", True),
        "no-functions": ("X = 1\n", True),
        "relative-dotted": (None, True),
        "raising-dotted": (None, True),
    }
    for label, (source, invalid) in py.items():
        if source is None:
            target = ".relative:Thing" if label == "relative-dotted" else "fzmod_raises.Opt"
            files = {"subs/fz/submission.yaml": yaml_dump({"optimizer": target}).encode(),
                     "fzmod_raises.py": b"raise ValueError('boom at import')\n"}
        else:
            files = {"subs/fz/submission.py": source.encode()}
        out.append(Case("submission", f"validate:{label}", ("validate", "@ROOT@/subs/fz", "--steps", "1", "--timeout",
                                                            "25"), files, invalid, heavy=True))
    return out[:n] if n >= 12 else out[-n:]


def _results_cases(rng: random.Random, n: int) -> list[Case]:
    base_files = experiment_files()
    trial_paths = [p for p in base_files if p.endswith("trial.json")]
    experiment = json.loads(base_files["experiment/experiment.json"])
    trial = json.loads(base_files[trial_paths[0]])
    trial_kinds = {"study": "int0", "trial": "int0", "submission": "name", "workload": "name",
                   "workload_hash": "str", "status": "str", "time_to_target": "any", "steps_to_target": "any",
                   "ruleset": "str", "clock": "str", "hparams": "map", "target_mode": "str", "target_value": "num",
                   "target_metric": "str", "steps": "int0"}
    exp_kinds = {"config": "map", "config.ruleset": "str", "config.studies": "int+", "config.trials": "int+",
                 "config.threads": "int+", "config.workers": "int+", "config.seed": "int0", "config.workloads": "any",
                 "config.submissions": "any", "trials": "any", "workloads": "map", "submissions": "map"}
    commands = [("score", "@ROOT@/experiment"), ("report", "@ROOT@/experiment", "-o", "@ROOT@/experiment/r.html"),
                ("plot", "@ROOT@/experiment"), ("compare", "@ROOT@/experiment", "@ROOT@/experiment")]
    out = []
    n_trial = n * 2 // 3
    for label, body, _invalid in structured_mutations(trial, trial_kinds, json_dump, JSON_TEXT_VALUES, rng, n_trial,
                                                     yaml_like=False):
        files = dict(base_files)
        files[rng.choice(trial_paths)] = body
        out.append(Case("results", f"trial.json:{label}", rng.choice(commands), files, None, heavy=False))
    for label, body, invalid in structured_mutations(experiment, exp_kinds, json_dump, JSON_TEXT_VALUES, rng,
                                                     n - n_trial, yaml_like=False):
        files = dict(base_files)
        files["experiment/experiment.json"] = body
        argv = rng.choice([*commands, ("run", "--resume", "@ROOT@/experiment")])
        out.append(Case("results", f"experiment.json:{label}", argv, files,
                        invalid if argv[0] == "run" else None, heavy=argv[0] == "run"))
    return out


def _baseline_cases(rng: random.Random, n: int) -> list[Case]:
    base_files = experiment_files()
    baseline = json.loads((DATA / "baseline.json").read_text())
    kinds = {"format": "str", "optbench_version": "str", "workloads": "map", "results": "map",
             "results.tiny.adamw.study": "any", "results.tiny.adamw.steps_to_target": "any"}
    out = []
    for label, body, invalid in structured_mutations(baseline, kinds, json_dump, JSON_TEXT_VALUES, rng, n,
                                                     yaml_like=False):
        files = {**base_files, "baseline.json": body}
        out.append(Case("baseline", f"baseline.json:{label}", ("compare", "@ROOT@/baseline.json", "@ROOT@/experiment"),
                        files, invalid))
    for study in (0.5, "0", [0], None):
        data = copy.deepcopy(baseline)
        data["results"]["tiny"]["adamw"]["study"] = [study, 1]
        out.append(Case("baseline", f"baseline.json:study={study!r}", ("compare", "@ROOT@/baseline.json",
                        "@ROOT@/experiment"), {**base_files, "baseline.json": json_dump(data).encode()}, True))
    return out


def _algoperf_cases(rng: random.Random, n: int) -> list[Case]:
    tree = "logs/sub/study_0/wmt_jax/trial_1/eval_measurements.csv"
    out = []
    n_targets = n * 2 // 3
    for label, body, invalid in structured_mutations(TARGETS, TARGETS_KINDS, json_dump, JSON_TEXT_VALUES, rng,
                                                     n_targets, yaml_like=False):
        files = {tree: _evals_csv().encode(), "targets.json": body}
        out.append(Case("algoperf", f"targets:{label}", ("score", "@ROOT@/logs", "--format", "algoperf", "--targets",
                        "@ROOT@/targets.json", "--out", "@ROOT@/out"), files, invalid))
    csv_mutations: list[tuple[str, bytes, Any]] = [
        ("csv-not-utf8", b"\xff\xfe\xfa" * 10, None), ("csv-empty", b"", None),
        ("csv-header-only", (EVALS_HEADER + "\n").encode(), None),
        ("csv-text-cells", _evals_csv().replace("10.0", "ten").encode(), None),
        ("csv-nan", _evals_csv().replace("10.0,", "nan,").encode(), None),
        ("csv-huge", (_evals_csv() + "9" * 5000 + ",1,1,1,1,0,1,1,1\n").encode(), None),
        ("csv-ragged", (_evals_csv() + "1,2\n").encode(), None), ("csv-binary", bytes(range(256)), None),
    ]
    both = dict(TARGETS, held_out_workloads=["wmt"])
    for _ in range(n - n_targets):
        label, body, invalid = rng.choice(csv_mutations)
        files = {tree: body, "targets.json": json_dump(TARGETS).encode()}
        out.append(Case("algoperf", label, ("score", "@ROOT@/logs", "--format", "algoperf", "--targets",
                                            "@ROOT@/targets.json", "--out", "@ROOT@/out"), files, invalid))
    out.append(Case("algoperf", "targets:base-and-held-out", ("score", "@ROOT@/logs", "--format", "algoperf",
                    "--targets", "@ROOT@/targets.json", "--out", "@ROOT@/out"),
                    {tree: _evals_csv().encode(), "targets.json": json_dump(both).encode()}, True))
    nan_target = copy.deepcopy(TARGETS)
    nan_target["workloads"]["wmt"]["validation_target_value"] = float("nan")
    out.append(Case("algoperf", "targets:nan-target", ("score", "@ROOT@/logs", "--format", "algoperf", "--targets",
                    "@ROOT@/targets.json", "--out", "@ROOT@/out"),
                    {tree: _evals_csv().encode(), "targets.json": json_dump(nan_target).encode()}, True))
    out.append(Case("algoperf", "csv-fifo", ("score", "@ROOT@/logs", "--format", "algoperf", "--targets",
                    "@ROOT@/targets.json", "--out", "@ROOT@/out"), {"targets.json": json_dump(TARGETS).encode()},
                    None, fifo=tree))
    return out


def _cli_cases(rng: random.Random, n: int) -> list[Case]:
    files = experiment_files()
    run = ("run", "--workloads", "@ROOT@/w.yaml", "--submissions", "sgd_nesterov", "--clock", "steps",
           "--results", "@ROOT@/out")
    fixed: list[tuple[str, tuple[str, ...], bool | None, bool]] = [
        ("name-escape", (*run, "--name", "../x"), True, True),
        ("name-absolute", (*run, "--name", "/tmp/optbench-fuzz-abs"), True, True),
        ("name-markup", (*run, "--name", "x[/]", "--hparams", "learning_rate=0.1"), None, True),
        ("name-too-long", (*run, "--name", "n" * 300), True, True),
        ("results-too-long", ("run", "--workloads", "@ROOT@/w.yaml", "--submissions", "sgd_nesterov",
                              "--results", "@ROOT@/" + "r" * 300), True, True),
        ("same-submission-twice", ("run", "--workloads", "@ROOT@/w.yaml", "--submissions", "sgd_nesterov,sgd_nesterov",
                                   "--clock", "steps", "--results", "@ROOT@/out"), True, True),
        ("tau-max-inf", ("score", "@ROOT@/experiment", "--tau-max", "inf", "--out", "@ROOT@/out"), True, False),
        ("tau-max-nan", ("score", "@ROOT@/experiment", "--tau-max", "nan", "--out", "@ROOT@/out"), True, False),
        ("tau-max-below-1", ("score", "@ROOT@/experiment", "--tau-max", "0.5", "--out", "@ROOT@/out"), True, False),
        ("report-out-folder", ("report", "@ROOT@/experiment", "-o", "@ROOT@/experiment"), True, False),
        ("compare-tolerance-nan", ("compare", "@ROOT@/experiment", "@ROOT@/experiment", "--tolerance", "nan"),
         True, False),
        ("score-results-missing", ("score", "@ROOT@/nothing"), True, False),
        ("score-results-file", ("score", "@ROOT@/w.yaml"), True, False),
        ("resume-missing", ("run", "--resume", "@ROOT@/nothing"), True, False),
    ]
    out = [Case("cli", label, argv, files, invalid, heavy) for label, argv, invalid, heavy in fixed]
    hparam_values = ["nan", "inf", "-inf", "1e400", HUGE_INT_TEXT, "[/]", "&a [*a]", "*a", "{", "[" * 3000,
                     "!!python/object:os.system x", "x" * 20000, "", "1,", "=1", "a=1=2"]
    while len(out) < n:
        value = rng.choice(hparam_values)
        argv = (*run, "--hparams", f"learning_rate={value}")
        invalid = True if value not in ("",) else None
        out.append(Case("cli", f"--hparams learning_rate={value[:20]}", argv, files, invalid, heavy=True))
    return out[:n]


GENERATORS = {"workload": _workload_cases, "search_space": _space_cases, "submission": _submission_cases,
              "results": _results_cases, "baseline": _baseline_cases, "algoperf": _algoperf_cases, "cli": _cli_cases}


def cases(fmt: str, n: int, seed: int = 0) -> list[Case]:
    """``n`` (about: fixed regression cases are added) malformed inputs of format ``fmt``, reproducibly."""
    return GENERATORS[fmt](random.Random(f"{fmt}:{seed}"), n)


def materialize(case: Case, root: Path) -> list[str]:
    """Write the case's files under ``root``; return its argv with ``@ROOT@`` replaced."""
    import os

    import optbench

    pkg = str(Path(optbench.__file__).resolve().parent)
    for rel, data in case.files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.replace(b"@ROOT@", str(root).encode()).replace(b"@PKG@", pkg.encode()))
    if case.fifo:
        (root / case.fifo).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / case.fifo)
    return [a.replace("@ROOT@", str(root)) for a in case.argv]
