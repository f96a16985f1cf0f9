#!/usr/bin/env python3
"""make bench: git-orchestrate's costs against the git-CLI yardstick, measured in the same run.

Usage (normally through `make bench`):
  python bench/bench.py --bin .build/release/git-orchestrate [--sizes "1000 20000 100000"]
                        [--reps 3] [--only subtask,second,status,verify,mcp] [--out bench-out]

Whole-process timings come from hyperfine (-N: no shell in between); peak memory from
/usr/bin/time -v; the MCP round trip from the official Python SDK (run this with the venv's python).
Writes OUT/results.json, docs/performance.md and docs/performance.svg. A benchmark, never a test:
nothing here fails because a figure is slow; it fails only when a command gives a wrong result.
"""

import argparse
import asyncio
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(ROOT, "bench")
K = 5  # files edited per sub-task, as in the yardstick
S_SMALL, S_LARGE = 5, 55
ALL_FIGURES = ["subtask", "second", "status", "verify", "mcp", "large", "inrun", "long", "coldverify", "bigfile", "parallel"]

TARGETS = {  # figure -> (limit in its unit, unit)
    ("subtask", 20000): 10.0,
    ("subtask", 100000): 20.0,
    "second": 100.0,
    "status": 50.0,
    "verify": 100.0,
    "mcp": 5.0,
    "memory": 100.0,
}


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args, **kwargs):
    """Runs a command that must succeed; returns its standard output."""
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    try:
        return subprocess.run(args, **kwargs).stdout
    except subprocess.CalledProcessError as error:
        sys.exit(f"bench: {' '.join(map(str, args))[:300]} failed ({error.returncode}):\n{error.stdout}\n{error.stderr}")


def git(repo, *args, **kwargs):
    return run(["git", "-C", repo, *args], **kwargs)


def sha256_of(*paths):
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            digest.update(handle.read())
    return digest.hexdigest()[:16]


def shared_script(name):
    """The shared copy beside the repository when present (CI, the project's machines), else bench/'s copy."""
    shared = os.path.normpath(os.path.join(ROOT, "..", "shared", "bench", name))
    local = os.path.join(HERE, name)
    if os.path.exists(shared):
        return shared, sha256_of(shared) == sha256_of(local)
    return local, True


def median(values):
    return statistics.median(values) if values else None


def file_path(i):
    return f"src/m{i % 200:03d}/f{i:06d}.txt"


def edit_command(label, t):
    """The shell command that edits the same K files the yardstick edits in its sub-task t."""
    return " && ".join(f"echo '{label} {t}' >> {file_path((t * K + j) % 1000)}" for j in range(K))


def yaml_quote(text):
    return json.dumps(text)  # a JSON string is a YAML flow scalar


def write_plan(path, plan_id, subtasks, max_attempts=1):
    """subtasks: [(id, run_command, checkpoint_command)]"""
    lines = [f"id: {plan_id}", f"description: benchmark plan {plan_id}", f"max_attempts: {max_attempts}", "subtasks:"]
    for sid, command, checkpoint in subtasks:
        lines += [
            f"  - id: {sid}",
            f"    description: {sid}",
            f"    run: [{yaml_quote(command)}]",
            f"    checkpoint: {{commands: [{yaml_quote(checkpoint)}]}}",
        ]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return path


class Bench:
    def __init__(self, options):
        self.binary = os.path.abspath(options.bin)
        self.out = os.path.abspath(options.out)
        self.sizes = sorted(int(s) for s in options.sizes.split())
        self.reps = options.reps
        self.disk_sizes = sorted(int(s) for s in options.disk_sizes.split())
        self.only = options.only.split(",") if options.only else ALL_FIGURES
        self.work = self.choose_work_directory(options.work)
        self.fixtures = os.path.join(self.out, "fixtures")
        self.plans = os.path.join(self.out, "plans")
        for folder in (self.work, self.fixtures, self.plans):
            os.makedirs(folder, exist_ok=True)
        self.make_fixture, same_fixture = shared_script("make-fixture.sh")
        self.baseline, same_baseline = shared_script("git-cli-baseline.sh")
        self.results = {
            "figures": {},
            "scripts": {
                "make_fixture": self.make_fixture,
                "git_cli_baseline": self.baseline,
                "bench_copies_identical": same_fixture and same_baseline,
            },
        }
        if not (same_fixture and same_baseline):
            log("warning: bench/'s copies of the shared scripts differ from ../shared/bench; using the shared ones")
        # TMPDIR: the yardstick's worktree (mktemp -d) lives on the same file system as our workspace.
        # XDG_STATE_HOME: our work folders (by default under ~/.local/state, on the disk) live on the
        # same file system as the copies too.
        self.env = dict(os.environ, GIT_CONFIG_NOSYSTEM="1", NO_COLOR="1", LC_ALL="C", TMPDIR=self.tmp,
                        XDG_STATE_HOME=os.path.join(self.work, "state"))
        self.env.pop("ORCHESTRATE_TRACE", None)
        self.results["work_directory"] = self.work

    def choose_work_directory(self, requested):
        """Where the copies are made and measured: tmpfs when it has room, else bench-out/work.

        Every measured run starts from a fresh `cp -a` of a fixture. On this project's VMs creating a
        file on the ext4 disk costs ~0.4 ms of kernel time, so one copy of the 100k-file fixture takes
        about a minute there against 4 s on tmpfs, and the 12 copies of the 100k round alone would blow
        the 15-minute budget. Both sides run on the same file system, whichever it is.

        The tmpfs folder is named after the output folder: it is removed at the start and at the end of
        a run, and two checkouts benchmarked at once on one machine (several engineers share these VMs)
        would otherwise remove each other's copies and work folders mid-run.
        """
        if requested:
            work = os.path.abspath(requested)
        else:
            work = os.path.join(self.out, "work")
            try:
                stats = os.statvfs("/dev/shm")
                if stats.f_bavail * stats.f_frsize > 8 * 1024**3:
                    work = "/dev/shm/git-orchestrate-bench-" + hashlib.sha256(self.out.encode()).hexdigest()[:8]
            except OSError:
                pass
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        self.tmp = os.path.join(work, "tmp")
        os.makedirs(self.tmp)
        return work

    # MARK: - tools

    def hyperfine(self, name, commands, runs, prepare=None, warmup=0, env=None):
        """Times commands with hyperfine; returns {command name: [seconds per run]}.

        A command that fails stops the benchmark, naming it, its exit codes and what it printed
        (`hyperfine_failed`): hyperfine runs with --ignore-failure so that its JSON says which command
        failed and how, and the check is made here.
        """
        export = os.path.join(self.work, f"hyperfine-{name}.json")
        args = ["hyperfine", "-N", "--style", "none", "--runs", str(runs), "--export-json", export]
        if warmup:
            args += ["--warmup", str(warmup)]
        if prepare:
            args += ["--prepare", prepare]
        for label, command in commands:
            args += ["-n", label, command]
        env = env or self.env
        process = subprocess.run(["hyperfine", "--ignore-failure", *args[1:]], env=env, capture_output=True, text=True)
        if process.returncode != 0 or not os.path.exists(export):
            sys.exit(f"bench: hyperfine failed ({process.returncode}): {' '.join(args)[:400]}\n{process.stdout}\n{process.stderr}")
        with open(export) as handle:
            data = json.load(handle)
        failed = [(result["command"], result.get("exit_codes") or []) for result in data["results"]
                  if any(code != 0 for code in result.get("exit_codes") or [])]
        if failed:
            self.hyperfine_failed(args, dict(commands), failed, env)
        self.last_cpu = {result["command"]: result["user"] + result["system"] for result in data["results"]}
        return {result["command"]: result["times"] for result in data["results"]}

    def hyperfine_failed(self, args, commands, failed, env):
        """Exits naming each failed command with its exit codes, and its standard error.

        hyperfine discards what the commands it times print. So the same invocation runs again (the
        prepare command included, the commands in the same order, stopping at the first failure) with
        --show-output, which hyperfine accepts only without --style: its "Benchmark N: label" lines
        say which command printed what.
        """
        report = ["bench: a command timed by hyperfine failed:"]
        for label, codes in failed:
            report.append(f"  '{label}' exited {', '.join(map(str, codes))} ({len(codes)} runs): {commands.get(label, '?')}")
        again_args = [arg for arg in args if arg not in ("--style", "none")] + ["--show-output"]
        again = subprocess.run(again_args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        parts = re.split(r"^Benchmark \d+: (.*)$", again.stdout, flags=re.M)
        if again.returncode == 0:
            report.append("Run again with --show-output, every command passed: the failure did not repeat.")
        elif len(parts) >= 3:
            # The failing command is the last to start: what follows its "Benchmark N:" line is its output.
            report.append(f"Run again with --show-output, '{parts[-2].strip()}' failed again; the end of its output:\n"
                          + parts[-1].strip()[-3000:])
        else:
            report.append(f"Run again with --show-output, hyperfine exited {again.returncode}:\n" + again.stdout.strip()[-3000:])
        sys.exit("\n".join(report))

    def fixture(self, n):
        """A make-fixture.sh repository of n files, packed (so git's background gc cannot race a copy)."""
        path = os.path.join(self.fixtures, str(n))
        marker = path + ".ok"
        stamp = sha256_of(self.make_fixture)
        if os.path.exists(marker) and open(marker).read() == stamp and os.path.isdir(path):
            return path
        log(f"making the {n}-file fixture")
        started = time.monotonic()
        # make-fixture.sh leaves ~n loose objects, so its commit would start `git gc --auto` in the
        # background, which deletes loose objects while a copy is made (and makes a foreground gc
        # refuse to run). gc.auto=0 from the environment stops that; then one foreground gc packs it all.
        env = dict(self.env, GIT_CONFIG_COUNT="1", GIT_CONFIG_KEY_0="gc.auto", GIT_CONFIG_VALUE_0="0")
        run(["bash", self.make_fixture, path, str(n)], env=env)
        git(path, "gc", "-q")
        with open(marker, "w") as handle:
            handle.write(stamp)
        log(f"  done in {time.monotonic() - started:.1f} s")
        return path

    def copy_command(self, source, target):
        return f"sh -c 'rm -rf {target} && cp -a {source} {target}'"

    def fresh_copy(self, source, target):
        # A `git gc --auto` the yardstick's commits started in the background may still be writing
        # into the old copy: remove until it is gone, and check the copy is a repository of its own
        # (a `cp -a` into a left-over folder would leave the run to find an enclosing repository).
        for _ in range(50):
            shutil.rmtree(target, ignore_errors=True)
            if not os.path.exists(target):
                break
            time.sleep(0.2)
        else:
            sys.exit(f"bench: cannot remove {target}")
        run(["cp", "-a", source, target])
        if not os.path.isdir(os.path.join(target, ".git")):
            sys.exit(f"bench: {target} is not a repository after the copy")
        return target

    # MARK: - 1 and 6: per-sub-task overhead, peak memory

    def bench_subtask(self):
        self.subtask_plans = {}
        for s in (S_SMALL, S_LARGE):
            self.subtask_plans[s] = write_plan(
                os.path.join(self.plans, f"run-{s}.yml"), "bench",
                [(f"s{t:03d}", edit_command("sub-task", t), "true") for t in range(1, s + 1)])
        self.sandbox = self.probe_sandbox()
        self.results["sandbox"] = self.sandbox
        rows = {n: self.measure_subtask(n, self.work, self.env) for n in self.sizes}
        self.results["figures"]["subtask"] = {str(n): dict(row, sandbox=self.sandbox) for n, row in rows.items()}
        if self.disk_sizes and not self.work.startswith(self.out):
            # The same on the disk, where creating a file costs far more than on tmpfs: how much of
            # each side's cost is file-system work.
            disk = os.path.join(self.out, "work-disk")
            shutil.rmtree(disk, ignore_errors=True)
            os.makedirs(os.path.join(disk, "tmp"))
            env = dict(self.env, TMPDIR=os.path.join(disk, "tmp"), XDG_STATE_HOME=os.path.join(disk, "state"))
            rows = {n: self.measure_subtask(n, disk, env, "on disk ") for n in self.disk_sizes}
            self.results["figures"]["subtask_disk"] = {str(n): row for n, row in rows.items()}
            shutil.rmtree(disk, ignore_errors=True)

    def probe_sandbox(self):
        """Whether `run --sandbox on` works here: bubblewrap installed and able to make its namespaces.

        Checkpoint commands run inside bubblewrap when it does (script `run:` steps are trusted and run
        outside it), so figure 1 is then the sandbox's figure and 1s the same run with `--sandbox off`.
        When it does not, `auto` (the default) quietly runs without, and figure 1 is no sandbox figure.
        """
        copy = self.fresh_copy(self.fixture(self.sizes[0]), os.path.join(self.work, "sandbox-probe"))
        plan = write_plan(os.path.join(self.plans, "sandbox-probe.yml"), "probe", [("p1", edit_command("probe", 1), "true")])
        process = subprocess.run([self.binary, "run", "--sandbox", "on", "-C", copy, plan], env=self.env,
                                 capture_output=True, text=True)
        shutil.rmtree(copy, ignore_errors=True)
        tool = shutil.which("bwrap", path=self.env.get("PATH"))
        version = run([tool, "--version"]).strip() if tool else None
        available = process.returncode == 0
        reason = None if available else (process.stderr.strip().splitlines() or [f"exit {process.returncode}"])[-1]
        log(f"sandbox: {'bubblewrap works here' if available else 'not usable'} ({tool or 'no bwrap on PATH'}"
            f"{', ' + version if version else ''}){': ' + reason if reason else ''}")
        return {"available": available, "tool": tool, "version": version, "reason": reason}

    def measure_subtask(self, n, work, env, where=""):
        plans = self.subtask_plans
        fixture = self.fixture(n)
        copy = os.path.join(work, f"copy-{n}")
        base = git(fixture, "rev-parse", "main").strip()
        rss_files = {s: os.path.join(work, f"rss-{n}-{s}.txt") for s in (S_SMALL, S_LARGE)}
        for path in rss_files.values():
            if os.path.exists(path):
                os.remove(path)
        times, cpu = {}, {}
        log(f"per-sub-task overhead {where}at {n} files: {self.reps} rounds of yardstick S={S_SMALL},{S_LARGE} and ours")
        for round_ in range(self.reps):
            # One round runs the six commands one after the other, each on a fresh copy, so load
            # from other work on the machine hits both sides alike.
            # "ours" runs its checkpoints in the sandbox (`--sandbox on`) when bubblewrap works here, else
            # as `auto` does without it; "ours-nosandbox" is the same run with `--sandbox off`.
            # (`--sandbox` is an option of `run`: before it, `git-orchestrate --sandbox off run` exits 2.)
            setting = "on" if self.sandbox["available"] else "auto"
            commands = []
            for s in (S_SMALL, S_LARGE):
                commands += [
                    (f"git-cli S={s}", f"bash {self.baseline} {copy} {s} {K}"),
                    (f"ours S={s}", f"/usr/bin/time -v -a -o {rss_files[s]} {self.binary} run --sandbox {setting} -C {copy} {plans[s]}"),
                    (f"ours-nosandbox S={s}", f"{self.binary} run --sandbox off -C {copy} {plans[s]}"),
                ]
            result = self.hyperfine(
                f"subtask-{n}-{round_}", commands, runs=1, prepare=self.copy_command(fixture, copy), env=env)
            for label, values in result.items():
                times.setdefault(label, []).extend(values)
                # CPU time (user + system of the process and the children it waited for): less
                # sensitive than wall time to other work on a shared machine.
                cpu.setdefault(label, []).append(self.last_cpu[label])
            # The last command was ours (sandbox off) with S=55: main must hold exactly 55 new sub-task commits.
            count = int(git(copy, "rev-list", "--count", "--first-parent", f"{base}..main").strip())
            subjects = git(copy, "log", "--format=%(trailers:key=Orchestrate-Subtask,valueonly)", f"{base}..main")
            if count != S_LARGE or len([s for s in subjects.split("\n") if s.strip()]) != S_LARGE:
                sys.exit(f"bench: ours S={S_LARGE} at {n} files left {count} commits on main, expected {S_LARGE}")
            log(f"  round {round_ + 1}: " + ", ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in result.items()))
        med = {label: median(values) for label, values in times.items()}
        ours = (med[f"ours S={S_LARGE}"] - med[f"ours S={S_SMALL}"]) / (S_LARGE - S_SMALL) * 1000
        theirs = (med[f"git-cli S={S_LARGE}"] - med[f"git-cli S={S_SMALL}"]) / (S_LARGE - S_SMALL) * 1000
        cpu_med = {label: median(values) for label, values in cpu.items()}
        ours_cpu = (cpu_med[f"ours S={S_LARGE}"] - cpu_med[f"ours S={S_SMALL}"]) / (S_LARGE - S_SMALL) * 1000
        theirs_cpu = (cpu_med[f"git-cli S={S_LARGE}"] - cpu_med[f"git-cli S={S_SMALL}"]) / (S_LARGE - S_SMALL) * 1000
        off = (med[f"ours-nosandbox S={S_LARGE}"] - med[f"ours-nosandbox S={S_SMALL}"]) / (S_LARGE - S_SMALL) * 1000
        off_cpu = (cpu_med[f"ours-nosandbox S={S_LARGE}"] - cpu_med[f"ours-nosandbox S={S_SMALL}"]) / (S_LARGE - S_SMALL) * 1000
        rss = {s: self.max_rss(path) for s, path in rss_files.items()}
        shutil.rmtree(copy, ignore_errors=True)
        log(f"  {n} files {where}: ours {ours:.1f} ms/sub-task (sandbox {'on' if self.sandbox['available'] else 'unavailable'}), "
            f"{off:.1f} with --sandbox off, git-cli {theirs:.1f} ms/sub-task (CPU time: ours {ours_cpu:.1f}, "
            f"{off_cpu:.1f} off, git-cli {theirs_cpu:.1f}), max RSS {rss}")
        return {
            "ours_ms_per_subtask": ours,
            "ours_nosandbox_ms_per_subtask": off,
            "ours_nosandbox_cpu_ms_per_subtask": off_cpu,
            "git_cli_ms_per_subtask": theirs,
            "speedup": theirs / ours if ours > 0 else None,
            "ours_cpu_ms_per_subtask": ours_cpu,
            "git_cli_cpu_ms_per_subtask": theirs_cpu,
            "median_seconds": med,
            "median_cpu_seconds": cpu_med,
            "all_seconds": times,
            "max_rss_mb": {str(s): v for s, v in rss.items()},
        }

    @staticmethod
    def max_rss(path):
        """Largest 'Maximum resident set size' in a /usr/bin/time -v output file, in MB."""
        if not os.path.exists(path):
            return None
        values = [int(v) for v in re.findall(r"Maximum resident set size \(kbytes\): (\d+)", open(path).read())]
        return max(values) / 1024 if values else None

    # MARK: - 2: the second run's set-up, working directory reused

    def bench_second(self):
        n = self.sizes[-1]
        fixture = self.fixture(n)
        repo = self.fresh_copy(fixture, os.path.join(self.work, f"second-{n}"))
        gates = os.path.join(self.work, "gates")
        shutil.rmtree(gates, ignore_errors=True)
        os.makedirs(gates)
        measured = max(self.reps, 5)
        total = measured + 1
        # Sub-task k edits one file, then waits for its gate: without the gate the attempt fails and,
        # with max_attempts 1, the run stops there. So each measured run resumes exactly one sub-task
        # in the workspace the previous run left, lands it, and stops at the next one.
        plan = write_plan(
            os.path.join(self.plans, "second.yml"), "second",
            [(f"k{k:02d}", f"echo 'second {k}' >> {file_path(500 + k)} && test -f {gates}/{k}", "true")
             for k in range(1, total + 1)])
        log(f"second run at {n} files: the first run (creates the workspace), then {measured} measured runs")
        open(os.path.join(gates, "1"), "w").close()
        first = self.timed_run(repo, plan, expect_exit=1)
        samples = []
        for k in range(2, total + 1):
            open(os.path.join(gates, str(k)), "w").close()
            sample = self.timed_run(repo, plan, expect_exit=0 if k == total else 1)
            if sample["setup_ms"] is None or sample["landed_ms"] is None:
                sys.exit(f"bench: the second run {k} did not start and land a sub-task: {sample}")
            samples.append(sample)
            log(f"  run {k}: set-up {sample['setup_ms']:.0f} ms, landed at {sample['landed_ms']:.0f} ms, "
                f"exit at {sample['total_ms']:.0f} ms, max RSS {sample['max_rss_mb']:.0f} MB")
        shutil.rmtree(repo, ignore_errors=True)
        self.results["figures"]["second"] = {
            "files": n,
            "setup_ms": median([s["setup_ms"] for s in samples]),
            "landed_ms": median([s["landed_ms"] for s in samples]),
            "total_ms": median([s["total_ms"] for s in samples]),
            "max_rss_mb": max(s["max_rss_mb"] for s in samples),
            "first_run": first,
            "samples": samples,
        }

    def timed_run(self, repo, plan, expect_exit):
        """`run --json`, timing when the first sub-task starts and lands, and the exit; max RSS from wait4."""
        started = time.perf_counter()
        process = subprocess.Popen(
            [self.binary, "run", "--json", "-C", repo, plan], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=self.env)
        setup = landed = None
        for line in process.stdout:
            now = (time.perf_counter() - started) * 1000
            try:
                event = json.loads(line).get("event")
            except ValueError:
                continue
            if event == "subtask_started" and setup is None:
                setup = now
            elif event == "subtask_completed" and landed is None:
                landed = now
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        total = (time.perf_counter() - started) * 1000
        code = os.waitstatus_to_exitcode(status)
        process.returncode = code
        if code != expect_exit:
            sys.exit(f"bench: run of {plan} exited {code}, expected {expect_exit}: {stderr.decode()[-800:]}")
        return {"setup_ms": setup, "landed_ms": landed, "total_ms": total, "max_rss_mb": usage.ru_maxrss / 1024}

    # MARK: - 3: status over 1,000 completed sub-tasks and 100,000 commits of other history

    def status_repository(self):
        path = os.path.join(self.fixtures, "status")
        marker = path + ".ok"
        stamp = "v1-" + sha256_of(__file__)
        if os.path.exists(marker) and open(marker).read() == stamp:
            return path
        log("making the status repository: 100,000 commits of other history, a plan, 1,000 sub-task commits")
        started = time.monotonic()
        shutil.rmtree(path, ignore_errors=True)
        run(["git", "init", "-q", "-b", "main", path])
        git(path, "config", "user.name", "bench")
        git(path, "config", "user.email", "bench@example.invalid")
        stream = []
        when = 1_600_000_000
        for i in range(1, 100_001):
            content = f"change {i}\n".encode()
            message = f"other work {i}\n".encode()
            stream.append(b"commit refs/heads/main\n")
            stream.append(f"committer Other <other@example.invalid> {when + i} +0000\n".encode())
            stream.append(b"data %d\n%s" % (len(message), message))
            stream.append(b"M 100644 inline other/f%03d.txt\ndata %d\n%s\n" % (i % 100, len(content), content))
        run(["git", "-C", path, "fast-import", "--quiet"], input=b"".join(stream), text=False)
        git(path, "reset", "-q", "--hard", "main")
        total = 1000
        plan = write_plan(
            os.path.join(self.plans, "status.yml"), "status-bench",
            [(f"s{t:04d}", f"echo {t} > done/s{t:04d}.txt", "true") for t in range(1, total + 1)])
        run([self.binary, "plan", "add", "-C", path, plan], env=self.env)
        base = git(path, "rev-parse", "main").strip()
        stream = []
        for t in range(1, total + 1):
            # The exact message `run` writes (Sources/OrchestrateKit/Runner/CommitMessage.swift).
            message = (
                f"s{t:04d}\n\nArtifacts:\n  A done/s{t:04d}.txt\n\n"
                f"Orchestrate-Plan: status-bench\nOrchestrate-Subtask: {t}/{total} s{t:04d}\n"
                f"Orchestrate-Attempts: 1\nOrchestrate-Checkpoint: passed (1 command, 0.0 s)\n"
                f"Orchestrate-Duration: 0.1 s\n").encode()
            content = f"{t}\n".encode()
            stream.append(b"commit refs/heads/main\n")
            stream.append(f"committer bench <bench@example.invalid> {when + 200_000 + t} +0000\n".encode())
            stream.append(b"data %d\n%s" % (len(message), message))
            if t == 1:
                stream.append(f"from {base}\n".encode())
            stream.append(b"M 100644 inline done/s%04d.txt\ndata %d\n%s\n" % (t, len(content), content))
        run(["git", "-C", path, "fast-import", "--quiet"], input=b"".join(stream), text=False)
        git(path, "reset", "-q", "--hard", "main")
        git(path, "gc", "-q")
        with open(path + ".base", "w") as handle:
            handle.write(base)
        with open(marker, "w") as handle:
            handle.write(stamp)
        log(f"  done in {time.monotonic() - started:.1f} s")
        return path

    def bench_status(self):
        repo = self.status_repository()
        base = open(repo + ".base").read().strip()
        report = json.loads(run([self.binary, "status", "--json", "-C", repo, "status-bench"], env=self.env))
        if len(report["completed_subtasks"]) != 1000 or report["total_subtasks"] != 1000:
            sys.exit(f"bench: status reports {len(report['completed_subtasks'])} of {report['total_subtasks']} completed")
        commits = int(git(repo, "rev-list", "--count", "main").strip())
        log(f"status --json on {commits} commits: hyperfine")
        result = self.hyperfine("status", [
            ("ours", f"{self.binary} status --json -C {repo} status-bench"),
            ("git-cli", f"git -C {repo} log --first-parent --format=%(trailers:key=Orchestrate-Subtask,valueonly) {base}..main"),
        ], runs=max(20, self.reps * 5), warmup=3)
        ours, theirs = median(result["ours"]) * 1000, median(result["git-cli"]) * 1000
        self.results["figures"]["status"] = {
            "ms": ours, "git_cli_ms": theirs, "commits": commits, "all_seconds": result}
        log(f"  status {ours:.1f} ms; git log of the plan's range {theirs:.1f} ms")

    # MARK: - 4: verify of 1,000 sub-task commits with recorded passes

    def verify_repository(self):
        """A real `run` of a 1,000-step script plan on a small repository: the most honest records."""
        path = os.path.join(self.work, "verify")
        ran_log = os.path.join(self.work, "verify-checkpoints.log")
        shutil.rmtree(path, ignore_errors=True)
        run(["git", "init", "-q", "-b", "main", path])
        git(path, "config", "user.name", "bench")
        git(path, "config", "user.email", "bench@example.invalid")
        with open(os.path.join(path, "README"), "w") as handle:
            handle.write("verify benchmark\n")
        git(path, "add", "-A")
        git(path, "commit", "-q", "-m", "start")
        total = 1000
        # The checkpoint leaves a line outside the repository each time it runs, so the benchmark
        # can tell that verify ran none.
        plan = write_plan(
            os.path.join(self.plans, "verify.yml"), "verify-bench",
            [(f"v{t:04d}", f"echo {t} >> f{t % 50:02d}.txt", f"test -s f{t % 50:02d}.txt && echo {t} >> {ran_log}")
             for t in range(1, total + 1)])
        log("verify: a real run of a 1,000-step script plan on a small repository")
        started = time.perf_counter()
        run([self.binary, "run", "-C", path, plan], env=self.env)
        seconds = time.perf_counter() - started
        log(f"  the run took {seconds:.1f} s ({seconds * 1000 / total:.1f} ms per sub-task, process starts included)")
        return path, ran_log, seconds

    def bench_verify(self):
        repo, ran_log, run_seconds = self.verify_repository()
        open(ran_log, "w").close()
        output = run([self.binary, "verify", "-C", repo], env=self.env)
        summary = output.strip().split("\n")[-1]
        if "1000 sub-task commits verified: 1000 passed, 0 failed (0 checkpoints run)" not in summary:
            sys.exit(f"bench: verify says: {summary}")
        yardstick = os.path.join(HERE, "verify-git-cli.sh")
        log("verify: hyperfine")
        result = self.hyperfine("verify", [
            ("ours", f"{self.binary} verify -C {repo}"),
            ("git-cli", f"bash {yardstick} {repo}"),
        ], runs=max(10, self.reps * 3), warmup=2)
        if os.path.getsize(ran_log) != 0:
            sys.exit("bench: verify ran a checkpoint command")
        checked = run(["bash", yardstick, repo]).strip()
        if checked != "1000":
            sys.exit(f"bench: the git-cli verification found {checked} passes, expected 1000")
        ours, theirs = median(result["ours"]) * 1000, median(result["git-cli"]) * 1000
        self.results["figures"]["verify"] = {
            "ms": ours, "git_cli_ms": theirs, "commits": 1000, "run_seconds_for_1000_subtasks": run_seconds,
            "all_seconds": result}
        log(f"  verify {ours:.1f} ms; git-cli loop {theirs:.1f} ms")

    # MARK: - 5: MCP get_next_subtask round trip

    def bench_mcp(self):
        n = self.sizes[0]
        repo = self.fresh_copy(self.fixture(n), os.path.join(self.work, "mcp"))
        plan = write_plan(
            os.path.join(self.plans, "mcp.yml"), "mcp-bench",
            [(f"m{t}", edit_command("mcp", t), "true") for t in range(1, 4)])
        run([self.binary, "plan", "add", "-C", repo, plan], env=self.env)
        calls = 1000
        log(f"MCP get_next_subtask: {calls} calls from the Python SDK, then {calls} from a bare JSON-RPC client")
        sdk = asyncio.run(self.mcp_sdk(repo, calls))
        bare = self.mcp_bare(repo, calls)
        self.results["figures"]["mcp"] = {
            "files": n, "calls": calls,
            "sdk_median_ms": median(sdk), "sdk_p90_ms": statistics.quantiles(sdk, n=10)[-1],
            "bare_median_ms": median(bare), "bare_p90_ms": statistics.quantiles(bare, n=10)[-1],
        }
        log(f"  SDK median {median(sdk):.2f} ms, bare JSON-RPC median {median(bare):.2f} ms")

    async def mcp_sdk(self, repo, calls):
        try:
            from mcp import ClientSession, StdioServerParameters
            from mcp.client.stdio import stdio_client
        except ImportError:
            sys.exit("bench: the MCP Python SDK is missing; run `make venv` and use .venv/bin/python")
        params = StdioServerParameters(command=self.binary, args=["mcp", "-C", repo], env=self.env)
        samples = []
        async with stdio_client(params, errlog=open(os.devnull, "w")) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                first = await session.call_tool("get_next_subtask", {"master_task_id": "mcp-bench"})
                if first.isError or not first.structuredContent.get("has_next"):
                    sys.exit(f"bench: get_next_subtask failed: {first.content[0].text[:400]}")
                for _ in range(calls):
                    started = time.perf_counter()
                    result = await session.call_tool("get_next_subtask", {"master_task_id": "mcp-bench"})
                    samples.append((time.perf_counter() - started) * 1000)
                    if result.isError:
                        sys.exit(f"bench: get_next_subtask failed: {result.content[0].text[:400]}")
        return samples

    def mcp_bare(self, repo, calls):
        """Newline-delimited JSON-RPC over the pipes, no SDK: what the server itself costs."""
        process = subprocess.Popen(
            [self.binary, "mcp", "-C", repo], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env=self.env, bufsize=0)
        # Requests written unbuffered, answers read buffered: with bufsize=0, readline() makes one
        # read(2) per byte, ~1.2 ms of the client's own per answer, which this row is not about.
        answers = os.fdopen(process.stdout.fileno(), "rb", closefd=False)

        def request(ident, method, params=None):
            message = {"jsonrpc": "2.0", "id": ident, "method": method}
            if params is not None:
                message["params"] = params
            process.stdin.write((json.dumps(message) + "\n").encode())
            line = answers.readline()
            reply = json.loads(line)
            if "error" in reply or reply.get("result", {}).get("isError"):
                sys.exit(f"bench: MCP {method} failed: {line[:400]}")
            return reply

        request(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                  "clientInfo": {"name": "bench", "version": "1"}})
        process.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
        arguments = {"name": "get_next_subtask", "arguments": {"master_task_id": "mcp-bench"}}
        request(1, "tools/call", arguments)
        samples = []
        for i in range(calls):
            started = time.perf_counter()
            request(2 + i, "tools/call", arguments)
            samples.append((time.perf_counter() - started) * 1000)
        process.stdin.close()
        process.wait(timeout=60)
        return samples

    # MARK: - shapes of issue 18: large changes, a real disk, long plans, verify with nothing cached, a big file

    def file_systems(self):
        """(name, work directory, environment): tmpfs (the main work directory) and the disk, both sides alike."""
        systems = [("tmpfs" if self.work.startswith("/dev/shm") else "disk", self.work, self.env)]
        if os.environ.get("BENCH_FS") == "disk":
            systems = []
        if self.work.startswith("/dev/shm") and os.environ.get("BENCH_FS") != "tmpfs":
            disk = os.path.join(self.out, "work-disk")
            shutil.rmtree(disk, ignore_errors=True)
            os.makedirs(os.path.join(disk, "tmp"))
            systems.append(("disk", disk, dict(self.env, TMPDIR=os.path.join(disk, "tmp"), XDG_STATE_HOME=os.path.join(disk, "state"))))
        return systems

    def shape_size(self):
        return 20000 if 20000 in self.sizes else self.sizes[-1]

    def run_events(self, repo, plan, env, trace=False, expect_exit=0):
        """`run --json`: the client's clock (ms from start) at each `subtask_completed`, the whole run,
        peak RSS (wait4) and, with `trace`, the stderr trace."""
        if trace:
            env = dict(env, ORCHESTRATE_TRACE="1")
        if not os.path.isdir(os.path.join(repo, ".git")):
            sys.exit(f"bench: {repo} is not a repository; not running there")
        started = time.perf_counter()
        process = subprocess.Popen(
            [self.binary, "run", "--json", "-C", repo, plan], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        completed = []
        tail = []
        stderr_chunks = []
        import threading
        reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()))
        reader.start()
        for line in process.stdout:
            now = (time.perf_counter() - started) * 1000
            tail = (tail + [line])[-8:]
            try:
                if json.loads(line).get("event") == "subtask_completed":
                    completed.append(now)
            except ValueError:
                continue
        reader.join()
        _, status, usage = os.wait4(process.pid, 0)
        total = (time.perf_counter() - started) * 1000
        stderr = b"".join(stderr_chunks).decode(errors="replace")
        code = os.waitstatus_to_exitcode(status)
        if code != expect_exit:
            events = b"".join(tail).decode(errors="replace")
            sys.exit(f"bench: run of {plan} in {repo} exited {code}, expected {expect_exit}: {stderr[-800:]}\n{events[-1500:]}")
        return {"completed_ms": completed, "total_ms": total, "max_rss_mb": usage.ru_maxrss / 1024, "stderr": stderr}

    def yardstick_events(self, repo, s, k, n, env, follow=0, edit=None):
        """git-cli-timed.sh: the clock after each sub-task (ms from start), the whole run, peak RSS."""
        script = os.path.join(HERE, "git-cli-timed.sh")
        if edit:
            env = dict(env, EDIT=edit)
        started = time.perf_counter()
        process = subprocess.Popen(
            ["bash", script, repo, str(s), str(k), str(n), str(follow)], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=env, text=True)
        out, err = process.communicate()
        total = (time.perf_counter() - started) * 1000
        if process.returncode != 0:
            sys.exit(f"bench: git-cli-timed.sh failed: {err[-800:]}")
        # $EPOCHREALTIME is wall-clock seconds; make it relative to our start.
        epoch_start = time.time() - total / 1000
        marks = [(float(line.split()[2]) - epoch_start) * 1000 for line in out.splitlines() if line.startswith("subtask ")]
        return {"completed_ms": marks, "total_ms": total}

    @staticmethod
    def per_subtask(marks):
        """The in-run method: (end of the last sub-task − end of the first) / (S − 1)."""
        return (marks[-1] - marks[0]) / (len(marks) - 1) if len(marks) > 1 else None

    @staticmethod
    def trace_marks(stderr, label):
        """Milliseconds of each trace mark whose label starts with `label`."""
        found = []
        for line in stderr.splitlines():
            match = re.match(r"trace\s+([\d.]+) ms\s+(.*?)\s+\[", line)
            if match and match.group(2).strip().startswith(label):
                found.append(float(match.group(1)))
        return found

    def bench_large(self):
        """Issue 18, item 1: K = 5,000 of 20,000 files changed per sub-task, 6 sub-tasks, whole run."""
        n, s, k = self.shape_size(), 6, min(5000, self.shape_size() // 4)
        fixture = self.fixture(n)
        edit = os.path.join(HERE, "edit-files.sh")
        plan = write_plan(
            os.path.join(self.plans, "large.yml"), "large",
            [(f"l{t}", f"bash {edit} . {t} {k} {n}", "true") for t in range(1, s + 1)])
        figure = {"files": n, "k": k, "s": s, "systems": {}}
        for name, work, env in self.file_systems():
            copy = os.path.join(work, "large")
            ours, theirs = [], []
            log(f"large changes ({k} of {n} files per sub-task, {s} sub-tasks) on {name}: {self.reps} rounds")
            for round_ in range(self.reps):
                self.fresh_copy(fixture, copy)
                theirs.append(self.yardstick_events(copy, s, k, n, env, follow=1)["total_ms"])
                self.fresh_copy(fixture, copy)
                ours.append(self.run_events(copy, plan, env)["total_ms"])
                log(f"  round {round_ + 1}: ours {ours[-1]:.0f} ms, git-cli {theirs[-1]:.0f} ms")
            # The checkout update alone: one traced run, against `git reset --hard` of the same change.
            self.fresh_copy(fixture, copy)
            traced = self.run_events(copy, plan, env, trace=True)
            updates = [sum(marks) for marks in zip(*(self.trace_marks(traced["stderr"], label) for label in ("checkout: owed paths", "checkout: index read", "checkout: conflicts", "checkout: files written", "checkout: index written")))]
            conflicts = self.trace_marks(traced["stderr"], "land: user conflicts")
            # By commit id: `reset --hard main~1` would move main itself, and the next `reset --hard
            # main` would write nothing.
            new = git(copy, "rev-parse", "main").strip()
            old = git(copy, "rev-parse", "main~1").strip()
            reset = self.hyperfine(
                f"large-reset-{name}", [("reset", f"git -C {copy} reset -q --hard {new}")], runs=max(5, self.reps),
                prepare=f"git -C {copy} reset -q --hard {old}", env=env)["reset"]
            figure["systems"][name] = {
                "ours_ms": median(ours), "git_cli_ms": median(theirs), "all_ours_ms": ours, "all_git_cli_ms": theirs,
                "checkout_update_ms": median(updates), "checkout_conflicts_ms": median(conflicts),
                "git_reset_hard_ms": median(reset) * 1000, "max_rss_mb": traced["max_rss_mb"]}
            log(f"  {name}: whole run ours {median(ours):.0f} ms, git-cli {median(theirs):.0f} ms; checkout update "
                f"{median(updates):.0f} ms (+ conflicts {median(conflicts):.0f} ms), git reset --hard {median(reset) * 1000:.0f} ms")
            shutil.rmtree(copy, ignore_errors=True)
        self.results["figures"]["large"] = figure

    def bench_inrun(self):
        """Issue 18, item 4: per sub-task at 20k files, K = 5, by the in-run method, on tmpfs and on the disk."""
        n, s = self.shape_size(), 31
        fixture = self.fixture(n)
        plan = write_plan(
            os.path.join(self.plans, "inrun.yml"), "bench",
            [(f"s{t:03d}", edit_command("sub-task", t), "true") for t in range(1, s + 1)])
        figure = {"files": n, "s": s, "systems": {}}
        for name, work, env in self.file_systems():
            copy = os.path.join(work, "inrun")
            ours, theirs, ours_min, theirs_min = [], [], [], []
            log(f"per sub-task, in-run, {n} files on {name}: {self.reps} rounds of S={s}")
            for round_ in range(self.reps):
                self.fresh_copy(fixture, copy)
                marks = self.yardstick_events(copy, s, K, 1000, env)["completed_ms"]
                theirs.append(self.per_subtask(marks))
                theirs_min.append(min(b - a for a, b in zip(marks, marks[1:])))
                self.fresh_copy(fixture, copy)
                marks = self.run_events(copy, plan, env)["completed_ms"]
                ours.append(self.per_subtask(marks))
                ours_min.append(min(b - a for a, b in zip(marks, marks[1:])))
                log(f"  round {round_ + 1}: ours {ours[-1]:.1f} ms/sub-task, git-cli {theirs[-1]:.1f} ms/sub-task")
            figure["systems"][name] = {
                "ours_ms": median(ours), "git_cli_ms": median(theirs), "ours_min_ms": min(ours_min),
                "git_cli_min_ms": min(theirs_min), "all_ours_ms": ours, "all_git_cli_ms": theirs}
            shutil.rmtree(copy, ignore_errors=True)
        self.results["figures"]["inrun"] = figure

    def bench_long(self):
        """Issue 18, item 2: a plan of 10,000 script sub-tasks (BENCH_LONG) on the smallest fixture: the
        last 1,000 against the first 1,000 by the in-run method; then status --json and log on it."""
        total = int(os.environ.get("BENCH_LONG", "10000"))
        block = max(1, total // 10)
        n = self.sizes[0]
        repo = self.fresh_copy(self.fixture(n), os.path.join(self.work, "long"))
        plan = write_plan(
            os.path.join(self.plans, "long.yml"), "long",
            [(f"t{t:05d}", f"echo {t} >> {file_path(t % 1000)}", "true") for t in range(1, total + 1)])
        log(f"long plan: {total} sub-tasks on {n} files")
        result = self.run_events(repo, plan, self.env)
        marks = result["completed_ms"]
        if len(marks) != total:
            sys.exit(f"bench: the long run completed {len(marks)} of {total} sub-tasks")
        first = (marks[block] - marks[0]) / block
        last = (marks[-1] - marks[-1 - block]) / block
        loose = int(re.search(r"count: (\d+)", git(repo, "count-objects", "-v")).group(1))
        loose_refs = sum(len(files) for _, _, files in os.walk(os.path.join(repo, ".git", "refs")))
        log(f"  first {block}: {first:.2f} ms/sub-task, last {block}: {last:.2f} ms/sub-task; {loose} loose objects, "
            f"{loose_refs} loose refs")
        base = git(repo, "rev-list", "--max-parents=0", "main").strip()
        timed = self.hyperfine("long-read", [
            ("status", f"{self.binary} status --json -C {repo} long"),
            ("log", f"{self.binary} log -C {repo} long"),
            ("git-log", f"git -C {repo} log --first-parent --format=%(trailers:key=Orchestrate-Subtask,valueonly) {base}..main"),
        ], runs=max(10, self.reps * 3), warmup=2)
        self.results["figures"]["long"] = {
            "subtasks": total, "block": block, "first_ms": first, "last_ms": last, "whole_s": result["total_ms"] / 1000,
            "loose_objects": loose, "loose_refs": loose_refs, "max_rss_mb": result["max_rss_mb"],
            "status_ms": median(timed["status"]) * 1000, "log_ms": median(timed["log"]) * 1000,
            "git_log_ms": median(timed["git-log"]) * 1000}
        log(f"  status --json {median(timed['status']) * 1000:.0f} ms, log {median(timed['log']) * 1000:.0f} ms, "
            f"git log {median(timed['git-log']) * 1000:.0f} ms")
        shutil.rmtree(repo, ignore_errors=True)

    def bench_coldverify(self):
        """Issue 18, item 3: `verify` of 20 sub-task commits at 20k files with no recorded result."""
        n, s = self.shape_size(), 20
        fixture = self.fixture(n)
        plan = write_plan(
            os.path.join(self.plans, "coldverify.yml"), "cold",
            [(f"c{t:02d}", edit_command("cold", t), "test -s README || true") for t in range(1, s + 1)])
        figure = {"files": n, "commits": s, "systems": {}}
        yardstick = os.path.join(HERE, "verify-cold-git-cli.sh")
        for name, work, env in self.file_systems():
            repo = self.fresh_copy(fixture, os.path.join(work, "coldverify"))
            run([self.binary, "run", "-C", repo, plan], env=env)
            base = git(repo, "rev-parse", f"main~{s}").strip()
            log(f"verify with nothing cached, {s} commits at {n} files on {name}")
            result = self.hyperfine(f"coldverify-{name}", [
                ("ours", f"{self.binary} verify -C {repo}"),
                ("git-cli", f"bash {yardstick} {repo} {base} main"),
            ], runs=self.reps, prepare=f"git -C {repo} update-ref -d refs/notes/orchestrate", env=env)
            figure["systems"][name] = {"ours_ms": median(result["ours"]) * 1000, "git_cli_ms": median(result["git-cli"]) * 1000}
            log(f"  ours {median(result['ours']) * 1000:.0f} ms, reused-worktree git loop {median(result['git-cli']) * 1000:.0f} ms")
            shutil.rmtree(repo, ignore_errors=True)
        self.results["figures"]["coldverify"] = figure

    def bench_bigfile(self):
        """Issue 18, item 6: a 200 MB binary rewritten by each of 4 sub-tasks: time and peak memory, both sides."""
        n, s = self.sizes[0], 4
        size = int(os.environ.get("BENCH_BIG_MB", "200"))
        edit = f"head -c {size}M /dev/urandom > big.bin"
        plan = write_plan(os.path.join(self.plans, "bigfile.yml"), "big", [(f"b{t}", edit, "true") for t in range(1, s + 1)])
        copy = os.path.join(self.work, "bigfile")
        ours, theirs, ours_rss, theirs_rss = [], [], [], []
        log(f"a {size} MB file rewritten by each of {s} sub-tasks: {self.reps} rounds")
        for _ in range(self.reps):
            self.fresh_copy(self.fixture(n), copy)
            started = time.perf_counter()
            process = subprocess.Popen(
                ["bash", os.path.join(HERE, "git-cli-timed.sh"), copy, str(s), "0", str(n), "1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=dict(self.env, EDIT=edit))
            _, status, usage = os.wait4(process.pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"bench: the big-file yardstick failed: {process.stderr.read()[-400:]}")
            theirs.append((time.perf_counter() - started) * 1000)
            theirs_rss.append(usage.ru_maxrss / 1024)
            self.fresh_copy(self.fixture(n), copy)
            result = self.run_events(copy, plan, self.env)
            ours.append(result["total_ms"])
            ours_rss.append(result["max_rss_mb"])
        self.results["figures"]["bigfile"] = {
            "mb": size, "s": s, "ours_ms": median(ours), "git_cli_ms": median(theirs),
            "ours_rss_mb": max(ours_rss), "git_cli_rss_mb": max(theirs_rss)}
        log(f"  ours {median(ours):.0f} ms, peak {max(ours_rss):.0f} MB; git-cli {median(theirs):.0f} ms, peak {max(theirs_rss):.0f} MB")
        shutil.rmtree(copy, ignore_errors=True)

    # MARK: - 12: a parallel run (`run --jobs N`, issue 16)

    def bench_parallel(self):
        """Issue 16: 8 independent agent sub-tasks (sleep, then edit 5 files), `--jobs 1` against `--jobs 4`.

        The agent is a shell script outside the repository, given with `--agent`: it reads its prompt,
        sleeps BENCH_PAR_SLEEP seconds (5) and appends a line to the 5 files of its sub-task with
        edit-files.sh, so no two sub-tasks touch the same file. Every sub-task has `dependencies: []` and
        checkpoint `true`. Each round runs both, in alternating order, each on a fresh copy of the
        fixture, under /usr/bin/time -v; the figures are the medians.
        """
        n, s, jobs = self.shape_size(), 8, 4
        sleep = float(os.environ.get("BENCH_PAR_SLEEP", "5"))
        fixture = self.fixture(n)
        base = git(fixture, "rev-parse", "main").strip()
        if not hasattr(self, "sandbox"):
            self.sandbox = self.probe_sandbox()
            self.results["sandbox"] = self.sandbox
        # As row 1: the sandbox on where bubblewrap works (here it wraps the agent and the checkpoint).
        setting = "on" if self.sandbox["available"] else "auto"
        agent = os.path.join(self.plans, "parallel-agent.sh")
        with open(agent, "w") as handle:
            handle.write(
                "#!/bin/sh\n# The benchmark's agent: reads its prompt, sleeps, edits the 5 files of its sub-task.\n"
                f"cat > /dev/null\nsleep {sleep:g}\n"
                f"exec bash {os.path.join(HERE, 'edit-files.sh')} . \"$ORCHESTRATE_SUBTASK_ORDER\" {K} {n} parallel\n")
        plan = os.path.join(self.plans, "parallel.yml")
        lines = ["id: par", "description: benchmark of a parallel run", "max_attempts: 1",
                 "execution_strategy: parallel", f"jobs: {jobs}", "subtasks:"]
        for t in range(1, s + 1):
            lines += [f"  - id: p{t}", f"    description: sub-task {t} of {s}, independent", "    dependencies: []",
                      "    checkpoint: {commands: [\"true\"]}"]
        with open(plan, "w") as handle:
            handle.write("\n".join(lines) + "\n")
        copy = os.path.join(self.work, "parallel")
        state = os.path.join(self.work, "parallel-state")
        env = dict(self.env, XDG_STATE_HOME=state)
        samples = {1: [], jobs: []}
        log(f"parallel run: {s} independent agent sub-tasks (sleep {sleep:g} s, edit {K} files) at {n} files, "
            f"--jobs 1 against --jobs {jobs}, {self.reps} rounds (~{(s + s // jobs) * sleep * self.reps / 60:.0f} min)")
        for round_ in range(self.reps):
            for j in ((1, jobs) if round_ % 2 == 0 else (jobs, 1)):
                shutil.rmtree(state, ignore_errors=True)
                self.fresh_copy(fixture, copy)
                sample = self.parallel_run(copy, plan, agent, j, setting, env)
                self.check_parallel(copy, base, s, j, sample)
                samples[j].append(sample)
            log(f"  round {round_ + 1}: --jobs 1 {samples[1][-1]['wall_s']:.2f} s, --jobs {jobs} "
                f"{samples[jobs][-1]['wall_s']:.2f} s (agents at once: {samples[1][-1]['max_agents']}, "
                f"{samples[jobs][-1]['max_agents']})")
        shutil.rmtree(copy, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)
        figure = {"files": n, "s": s, "jobs": jobs, "sleep_s": sleep, "k": K, "sandbox": setting, "runs": {}}
        for j, runs in samples.items():
            wall = median([r["wall_s"] for r in runs])
            critical = -(-s // j) * sleep  # ceil(S / jobs) agents one after the other
            figure["runs"][str(j)] = {
                "wall_s": wall, "critical_sleep_s": critical,
                "overhead_ms_per_subtask": (wall - critical) * 1000 / s,
                # After the set-up, as row 1 leaves out the first work folder: from the moment every job
                # slot had its folder and agent (the first agent with --jobs 1) to the end.
                "overhead_after_setup_ms": median(
                    [(r["wall_s"] - critical) * 1000 / s - r["all_busy_ms"] / s for r in runs]),
                "setup_ms": median([r["setup_ms"] for r in runs]),
                "all_busy_ms": median([r["all_busy_ms"] for r in runs]),
                "max_rss_mb": max(r["max_rss_mb"] for r in runs),
                "max_agents": min(r["max_agents"] for r in runs),
                "all_wall_s": [r["wall_s"] for r in runs],
                "all_max_rss_mb": [r["max_rss_mb"] for r in runs],
            }
        figure["ratio"] = figure["runs"][str(jobs)]["wall_s"] / figure["runs"]["1"]["wall_s"]
        self.results["figures"]["parallel"] = figure
        one, many = figure["runs"]["1"], figure["runs"][str(jobs)]
        log(f"  after the set-up: --jobs 1 {one['overhead_after_setup_ms']:.0f} ms/sub-task, --jobs {jobs} "
            f"{many['overhead_after_setup_ms']:.0f} ms/sub-task")
        log(f"  --jobs 1 {one['wall_s']:.2f} s ({one['overhead_ms_per_subtask']:.0f} ms/sub-task over the sleeps, "
            f"peak {one['max_rss_mb']:.0f} MB); --jobs {jobs} {many['wall_s']:.2f} s ({many['overhead_ms_per_subtask']:.0f} "
            f"ms/sub-task, peak {many['max_rss_mb']:.0f} MB); ratio {figure['ratio']:.3f}")

    def parallel_run(self, repo, plan, agent, jobs, setting, env):
        """`run --json --jobs N --agent …` under /usr/bin/time -v: wall time, peak RSS, the clock at each
        agent start and end (to count the agents at once), and the set-up (start → first agent)."""
        rss_file = os.path.join(self.work, "parallel-rss.txt")
        if os.path.exists(rss_file):
            os.remove(rss_file)
        command = ["/usr/bin/time", "-v", "-o", rss_file, self.binary, "run", "--json", "--jobs", str(jobs),
                   "--sandbox", setting, "--agent", f"sh {agent}", "-C", repo, plan]
        import threading
        stderr_chunks = []
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        reader = threading.Thread(target=lambda: stderr_chunks.append(process.stderr.read()))
        reader.start()
        marks, tail = [], []
        for line in process.stdout:
            now = time.perf_counter() - started
            tail = (tail + [line])[-8:]
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") in ("agent_started", "agent_finished"):
                marks.append((now, event["event"], event.get("subtask")))
        process.wait()
        wall = time.perf_counter() - started
        reader.join()
        if process.returncode != 0:
            sys.exit(f"bench: run --jobs {jobs} of {plan} in {repo} exited {process.returncode}: "
                     f"{b''.join(stderr_chunks).decode(errors='replace')[-800:]}\n{b''.join(tail).decode(errors='replace')[-1500:]}")
        at_once = peak = 0
        busy = None  # when as many agents ran at once as ever: every job slot had its work folder and agent
        for now, kind, _ in sorted(marks, key=lambda mark: (mark[0], mark[1] == "agent_started")):
            at_once += 1 if kind == "agent_started" else -1
            if at_once > peak:
                peak, busy = at_once, now
        starts = [t for t, kind, _ in marks if kind == "agent_started"]
        return {"wall_s": wall, "max_rss_mb": self.max_rss(rss_file), "max_agents": peak, "agents": len(starts),
                "setup_ms": min(starts) * 1000 if starts else None, "all_busy_ms": busy * 1000 if busy is not None else None}

    def check_parallel(self, repo, base, s, jobs, sample):
        """The run did what it says: S sub-task commits on main, each sub-task's 5 files, the agents at once."""
        count = int(git(repo, "rev-list", "--count", "--first-parent", f"{base}..main").strip())
        trailers = {line.strip() for line in git(
            repo, "log", "--format=%(trailers:key=Orchestrate-Subtask,valueonly)", f"{base}..main").split("\n") if line.strip()}
        changed = [line for line in git(repo, "diff", "--name-only", base, "main").split("\n") if line.strip()]
        expected_agents = min(jobs, s)
        if count != s or len(trailers) != s or len(changed) != s * K or sample["agents"] != s \
                or sample["max_agents"] != expected_agents:
            sys.exit(f"bench: run --jobs {jobs} left {count} commits on main ({len(trailers)} sub-tasks, {len(changed)} "
                     f"files changed), ran {sample['agents']} agents, at most {sample['max_agents']} at once; expected "
                     f"{s}, {s}, {s * K}, {s}, {expected_agents}")
        if git(repo, "status", "--porcelain", "--untracked-files=no").strip():
            sys.exit(f"bench: after run --jobs {jobs} the user's checkout does not match main")

    # MARK: - report

    def machine(self):
        cpu = "unknown"
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        memory = next((line.split()[1] for line in open("/proc/meminfo") if line.startswith("MemTotal")), "0")
        return {
            "nproc": os.cpu_count(),
            "cpu": cpu,
            "memory_gb": round(int(memory) / 1024 / 1024, 1),
            "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": os.getloadavg(),
            "git": run(["git", "--version"]).strip(),
            "hyperfine": run(["hyperfine", "--version"]).strip(),
            "commit": run(["git", "-C", ROOT, "log", "-1", "--format=%h %s"]).strip(),
        }

    def run_all(self):
        self.results["machine_at_start"] = self.machine()
        started = time.monotonic()
        for figure in ALL_FIGURES:
            if figure in self.only:
                getattr(self, "bench_" + figure)()
        self.results["machine"] = self.machine()
        self.results["machine"]["load_average_at_start"] = self.results["machine_at_start"]["load_average"]
        self.results["elapsed_seconds"] = time.monotonic() - started
        self.results["sizes"] = self.sizes
        self.results["reps"] = self.reps
        if self.work.startswith("/dev/shm/"):
            shutil.rmtree(self.work, ignore_errors=True)  # memory, not disk: give it back
        # Figures not measured this time (BENCH_ONLY, fewer BENCH_SIZES) are kept from the last results,
        # each with the date it was measured, and said to be.
        today = self.results["machine"]["date"]
        dates = {key: today for key in self.results["figures"]}
        previous_path = os.path.join(self.out, "results.json")
        if os.path.exists(previous_path) and set(self.only) != set(ALL_FIGURES):
            previous = json.load(open(previous_path))
            before = previous.get("machine", {}).get("date", "?")

            def measured_on(key):
                if key in previous.get("figure_dates", {}):
                    return previous["figure_dates"][key]
                # results.json written before figure_dates: one date for everything it carried.
                return previous.get("carried_date", before) if key in previous.get("carried", []) else before

            carried = {key: value for key, value in previous.get("figures", {}).items() if key not in self.results["figures"]}
            for key, value in previous.get("figures", {}).items():
                new = self.results["figures"].get(key)
                if not isinstance(new, dict) or not isinstance(value, dict):
                    continue
                # A shape measured on one file system only (BENCH_FS) keeps the other's last figures.
                if "systems" in new and "systems" in value:
                    for fs, row in value["systems"].items():
                        new["systems"].setdefault(fs, dict(row, carried=True, date=row.get("date") or measured_on(key)))
                # Figure 1 measured at fewer sizes (quick mode) keeps the other sizes' last rows.
                if key in ("subtask", "subtask_disk"):
                    for size, row in value.items():
                        if size not in new:
                            new[size] = dict(row, carried=True, date=row.get("date") or measured_on(key))
            if carried:
                self.results["figures"].update(carried)
                self.results["carried"] = sorted(carried)
                dates.update({key: measured_on(key) for key in carried})
                self.results["carried_date"] = min(dates[key] for key in carried)
        self.results["figure_dates"] = dates
        with open(os.path.join(self.out, "results.json"), "w") as handle:
            json.dump(self.results, handle, indent=2, sort_keys=True)
        from report import render
        render(self.results, os.path.join(ROOT, "docs"))
        log(f"done in {self.results['elapsed_seconds'] / 60:.1f} min; wrote {self.out}/results.json and docs/performance.md")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the release git-orchestrate binary")
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "1000 20000 100000"))
    parser.add_argument("--reps", type=int, default=int(os.environ.get("BENCH_REPS", "3")))
    parser.add_argument("--only", default=os.environ.get("BENCH_ONLY", ""), help="comma-separated: " + ",".join(ALL_FIGURES))
    parser.add_argument("--out", default=os.path.join(ROOT, "bench-out"))
    parser.add_argument("--disk-sizes", default=os.environ.get("BENCH_DISK_SIZES", "1000"),
                        help="sizes measured again with the copies on the disk (when the main work directory is tmpfs)")
    parser.add_argument("--work", default=os.environ.get("BENCH_WORK", ""),
                        help="where the copies are measured (default: tmpfs /dev/shm when it has 8 GB free, else OUT/work)")
    options = parser.parse_args()
    if options.reps < 3:
        parser.error("--reps must be at least 3 (medians of fewer runs mean little on a shared machine)")
    for tool in ("hyperfine", "/usr/bin/time", "git"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} is missing (Debian: apt-get install hyperfine time git)")
    Bench(options).run_all()


if __name__ == "__main__":
    sys.dont_write_bytecode = True
    sys.path.insert(0, HERE)
    main()
