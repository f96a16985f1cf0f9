"""Drives `git-orchestrate mcp` in parallel dispatch with the official MCP Python SDK.

Usage: python drive_parallel.py <git-orchestrate binary> <repository>

What a master agent does with `get_next_subtask(count=N)`: several ready sub-tasks handed out at
once, each in its own workdir and branch, worked on in those folders, then completed one by one
through the same compare-and-swap queue. Checks that independent sub-tasks land one commit each
(the second replayed onto the first and validated again), that a dependent sub-task is not handed
out before its dependencies land, that a restarted server finds each sub-task in its folder, and
that two sub-tasks editing the same line end in a reported conflict (the work redone on main's tip)
while main never holds a tree whose checkpoint did not pass on it. Exits 1 with the failed checks.
"""

import asyncio
import os
import subprocess

from interop import BINARY, REPO, call, check, finish, git, server


def subtask(sid, order, description, commands, dependencies):
    return {
        "id": sid, "order": order, "description": description, "orchestration_prompt": description,
        "estimated_complexity": "small", "dependencies": dependencies,
        "checkpoint": {"description": description, "commands": commands},
    }


FAN = {
    "task_id": "fan",
    "description": "Two independent halves, then what needs both",
    "subtasks": [
        subtask("left", 1, "Write the left half", ["grep -q left left.txt"], []),
        subtask("right", 2, "Write the right half", ["grep -q right right.txt"], []),
        subtask("join", 3, "Join the halves",
                ["grep -q left left.txt", "grep -q right right.txt", "grep -q joined join.txt"], ["left", "right"]),
    ],
}

CLASH = {
    "task_id": "clash",
    "description": "Three edits of one file",
    "subtasks": [
        subtask("alpha", 1, "Put alpha on the first line", ["head -1 shared.txt | grep -qx alpha"], []),
        subtask("beta", 2, "Put beta on the first line", ["grep -qx beta shared.txt"], []),
        subtask("omega", 3, "Put omega on the last line", ["tail -1 shared.txt | grep -qx omega"], []),
    ],
}

SHARED = "first\n2\n3\n4\n5\n6\nlast\n"


def main_subjects(since):
    return git("log", "--first-parent", "--format=%s", f"{since}..main").splitlines()


def verify_main(since, what):
    """Every sub-task commit on main since `since` has a pass recorded for its exact tree (nothing runs)."""
    out = subprocess.run([BINARY, "verify", "--cached", "--json", f"{since}..main", "-C", REPO],
                         capture_output=True, text=True)
    check(out.returncode == 0, f"{what}: verify --cached failed: {out.stdout[-800:]} {out.stderr[-400:]}")


def by_id(result):
    return {entry.get("subtask", {}).get("id"): entry for entry in result.get("subtasks", [])}


def write(workdir, name, text):
    with open(os.path.join(workdir, name), "w") as handle:
        handle.write(text)


async def fan_out():
    start = git("rev-parse", "main")
    async with server() as (session, _):
        stored = await call(session, "decompose_task", FAN)
        check(stored.get("total_subtasks") == 3, f"decompose_task: {stored}")
        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        check("count" in tools["get_next_subtask"].inputSchema.get("properties", {}), "count is not declared")
        await call(session, "get_next_subtask", {"master_task_id": "fan", "count": 0}, expect_error=True)
        await call(session, "get_next_subtask", {"master_task_id": "fan", "count": "two"}, expect_error=True)

        handed = await call(session, "get_next_subtask", {"master_task_id": "fan", "count": 3})
        entries = by_id(handed)
        check(sorted(entries) == ["left", "right"], f"count 3 handed out {sorted(entries)}, expected left and right")
        check("subtask" not in handed and "workdir" not in handed, "count 3 also gave the single-mode fields")
        check(handed.get("waiting") == [{"id": "join", "waiting_for": ["left", "right"]}],
              f"join is not waiting for its dependencies: {handed.get('waiting')}")
        left, right = entries.get("left", {}), entries.get("right", {})
        workdirs = {left.get("workdir"), right.get("workdir")}
        check(len(workdirs) == 2 and all(w and os.path.isdir(w) for w in workdirs), f"workdirs {workdirs}")
        check(left.get("branch") != right.get("branch"), "the two sub-tasks share a branch")
        check(all(not e.get("in_progress") for e in entries.values()), "new sub-tasks are marked in progress")
        for entry in entries.values():
            check(entry.get("workdir", "?") in entry.get("subtask", {}).get("orchestration_prompt", ""),
                  "an orchestration prompt does not name its own workdir")

        # Not handed out: join (waiting), and validation of it is refused.
        refused = await call(session, "validate_checkpoint", {"master_task_id": "fan", "subtask_id": "join"},
                             expect_error=True)
        check("join" in refused.get("error", ""), f"refusal does not name the sub-task: {refused}")

        # The conductors work, each in its own folder.
        write(left["workdir"], "left.txt", "left\n")
        write(right["workdir"], "right.txt", "right\n")
        check(not os.path.exists(os.path.join(left["workdir"], "right.txt")), "the folders are not separate")

        # Asked again: the same two, in progress, the work kept; nothing new.
        again = by_id(await call(session, "get_next_subtask", {"master_task_id": "fan", "count": 3}))
        check(sorted(again) == ["left", "right"] and all(e.get("in_progress") for e in again.values()),
              f"asking again: {again.keys()} {[e.get('in_progress') for e in again.values()]}")
        check(again.get("left", {}).get("workdir") == left["workdir"], "left moved to another folder")
        # Single mode still answers the next sub-task in order, in its own folder.
        single = await call(session, "get_next_subtask", {"master_task_id": "fan"})
        check(single.get("subtask", {}).get("id") == "left" and single.get("workdir") == left["workdir"],
              f"count 1 after count 3: {single.get('subtask', {}).get('id')} in {single.get('workdir')}")
        check("subtasks" not in single, "count 1 returned the list")

    # A new server finds each sub-task in its folder.
    async with server() as (session, _):
        passed = await call(session, "validate_checkpoint", {"master_task_id": "fan", "subtask_id": "right"})
        check(passed.get("passed") is True and passed.get("workdir") == right["workdir"],
              f"after a restart, right was validated in {passed.get('workdir')}: {passed.get('reason')}")

        # Completed out of order: right first, then left, whose base main has left behind.
        done_right = await call(session, "complete_subtask", {"master_task_id": "fan", "subtask_id": "right"})
        check(done_right.get("completed") is True, f"complete right: {done_right}")
        check(done_right.get("workdir") == right["workdir"], "complete_subtask does not say the workdir")
        check(done_right.get("commit") == git("rev-parse", "main"), "main is not right's commit")

        # join still waits for left; left is still under way.
        mid = await call(session, "get_next_subtask", {"master_task_id": "fan", "count": 3})
        check(sorted(by_id(mid)) == ["left"], f"after right landed: {sorted(by_id(mid))}")
        check(mid.get("waiting") == [{"id": "join", "waiting_for": ["left"]}], f"waiting: {mid.get('waiting')}")
        await call(session, "complete_subtask", {"master_task_id": "fan", "subtask_id": "join"}, expect_error=True)

        done_left = await call(session, "complete_subtask", {"master_task_id": "fan", "subtask_id": "left"})
        check(done_left.get("completed") is True, f"complete left (replayed onto right): {done_left}")
        check(done_left.get("conflict_paths") == [], f"conflict_paths: {done_left.get('conflict_paths')}")
        check(git("show", "main:right.txt") == "right" and git("show", "main:left.txt") == "left",
              "main lacks one of the halves")
        check(main_subjects(start) == ["Write the left half", "Write the right half"],
              f"main's history: {main_subjects(start)}")
        verify_main(start, "after left and right")

        # Now join is ready, alone.
        last = await call(session, "get_next_subtask", {"master_task_id": "fan", "count": 3})
        joined = by_id(last)
        check(sorted(joined) == ["join"] and last.get("waiting") == [], f"after both landed: {sorted(joined)}")
        workdir = joined.get("join", {}).get("workdir", "")
        check(os.path.exists(os.path.join(workdir, "left.txt")) and os.path.exists(os.path.join(workdir, "right.txt")),
              "join's folder does not hold both halves")
        write(workdir, "join.txt", "joined\n")
        done = await call(session, "complete_subtask", {"master_task_id": "fan", "subtask_id": "join"})
        check(done.get("completed") is True and done.get("has_next") is False, f"complete join: {done}")
        end = await call(session, "get_next_subtask", {"master_task_id": "fan", "count": 3})
        check(end.get("has_next") is False and end.get("subtasks") == [], f"at the end: {end}")
    check(main_subjects(start) == ["Join the halves", "Write the left half", "Write the right half"],
          f"main's history: {main_subjects(start)}")
    verify_main(start, "fan")


async def clash():
    write(REPO, "shared.txt", SHARED)
    git("add", "shared.txt")
    git("commit", "-q", "-m", "shared file")
    start = git("rev-parse", "main")
    async with server() as (session, _):
        await call(session, "decompose_task", CLASH)
        entries = by_id(await call(session, "get_next_subtask", {"master_task_id": "clash", "count": 3}))
        check(sorted(entries) == ["alpha", "beta", "omega"], f"clash handed out {sorted(entries)}")
        alpha, beta, omega = (entries.get(k, {}).get("workdir", "") for k in ("alpha", "beta", "omega"))
        check(len({alpha, beta, omega}) == 3, "the three sub-tasks share a folder")
        write(alpha, "shared.txt", SHARED.replace("first", "alpha"))
        write(beta, "shared.txt", SHARED.replace("first", "beta"))
        write(omega, "shared.txt", SHARED.replace("last", "omega"))
        for sid in ("alpha", "beta", "omega"):
            result = await call(session, "validate_checkpoint", {"master_task_id": "clash", "subtask_id": sid})
            check(result.get("passed") is True, f"{sid} does not pass in its own folder: {result.get('reason')}")

        first = await call(session, "complete_subtask", {"master_task_id": "clash", "subtask_id": "alpha"})
        check(first.get("completed") is True, f"alpha: {first}")
        tip = git("rev-parse", "main")

        # beta edited the same line: a conflict, reported as such; main untouched.
        second = await call(session, "complete_subtask", {"master_task_id": "clash", "subtask_id": "beta"})
        check(second.get("completed") is False and second.get("conflict_paths") == ["shared.txt"],
              f"beta over alpha: {second}")
        check("beta" in second.get("reason", "") and beta in second.get("reason", ""),
              f"the conflict does not name the sub-task and its workdir: {second.get('reason')}")
        check(second.get("workdir") == beta and "shared.txt" in (second.get("fix_prompt") or ""),
              f"conflict result: workdir {second.get('workdir')}, fix_prompt {second.get('fix_prompt')!r}")
        check(git("rev-parse", "main") == tip, "main moved on a conflict")
        kept = git("rev-parse", "orchestrate/clash/02-beta^2")
        check(f"git show {kept}" in (second.get("fix_prompt") or ""), "the fix prompt does not show the earlier work")
        check("beta" in git("show", f"{kept}:shared.txt"), "the conflicting work is not kept")
        with open(os.path.join(beta, "shared.txt")) as handle:
            check(handle.read() == SHARED.replace("first", "alpha"), "beta's folder was not reset to main's tip")
        failure = await call(session, "get_subtask_failure", {"master_task_id": "clash", "subtask_id": "beta"})
        check(failure.get("has_failure") is True and failure.get("workdir") == beta
              and "shared.txt" in (failure.get("output_tail") or ""), f"get_subtask_failure after the conflict: {failure}")

        # omega edited another line of the same file: replayed onto alpha, validated, landed.
        third = await call(session, "complete_subtask", {"master_task_id": "clash", "subtask_id": "omega"})
        check(third.get("completed") is True, f"omega over alpha: {third}")
        check(git("show", "main:shared.txt") == SHARED.replace("first", "alpha").replace("last", "omega").strip(),
              f"main's shared.txt: {git('show', 'main:shared.txt')!r}")
        verify_main(start, "after alpha and omega")

        # beta is still handed out, in the same folder, on main's tip; redone there, it lands.
        again = by_id(await call(session, "get_next_subtask", {"master_task_id": "clash", "count": 3}))
        check(sorted(again) == ["beta"] and again.get("beta", {}).get("workdir") == beta
              and again.get("beta", {}).get("in_progress") is True, f"beta after the conflict: {again}")
        with open(os.path.join(beta, "shared.txt")) as handle:
            text = handle.read()
        write(beta, "shared.txt", text.replace("alpha", "alpha\nbeta", 1))
        redone = await call(session, "complete_subtask", {"master_task_id": "clash", "subtask_id": "beta"})
        check(redone.get("completed") is True and redone.get("has_next") is False, f"beta redone: {redone}")
    check(main_subjects(start) == ["Put beta on the first line", "Put omega on the last line",
                                   "Put alpha on the first line"], f"main's history: {main_subjects(start)}")
    verify_main(start, "clash")


async def main():
    await fan_out()
    await clash()


asyncio.run(main())
finish("all MCP parallel checks passed")
