"""Renders bench-out/results.json as docs/performance.md and docs/performance.svg.

The notes between `<!-- notes -->` and `<!-- /notes -->` in an existing docs/performance.md are kept,
so an analysis written by hand survives the next `make bench`.
"""

import math
import os
import re

NOTES_START, NOTES_END = "<!-- notes -->", "<!-- /notes -->"


def size_label(n):
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def ms(value, digits=1):
    if value is None:
        return "—"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.{digits}f} ms"


def verdict(value, limit, unit="ms"):
    if value is None:
        return "not measured"
    if value <= limit:
        return f"**met** ({value / limit:.0%} of the target)"
    return f"**missed** by {value - limit:.1f} {unit} ({value / limit:.1f}× the target)"


def ratio(theirs, ours):
    if not theirs or not ours or ours <= 0:
        return "—"
    return f"{theirs / ours:.1f}× faster" if theirs >= ours else f"{ours / theirs:.1f}× slower"


def rows(results):
    figures = results["figures"]
    out = []
    subtask = figures.get("subtask", {})
    for n in sorted(int(k) for k in subtask):
        row = subtask[str(n)]
        limit = {20000: 10.0, 100000: 20.0}.get(n)
        out.append([
            f"1. per-sub-task overhead of `run`, {size_label(n)} files (S=55 − S=5, ÷ 50){kept(row)}",
            ms(row["ours_ms_per_subtask"]), ms(row["git_cli_ms_per_subtask"]),
            ratio(row["git_cli_ms_per_subtask"], row["ours_ms_per_subtask"]),
            f"≤ {limit:.0f} ms" if limit else "flat", verdict(row["ours_ms_per_subtask"], limit) if limit else "—"])
        if row.get("ours_cpu_ms_per_subtask") is not None:
            out.append([
                f"1c. the same in CPU time (user + system, children included), {size_label(n)} files{kept(row)}",
                ms(row["ours_cpu_ms_per_subtask"]), ms(row["git_cli_cpu_ms_per_subtask"]),
                ratio(row["git_cli_cpu_ms_per_subtask"], row["ours_cpu_ms_per_subtask"]), "(context)", "—"])
        if row.get("ours_nosandbox_ms_per_subtask") is not None:
            out.append(sandbox_row(n, row))
    disk = figures.get("subtask_disk", {})
    for n in sorted(int(k) for k in disk):
        row = disk[str(n)]
        out.append([
            f"1d. per-sub-task overhead with the copies on the ext4 disk instead of tmpfs, {size_label(n)} files{kept(row)}",
            ms(row["ours_ms_per_subtask"]), ms(row["git_cli_ms_per_subtask"]),
            ratio(row["git_cli_ms_per_subtask"], row["ours_ms_per_subtask"]), "(context)", "—"])
    second = figures.get("second")
    if second:
        label = size_label(second["files"])
        out.append([
            f"2. second run's set-up, {label} files, working directory reused (process start → `subtask_started`)",
            ms(second["setup_ms"]), "—", "—", "≤ 100 ms", verdict(second["setup_ms"], 100.0)])
        out.append([
            f"2b. same runs: start → the resumed sub-task landed on main / → process exit",
            f"{ms(second['landed_ms'])} / {ms(second['total_ms'])}", "—", "—", "(context)", "—"])
    status = figures.get("status")
    if status:
        out.append([
            f"3. `status --json`, 1,000 completed sub-tasks over {status['commits'] - 1000:,} commits of other history",
            ms(status["ms"]), ms(status["git_cli_ms"]) + " ¹", ratio(status["git_cli_ms"], status["ms"]), "≤ 50 ms",
            verdict(status["ms"], 50.0)])
    verify = figures.get("verify")
    if verify:
        out.append([
            "4. `verify` of 1,000 sub-task commits with recorded passes (no checkpoint run)",
            ms(verify["ms"]), ms(verify["git_cli_ms"]) + " ²", ratio(verify["git_cli_ms"], verify["ms"]), "≤ 100 ms",
            verdict(verify["ms"], 100.0)])
    mcp = figures.get("mcp")
    if mcp:
        out.append([
            f"5. MCP `get_next_subtask` round trip, official Python SDK client, median of {mcp['calls']:,}",
            ms(mcp["sdk_median_ms"], 2), "—", "—", "≤ 5 ms", verdict(mcp["sdk_median_ms"], 5.0)])
        out.append([
            "5b. same, bare JSON-RPC client over the pipes, answers read buffered (the server's share)",
            ms(mcp["bare_median_ms"], 2), "—", "—", "≤ 1.5 ms", verdict(mcp["bare_median_ms"], 1.5)])
    out += shape_rows(figures)
    if subtask:
        largest = max(int(k) for k in subtask)
        rss = subtask[str(largest)]["max_rss_mb"].get("55")
        out.append([
            f"6. peak memory (max RSS, /usr/bin/time -v) of `run` S=55 on {size_label(largest)} files{kept(subtask[str(largest)])}",
            f"{rss:.0f} MB" if rss else "—", "—", "—", "≤ 100 MB", verdict(rss, 100.0, "MB")])
    out += parallel_rows(results)
    return out


def sequential_row(results, n):
    """Row 1 at n files (the sequential per-sub-task figure) and where it comes from: this run or a date."""
    row = results["figures"].get("subtask", {}).get(str(n))
    if not row:
        return None, "not measured"
    if "subtask" in results.get("carried", []):
        return row, f"kept from {row.get('date') or results.get('figure_dates', {}).get('subtask', 'an earlier run')}"
    if row.get("carried"):
        return row, f"kept from {row.get('date', 'an earlier run')}"
    return row, "this run"


def parallel_rows(results):
    """12: a parallel run (issue 16), `--jobs N` against `--jobs 1` in the same rounds."""
    par = results["figures"].get("parallel")
    if not par:
        return []
    jobs = par["jobs"]
    one, many = par["runs"]["1"], par["runs"][str(jobs)]
    dated = f" — *kept from {results.get('figure_dates', {}).get('parallel', 'an earlier run')}*" \
        if "parallel" in results.get("carried", []) else ""
    shape = (f"{par['s']} independent agent sub-tasks (the agent sleeps {par['sleep_s']:g} s, then edits {par['k']} files; "
             f"checkpoint `true`), {size_label(par['files'])} files, tmpfs, `--sandbox {par['sandbox']}`")
    sequential, source = sequential_row(results, par["files"])
    limit = sequential["ours_ms_per_subtask"] if sequential else None

    after_many, after_one = many.get("overhead_after_setup_ms"), one.get("overhead_after_setup_ms")
    rows = [
        [f"12. parallel run: {shape}; wall time of `run --jobs {jobs}` against `run --jobs 1` (same rounds, "
         f"at most {many['max_agents']} and {one['max_agents']} agents at once){dated}",
         f"{many['wall_s']:.2f} s", f"{one['wall_s']:.2f} s (`--jobs 1`)", f"{many['wall_s'] / one['wall_s']:.3f}×",
         "≤ 0.35×", within(many["wall_s"], one["wall_s"], 0.35, digits=3)],
    ]
    if after_many is not None and after_one is not None:
        rows.append(
            [f"12b. the same runs: orchestration overhead per sub-task after the set-up, (wall − set-up − the agents' "
             f"sleep on the critical path) / {par['s']}, `--jobs {jobs}` against `--jobs 1` (the sequential figure of the "
             f"same plan; set-up = start → every job slot's agent running; row 1, script steps, {size_label(par['files'])} "
             f"files, {source}: {ms(limit)}){dated}",
             ms(after_many), f"{ms(after_one)} (`--jobs 1`)", ratio(after_one, after_many),
             "≤ `--jobs 1`", "**met**" if after_many <= after_one else "**missed**"])
    rows.append(
        [f"12d. the same runs, the set-up included: (wall − the agents' sleep on the critical path) / {par['s']}, "
         f"`--jobs {jobs}` / `--jobs 1`; set-up, start → first agent: {ms(many['setup_ms'])} / {ms(one['setup_ms'])}, "
         f"start → {many['max_agents']} agents running: {ms(many.get('all_busy_ms'))} (one work folder per job slot: "
         f"{jobs} made at {size_label(par['files'])} files against 1){dated}",
         f"{ms(many['overhead_ms_per_subtask'])} / {ms(one['overhead_ms_per_subtask'])}", "—",
         f"{many['overhead_ms_per_subtask'] / one['overhead_ms_per_subtask']:.2f}×", "(context)", "—"])
    return rows + [
        [f"12c. the same runs: peak memory (max RSS, /usr/bin/time -v), `--jobs {jobs}` / `--jobs 1`{dated}",
         f"{many['max_rss_mb']:.0f} MB / {one['max_rss_mb']:.0f} MB", "—", f"{many['max_rss_mb'] / one['max_rss_mb']:.2f}×",
         "(reported)", "—"],
    ]


def signed(value):
    return "—" if value is None else f"{value:+.1f} ms"


def sandbox_row(n, row):
    """1s: figure 1 with `run --sandbox off`, and what the sandbox costs per sub-task (row 1 − row 1s)."""
    on, off = row["ours_ms_per_subtask"], row["ours_nosandbox_ms_per_subtask"]
    on_cpu, off_cpu = row.get("ours_cpu_ms_per_subtask"), row.get("ours_nosandbox_cpu_ms_per_subtask")
    sandbox = row.get("sandbox") or {}
    if sandbox.get("available"):
        tool = f"{sandbox.get('version') or 'bubblewrap'}, {sandbox.get('tool')}"
        label = (f"1s. the same with `run --sandbox off`, {size_label(n)} files; row 1 ran `--sandbox on`, each "
                 f"checkpoint in bubblewrap ({tool}; script `run:` steps are never sandboxed)")
        verdict = f"sandbox on − off: **{signed(on - off)}** per sub-task (CPU time {signed(on_cpu - off_cpu if on_cpu is not None and off_cpu is not None else None)})"
    else:
        label = (f"1s. the same with `run --sandbox off`, {size_label(n)} files; **row 1 is no sandbox figure**: "
                 f"bubblewrap is not usable here ({sandbox.get('reason') or 'not probed'}), so `auto` ran without it")
        verdict = f"row 1 − row 1s: {signed(on - off)} (both without a sandbox: noise)"
    return [label + kept(row), ms(off), ms(row["git_cli_ms_per_subtask"]), ratio(row["git_cli_ms_per_subtask"], off), "(context)", verdict]


def within(ours, theirs, factor, digits=2):
    """The verdict of a target `ours ≤ factor × theirs`."""
    if not ours or not theirs:
        return "not measured"
    limit = theirs * factor
    shown = f"{ours / theirs:.{digits}f}× against ≤ {factor:g}×"
    return f"**met** ({shown})" if ours <= limit else f"**missed** ({shown})"


def shape_rows(figures):
    """The shapes of issue 18, each row naming the file system it ran on."""
    out = []
    large = figures.get("large")
    if large:
        for fs, row in large["systems"].items():
            out.append([
                f"7. large changes: {large['k']:,} of {size_label(large['files'])} files changed per sub-task, "
                f"{large['s']} sub-tasks, whole run, the user's checkout following main ({fs}){kept(row)}",
                ms(row["ours_ms"]), ms(row["git_cli_ms"]) + " ³", ratio(row["git_cli_ms"], row["ours_ms"]),
                "faster than the yardstick", within(row["ours_ms"], row["git_cli_ms"], 1.0)])
            out.append([
                f"7b. the same: updating the user's checkout for one sub-task (+ its conflict check) against "
                f"`git reset --hard` of the same change ({fs})",
                f"{ms(row['checkout_update_ms'])} (+ {ms(row['checkout_conflicts_ms'])})", ms(row["git_reset_hard_ms"]),
                ratio(row["git_reset_hard_ms"], row["checkout_update_ms"]), "≤ 1.5× `git reset --hard`",
                within(row["checkout_update_ms"], row["git_reset_hard_ms"], 1.5)])
    inrun = figures.get("inrun")
    if inrun:
        for fs, row in inrun["systems"].items():
            out.append([
                f"8. per sub-task, in-run method (end of sub-task 1 → end of sub-task {inrun['s']}), "
                f"{size_label(inrun['files'])} files, K=5 ({fs}; fastest sub-task {ms(row['ours_min_ms'])}){kept(row)}",
                ms(row["ours_ms"]), ms(row["git_cli_ms"]) + " ³", ratio(row["git_cli_ms"], row["ours_ms"]), "≤ 10 ms",
                verdict(row["ours_ms"], 10.0)])
    long_ = figures.get("long")
    if long_:
        out.append([
            f"9. a {long_['subtasks']:,}-sub-task plan: per sub-task in its last {long_['block']:,} against its first "
            f"{long_['block']:,} (in-run, tmpfs; {long_['loose_objects']:,} loose objects, {long_['loose_refs']:,} loose refs at the end)",
            f"{ms(long_['last_ms'], 2)} / {ms(long_['first_ms'], 2)}", "—", f"{long_['last_ms'] / long_['first_ms']:.2f}×",
            "≤ 1.2×", within(long_["last_ms"], long_["first_ms"], 1.2)])
        for name, key in (("`status --json`", "status_ms"), ("`log`", "log_ms")):
            out.append([
                f"9b. {name} of that plan, {long_['subtasks']:,} sub-tasks completed", ms(long_[key]),
                ms(long_["git_log_ms"]) + " ¹", ratio(long_["git_log_ms"], long_[key]), "≤ 100 ms", verdict(long_[key], 100.0)])
    cold = figures.get("coldverify")
    if cold:
        for fs, row in cold["systems"].items():
            out.append([
                f"10. `verify` with nothing recorded: {cold['commits']} sub-task commits at {size_label(cold['files'])} files ({fs}){kept(row)}",
                ms(row["ours_ms"]), ms(row["git_cli_ms"]) + " ⁴", ratio(row["git_cli_ms"], row["ours_ms"]),
                "≤ 1.2× the reused-worktree loop", within(row["ours_ms"], row["git_cli_ms"], 1.2)])
    big = figures.get("bigfile")
    if big:
        out.append([
            f"11. a {big['mb']} MB binary rewritten by each of {big['s']} sub-tasks: peak memory (max RSS) (tmpfs)",
            f"{big['ours_rss_mb']:.0f} MB", f"{big['git_cli_rss_mb']:.0f} MB ³", f"{big['ours_rss_mb'] / big['git_cli_rss_mb']:.2f}×",
            "≤ 1.2× git's", within(big["ours_rss_mb"], big["git_cli_rss_mb"], 1.2)])
        out.append([
            f"11b. the same runs, whole run time (tmpfs)", ms(big["ours_ms"]), ms(big["git_cli_ms"]) + " ³",
            ratio(big["git_cli_ms"], big["ours_ms"]), "(context)", "—"])
    return out


def svg(results):
    """Milliseconds per sub-task against repository size, both sides, log–log."""
    subtask = results["figures"].get("subtask", {})
    sizes = sorted(int(k) for k in subtask)
    if not sizes:
        return None
    width, height, left, right, top, bottom = 640, 400, 70, 170, 40, 50
    xs = [1000, 100000] if len(sizes) < 2 else [min(sizes), max(sizes)]
    x_lo, x_hi = math.log10(xs[0]) - 0.15, math.log10(xs[1]) + 0.15
    values = [v for n in sizes for v in (subtask[str(n)]["ours_ms_per_subtask"], subtask[str(n)]["git_cli_ms_per_subtask"])]
    values = [v for v in values if v and v > 0] + [10, 20]
    y_lo, y_hi = math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))

    def px(n):
        return left + (math.log10(n) - x_lo) / (x_hi - x_lo) * (width - left - right)

    def py(v):
        v = max(v, 10 ** y_lo)
        return top + (y_hi - math.log10(v)) / (y_hi - y_lo) * (height - top - bottom)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2 - 60}" y="22" font-size="14" text-anchor="middle">Orchestration overhead per sub-task (K=5 files edited)</text>',
    ]
    for exponent in range(y_lo, y_hi + 1):
        y = py(10 ** exponent)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#ddd"/>')
        label = f"{10 ** exponent:g}"
        parts.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{label} ms</text>')
    for n in sizes:
        x = px(n)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{height - bottom}" stroke="#eee"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 18}" text-anchor="middle">{size_label(n)} files</text>')
    parts.append(f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>')
    series = [("git CLI yardstick", "git_cli_ms_per_subtask", "#c0392b"), ("git orchestrate run", "ours_ms_per_subtask", "#2471a3")]
    for index, (name, key, colour) in enumerate(series):
        points = [(px(n), py(subtask[str(n)][key])) for n in sizes if subtask[str(n)][key] is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for n, (x, y) in zip(sizes, points):
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>')
            parts.append(f'<text x="{x + 7:.1f}" y="{y - 6:.1f}" fill="{colour}">{subtask[str(n)][key]:.1f}</text>')
        ly = top + 20 + index * 20
        parts.append(f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 35}" y2="{ly}" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{width - right + 40}" y="{ly + 4}">{name}</text>')
    for n, limit in ((20000, 10), (100000, 20)):
        if n in sizes:
            x, y = px(n), py(limit)
            parts.append(f'<line x1="{x - 12:.1f}" y1="{y:.1f}" x2="{x + 12:.1f}" y2="{y:.1f}" stroke="#27ae60" stroke-width="3"/>')
    ly = top + 60
    parts.append(f'<line x1="{width - right + 15}" y1="{ly}" x2="{width - right + 35}" y2="{ly}" stroke="#27ae60" stroke-width="3"/>')
    parts.append(f'<text x="{width - right + 40}" y="{ly + 4}">target</text>')
    parts.append(f'<text x="{left + (width - left - right) / 2}" y="{height - 10}" text-anchor="middle">repository size (log scale)</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def carried_text(results):
    """Which figures this run did not measure, and when each was measured."""
    carried = results.get("carried")
    if not carried:
        return ""
    dates = results.get("figure_dates", {})
    by_date = {}
    for key in sorted(carried):
        by_date.setdefault(dates.get(key) or results.get("carried_date", "?"), []).append(key)
    if len(by_date) == 1:
        return f" Figures not measured in this run ({', '.join(carried)}) are kept from the run of {next(iter(by_date))}."
    parts = "; ".join(f"{', '.join(keys)} from {date}" for date, keys in sorted(by_date.items()))
    return f" Figures not measured in this run are kept from earlier runs: {parts}."


def kept(row):
    """The mark of a row kept from an earlier run."""
    return f" — *kept from {row.get('date', 'an earlier run')}*" if row.get("carried") else ""


def render(results, docs):
    os.makedirs(docs, exist_ok=True)
    path = os.path.join(docs, "performance.md")
    notes = ""
    if os.path.exists(path):
        match = re.search(re.escape(NOTES_START) + r"(.*?)" + re.escape(NOTES_END), open(path).read(), re.S)
        if match:
            notes = match.group(1).strip("\n")
    picture = svg(results)
    if picture:
        with open(os.path.join(docs, "performance.svg"), "w") as handle:
            handle.write(picture)
    machine = results["machine"]
    sizes = results.get("sizes", [])
    table = ["| figure | ours | yardstick (git CLI, same run) | ratio | target | verdict |", "| --- | --- | --- | --- | --- | --- |"]
    table += ["| " + " | ".join(row) + " |" for row in rows(results)]
    quick = sizes and max(sizes) < 100000
    lines = [
        "# Performance",
        "",
        "Generated by `make bench` (bench/bench.py); do not edit by hand except between the notes markers.",
        "The targets and the yardstick are described in bench/README.md.",
        "",
        f"Measured on **{machine['commit']}**, {machine['date']}" + (" — **quick mode**, not the full run" if quick else "") + "."
        + carried_text(results),
        "",
        "## Latest results",
        "",
        *table,
        "",
        "¹ `git log --first-parent --format=%(trailers:key=Orchestrate-Subtask,valueonly) BASE..main`: reading the plan's range by hand.",
        "² bench/verify-git-cli.sh: per sub-task commit on main, `git notes --ref=orchestrate show <tree>` and a grep for a pass.",
        "³ bench/git-cli-timed.sh: git-cli-baseline.sh's loop for these shapes (the same edit-files.sh or edit as ours); in rows 7 and 11 the user's checkout follows main (`git merge --ff-only`), as it does with `run`.",
        "⁴ bench/verify-cold-git-cli.sh: one temporary worktree moved from commit to commit (`git checkout --force --detach`, `git clean -ffdx`), the checkpoint run in it.",
        "",
        "![milliseconds per sub-task against repository size](performance.svg)",
        "",
        "## Machine",
        "",
        f"- {machine['nproc']} cores, {machine['cpu']}, {machine['memory_gb']} GB memory, Linux {machine['kernel']}",
        f"- {machine['git']}, {machine['hyperfine']}",
        f"- load average at start {', '.join(f'{v:.2f}' for v in machine['load_average_at_start'])}, "
        f"at the end {', '.join(f'{v:.2f}' for v in machine['load_average'])} "
        "(a shared machine: other builds ran beside the benchmark; figures against the yardstick are ratios measured in the same run)",
        f"- {results['reps']} rounds per size; the whole benchmark took {results['elapsed_seconds'] / 60:.1f} min",
        "",
        "## What is measured",
        "",
        "1. **Per-sub-task overhead.** A plan of S script sub-tasks (S = 5 and S = 55), each one `run` step that appends a line to the",
        "   same 5 files the yardstick's sub-task edits, with checkpoint `true`; `git-orchestrate run -C COPY PLAN` timed by hyperfine",
        "   (no shell), each run on a fresh `cp -a` copy of the packed fixture (make-fixture.sh, then `git gc`). The yardstick is",
        "   git-cli-baseline.sh with the same S on the same kind of copy. Each round runs the six commands one after the other",
        "   (so load from other work hits both sides alike); figure = (median(S=55) − median(S=5)) / 50. The creation of the",
        "   workspace in the first sub-task is in both S=5 and S=55 and cancels out, as the yardstick's `git worktree add` does.",
        "   Row 1 runs `run --sandbox on` when a probe run finds bubblewrap usable (each checkpoint command then starts inside",
        "   `bwrap`; the script `run:` steps are trusted and never sandboxed), else the default `auto`, which runs without it and",
        "   the row says so; row 1s is the same plan, in the same rounds, with `run --sandbox off`, and gives on − off.",
        "2. **Second run's set-up.** On a copy of the largest fixture, a plan whose sub-task k edits one file and then needs a gate",
        "   file outside the repository (`max_attempts: 1`). A first run creates the workspace, lands sub-task 1 and stops at 2; each",
        "   measured run opens the gate of the stopped sub-task, so it resumes that one sub-task in the reused working directory,",
        "   lands it and stops at the next. The figure is the time from process start to the `subtask_started` event of",
        "   `run --json` (repository opened, lock taken, history read, branch created or found, workspace opened and switched, its",
        "   state read): everything before the agent could start. Line 2b gives the landing of that sub-task and the whole process.",
        "3. **Status.** A repository built with `git fast-import`: 100,000 commits of other history, a 1,000-sub-task plan added with",
        "   `git-orchestrate plan add` (its base is main's tip), then 1,000 commits carrying exactly the trailers `run` writes on main's",
        "   first-parent line. `git-orchestrate status --json -C REPO PLAN`, whole process, hyperfine; checked to report 1,000 completed.",
        "4. **Verify.** A real `run` of a 1,000-step script plan on a small repository records the checkpoint results; then",
        "   `git-orchestrate verify -C REPO` (no upstream: every sub-task commit of main), whole process, hyperfine. The checkpoint",
        "   writes a line outside the repository whenever it runs; the benchmark checks that verify ran none and passed 1,000.",
        "5. **MCP.** `git-orchestrate mcp` on a copy of the smallest fixture with a 3-sub-task plan; the official Python SDK client",
        "   (`ClientSession.call_tool`, outputSchema validation included) calls `get_next_subtask` once to prepare the sub-task, then",
        "   1,000 times, each timed on the client. 5b repeats it with newline-delimited JSON-RPC written straight to the pipes",
        "   (the answers read through a buffered reader: unbuffered, Python's readline() reads a byte per system call, ~1.2 ms a call).",
        "6. **Peak memory.** `/usr/bin/time -v` around every `run` of figure 1; the largest maximum RSS of S=55 on the largest fixture.",
        "12. **Parallel run (issue 16).** A plan of 8 sub-tasks, each `dependencies: []` and checkpoint `true`, no `run:` steps;",
        "   the agent (`--agent \"sh parallel-agent.sh\"`, a script outside the repository written by bench.py) reads its prompt,",
        "   sleeps 5 s (`BENCH_PAR_SLEEP`) and appends a line to the 5 files of its sub-task with edit-files.sh, so no two",
        "   sub-tasks touch one file. On a fresh `cp -a` copy of the 20k-file fixture (else the largest size in BENCH_SIZES) on tmpfs,",
        "   `run --json --jobs N --sandbox on` (as row 1; `auto` where bubblewrap does not work) under `/usr/bin/time -v`, the",
        "   wall time taken around it. Each round runs `--jobs 1` and `--jobs 4`, in alternating order; figures are the medians",
        "   over the rounds (`BENCH_REPS`), peak memory the largest. After each run the benchmark checks 8 sub-task commits on",
        "   main (first-parent, 8 distinct `Orchestrate-Subtask` trailers), the 40 files changed, the user's checkout at main,",
        "   and, from the `agent_started` / `agent_finished` events, that 4 agents (`--jobs 4`) or 1 (`--jobs 1`) ran at once.",
        "   The agents' sleep on the critical path is ⌈8 / N⌉ × 5 s: 40 s with `--jobs 1`, 10 s with `--jobs 4`; what is",
        "   left is everything the tool does (process start, work folders, each agent's and checkpoint's start, commits,",
        "   landing with the checkpoint again on main's tip, the user's checkout) plus the edits. 12b is that per sub-task",
        "   after the set-up (start → the moment every job slot's agent ran: the first agent with `--jobs 1`), so, as row 1",
        "   leaves out the first work folder (S=55 − S=5), it leaves out the making of the work folders, one per job slot;",
        "   its target is the sequential figure of the same plan, `--jobs 1`. 12d gives it with the set-up, and the set-up.",
        "",
        f"Copies and their runs live in `{results.get('work_directory', 'bench-out/work')}`"
        + (" (tmpfs: on this VM's ext4 disk creating a file costs ~0.4 ms of kernel time, so one `cp -a` of the 100k fixture"
           " takes about a minute there against 4 s on tmpfs; `BENCH_WORK=dir` measures elsewhere). The yardstick's `mktemp -d`"
           " worktree is put there too (TMPDIR), so both sides work on the same file system."
           if str(results.get("work_directory", "")).startswith("/dev/shm") else "; the yardstick's worktree too (TMPDIR)."),
        "`git-orchestrate` is the release build (`make release`: on Linux with `--static-swift-stdlib`, the Swift runtime and Foundation linked in), called directly (through `git orchestrate` git adds one exec, about 1 ms).",
        "Raw numbers: bench-out/results.json. Quick mode: `make bench BENCH_SIZES=\"1000 20000\"` (figures 2 and 6 then use the",
        "largest size given); `BENCH_ONLY=subtask,status` picks figures; `BENCH_REPS` sets the rounds (at least 3).",
        "",
        "## Notes",
        "",
        NOTES_START,
        notes,
        NOTES_END,
        "",
    ]
    with open(path, "w") as handle:
        handle.write("\n".join(lines))


if __name__ == "__main__":
    # Re-render docs/performance.md from a results.json without measuring again (e.g. after editing the notes).
    import json
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "bench-out", "results.json")
    with open(source) as handle:
        render(json.load(handle), os.path.join(root, "docs"))
