"""Cold start of the console chat: `echo /briefing | briefing-bot chat`, as a user starts it.

Each run is a new process with stdin piped. We time process exit and the first line of the reply
on stdout, beside `python -c pass` on the same interpreter, and show where start-up goes with
`python -X importtime`. Figures are medians of RUNS runs in this run, after one untimed warm-up.
"""

import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.child import ROOT, child_env
from bench.results import GoalResult

BIN = ROOT / ".venv" / "bin"
PYTHON = BIN / "python"
BOT = BIN / "briefing-bot"
INPUT = b"/briefing\n"
RUNS = 10
JINJA = "import jinja2"
IMPORTTIME_RUNS = 3
TOP = 10
# Issue 12, goal 5: the first reply within this many times `python -c "import jinja2"`, the
# smallest program that renders a template, measured in the same run.
GOAL_RATIO = 4.0


@dataclass(frozen=True, slots=True)
class Timing:
    first_line_s: float
    exit_s: float


def time_bot(cwd: Path) -> Timing:
    """One cold run of the bot: seconds to its first line on stdout and to its exit."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter_ns()
        proc = subprocess.Popen(
            [str(BOT), "chat"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            cwd=cwd,
            env=child_env(cwd),
        )
        assert proc.stdin is not None
        assert proc.stdout is not None
        proc.stdin.write(INPUT)
        proc.stdin.close()
        first = proc.stdout.readline()
        first_ns = time.perf_counter_ns() - start
        rest = proc.stdout.read()
        code = proc.wait()
        exit_ns = time.perf_counter_ns() - start
        proc.stdout.close()
        if code != 0 or not first.strip():
            stderr.seek(0)
            raise RuntimeError(
                f"briefing-bot chat exited {code} after {len(first) + len(rest)} bytes:\n"
                + stderr.read().decode(errors="replace")
            )
    return Timing(first_ns / 1e9, exit_ns / 1e9)


def time_python_pass(cwd: Path, code: str = "pass") -> float:
    start = time.perf_counter_ns()
    subprocess.run(
        [str(PYTHON), "-c", code],
        stdin=subprocess.DEVNULL,
        check=True,
        cwd=cwd,
        env=child_env(cwd),
    )
    return (time.perf_counter_ns() - start) / 1e9


@dataclass(frozen=True, slots=True)
class Import:
    name: str
    depth: int
    self_us: float
    cumulative_us: float


def parse_importtime(stderr: str) -> list[Import]:
    """`import time: self [us] | cumulative | imported package`, nesting shown by indentation."""
    imports = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        name = fields[2].rstrip()
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        imports.append(Import(name.strip(), depth, float(fields[0]), float(fields[1])))
    return imports


def importtime_runs(cwd: Path) -> list[list[Import]]:
    runs = []
    for _ in range(IMPORTTIME_RUNS):
        done = subprocess.run(
            [str(PYTHON), "-X", "importtime", "-m", "bot.cli", "chat"],
            input=INPUT,
            capture_output=True,
            check=True,
            cwd=cwd,
            env=child_env(cwd),
        )
        runs.append(parse_importtime(done.stderr.decode(errors="replace")))
    return runs


def _root_package(name: str) -> str:
    root = name.split(".", 1)[0]
    return f"{root} (stdlib)" if root in sys.stdlib_module_names else root


def main() -> GoalResult:
    # Children run away from the project root, with an environment of our making (bench/child.py).
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        return report(Path(tmp))


def report(cwd: Path) -> GoalResult:
    # Warm-up: byte-compiled files, the page cache and the seeds cache, as on a second start.
    time_bot(cwd)
    time_python_pass(cwd)
    time_python_pass(cwd, JINJA)
    bot_runs: list[Timing] = []
    bare_runs: list[float] = []
    jinja_runs: list[float] = []
    for _ in range(RUNS):  # interleaved, so a slow spell of the machine falls on all of them
        bot_runs.append(time_bot(cwd))
        bare_runs.append(time_python_pass(cwd))
        jinja_runs.append(time_python_pass(cwd, JINJA))
    first = statistics.median(t.first_line_s for t in bot_runs)
    exit_ = statistics.median(t.exit_s for t in bot_runs)
    bare = statistics.median(bare_runs)
    jinja = statistics.median(jinja_runs)

    print(f"== cold start: `echo /briefing | briefing-bot chat` (median of {RUNS} runs) ==")
    print(f"{'':<34} {'median s':>9} {'min s':>7} {'max s':>7} {'× python -c pass':>16}")
    rows = (
        ("python -c pass (same interpreter)", [*bare_runs]),
        ('python -c "import jinja2"', [*jinja_runs]),
        ("briefing-bot: first reply line", [t.first_line_s for t in bot_runs]),
        ("briefing-bot: process exit", [t.exit_s for t in bot_runs]),
    )
    for label, values in rows:
        median = statistics.median(values)
        print(
            f"{label:<34} {median:9.3f} {min(values):7.3f} {max(values):7.3f} {median / bare:16.1f}"
        )
    print("(stdout is a pipe, so the bot's first line arrives with its first flush: when its")
    print(" 8 KiB buffer fills or the reply ends; that is when a reader could show it)")
    print(f"above the bare interpreter, to first reply: {first - bare:.3f} s")
    print(
        "from first reply line to exit (rest of the reply, interpreter shutdown): "
        f"{exit_ - first:.3f} s"
    )
    ratio = first / jinja
    met = ratio <= GOAL_RATIO
    print(
        f'goal: first reply within {GOAL_RATIO:g}× `python -c "import jinja2"` -> '
        f"{'met' if met else 'NOT met'} ({first:.3f} s / {jinja:.3f} s = {ratio:.2f}×)"
    )

    runs = importtime_runs(cwd)
    by_name: dict[str, list[Import]] = {}
    for run in runs:
        for entry in run:
            by_name.setdefault(entry.name, []).append(entry)
    medians = {
        name: Import(
            name,
            entries[0].depth,
            statistics.median(e.self_us for e in entries),
            statistics.median(e.cumulative_us for e in entries),
        )
        for name, entries in by_name.items()
    }
    total_self_ms = statistics.median(sum(e.self_us for e in run) for run in runs) / 1000

    print()
    print(
        f"== python -X importtime -m bot.cli chat < /briefing: top {TOP} by cumulative time "
        f"(median of {IMPORTTIME_RUNS} runs; nesting indented) =="
    )
    print(f"all imports together (sum of self): {total_self_ms:.1f} ms, under -X importtime")
    print(f"{'cumulative ms':>13} {'self ms':>8}  module")
    for entry in sorted(medians.values(), key=lambda e: -e.cumulative_us)[:TOP]:
        print(
            f"{entry.cumulative_us / 1000:13.1f} {entry.self_us / 1000:8.1f}  "
            f"{'  ' * entry.depth}{entry.name}"
        )

    print()
    print(f"== the same imports, self time summed by top-level package (top {TOP}) ==")
    packages: dict[str, float] = {}
    counts: dict[str, int] = {}
    for entry in medians.values():
        root = _root_package(entry.name)
        packages[root] = packages.get(root, 0.0) + entry.self_us
        counts[root] = counts.get(root, 0) + 1
    print(f"{'self ms':>8} {'share':>6} {'modules':>7}  package")
    for root, self_us in sorted(packages.items(), key=lambda item: -item[1])[:TOP]:
        print(
            f"{self_us / 1000:8.1f} {self_us / 1000 / total_self_ms:6.0%} {counts[root]:7d}  {root}"
        )

    return GoalResult(
        f'console first reply / `python -c "import jinja2"` (issue 12 goal 5, ≤{GOAL_RATIO:g}×)',
        f"{ratio:.2f}× ({first:.3f} s / {jinja:.3f} s)",
        met,
    )


if __name__ == "__main__":
    main()
