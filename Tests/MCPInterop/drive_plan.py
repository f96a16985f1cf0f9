"""Drives `git-orchestrate mcp` with the official MCP Python SDK as an independent client.

Usage: python drive_plan.py <git-orchestrate binary> <repository>

Stores a two-step plan with decompose_task, then runs it the way the seed's master-orchestrator
does: get_next_subtask -> work in `workdir` -> validate_checkpoint -> complete_subtask ->
get_decomposition_status, checking every field name, that unvalidated work never reaches main, that
bad arguments are tool errors, and that has_next ends false. Exits 1 with a list of failed checks.
"""

import asyncio
import json
import os
import subprocess

from interop import BINARY, FAILURES, REPO, call, check, finish, git, server

PLAN = {
    "task_id": "interop",
    "description": "Greet, then say goodbye",
    "strategy": "sequential",
    "subtasks": [
        {
            "id": "greeting",
            "order": 1,
            "description": "Write the greeting",
            "orchestration_prompt": "Create greeting.txt containing hello",
            "estimated_complexity": "small",
            "success_criteria": ["greeting.txt says hello"],
            "dependencies": [],
            "checkpoint": {"description": "The greeting exists", "commands": ["grep -q hello greeting.txt"]},
        },
        {
            "id": "farewell",
            "order": 2,
            "description": "Write the farewell",
            "orchestration_prompt": "Create farewell.txt containing goodbye",
            "estimated_complexity": "small",
            "dependencies": ["greeting"],
            "checkpoint": {
                "description": "Both files exist",
                "commands": ["grep -q goodbye farewell.txt", "grep -q hello greeting.txt"],
            },
        },
    ],
}


def has_keys(obj, keys, what):
    missing = [k for k in keys if not isinstance(obj, dict) or k not in obj]
    check(not missing, f"{what}: missing fields {missing} in {json.dumps(obj)[:400]}")


async def main():
    async with server() as (session, init):
        check(init.serverInfo.name == "orchestration", f"server name is {init.serverInfo.name}")

        tools = {tool.name: tool for tool in (await session.list_tools()).tools}
        for name in ["get_next_subtask", "validate_checkpoint", "complete_subtask", "get_decomposition_status",
                     "decompose_task", "list_plans", "get_subtask_failure"]:
            if check(name in tools, f"tool {name} is not listed"):
                tool = tools[name]
                check(tool.inputSchema.get("type") == "object", f"{name}: no input schema")
                check(bool(tool.outputSchema), f"{name}: no output schema")
                check(len(tool.description or "") > 80, f"{name}: description too short for an LLM reader")

        # Bad arguments are tool errors, never crashes.
        no_commands = json.loads(json.dumps(PLAN))
        no_commands["task_id"] = "broken"
        del no_commands["subtasks"][1]["checkpoint"]["commands"]
        error = await call(session, "decompose_task", no_commands, expect_error=True)
        check("farewell" in error.get("error", ""), f"command-less checkpoint error does not name the sub-task: {error}")
        await call(session, "get_next_subtask", {}, expect_error=True)
        await call(session, "get_next_subtask", {"master_task_id": 12.5}, expect_error=True)
        await call(session, "get_next_subtask", {"master_task_id": "no-such-plan"}, expect_error=True)
        await call(session, "no_such_tool", {}, expect_error=True)

        stored = await call(session, "decompose_task", PLAN)
        has_keys(stored, ["master_task_id", "total_subtasks"], "decompose_task")
        check(stored.get("master_task_id") == "interop" and stored.get("total_subtasks") == 2,
              f"decompose_task returned {stored}")
        plans = await call(session, "list_plans", {})
        check(any(p.get("id") == "interop" for p in plans.get("plans", [])), f"list_plans: {plans}")
        for plan in plans.get("plans", []):
            has_keys(plan, ["id", "description", "total_subtasks", "completed", "progress_percentage"], "list_plans")

        completed_orders = []
        while True:
            nxt = await call(session, "get_next_subtask", {"master_task_id": "interop"})
            has_keys(nxt, ["has_next", "progress"], "get_next_subtask")
            has_keys(nxt.get("progress"), ["total", "completed", "current"], "get_next_subtask.progress")
            if not nxt.get("has_next"):
                check("subtask" not in nxt, "has_next false but a subtask is given")
                break
            has_keys(nxt, ["subtask", "branch", "workdir"], "get_next_subtask")
            subtask = nxt.get("subtask", {})
            has_keys(subtask, ["id", "order", "description", "orchestration_prompt", "estimated_complexity",
                               "checkpoint"], "get_next_subtask.subtask")
            has_keys(subtask.get("checkpoint"), ["description", "commands"], "subtask.checkpoint")
            workdir = nxt.get("workdir", "")
            check(os.path.isabs(workdir) and os.path.isdir(workdir), f"workdir {workdir!r} is not a directory")
            check(workdir in subtask.get("orchestration_prompt", ""), "the orchestration prompt does not name workdir")
            sid = subtask.get("id")
            if len(completed_orders) > 5 or sid is None:
                FAILURES.append("the loop does not end")
                break
            print(f"Starting subtask {subtask.get('order')}/{nxt['progress'].get('total')}: {subtask.get('description')}")

            # Undone work, with the caller claiming success: nothing reaches main.
            main_before = git("rev-parse", "main")
            refused = await call(session, "complete_subtask", {
                "master_task_id": "interop", "subtask_id": sid,
                "checkpoint_result": {"passed": True}, "artifacts": ["made-up.txt"]})
            has_keys(refused, ["completed", "commit", "reason", "progress"], "complete_subtask")
            check(refused.get("completed") is False, f"undone work was completed: {refused}")
            check(git("rev-parse", "main") == main_before, "main moved for undone work")

            failed = await call(session, "validate_checkpoint", {"master_task_id": "interop", "subtask_id": sid})
            has_keys(failed, ["passed", "reason", "error", "results"], "validate_checkpoint")
            check(failed.get("passed") is False, f"undone work passed: {failed}")
            for item in failed.get("results", []):
                has_keys(item, ["command", "exit_code", "duration_seconds", "output_tail"], "results[]")
            check(any(r.get("exit_code", 0) != 0 for r in failed.get("results", [])), "no failing command reported")
            failure = await call(session, "get_subtask_failure", {"master_task_id": "interop", "subtask_id": sid})
            check(failure.get("has_failure") is True, f"get_subtask_failure: {failure}")

            # Out of order, and commands from the caller, are refused.
            other = "farewell" if sid == "greeting" else "greeting"
            await call(session, "validate_checkpoint", {"master_task_id": "interop", "subtask_id": other},
                       expect_error=True)
            await call(session, "validate_checkpoint", {"subtask_id": sid, "test_commands": ["true"]},
                       expect_error=True)

            # The work, done in workdir as the conductor would.
            name, word = ("greeting.txt", "hello") if sid == "greeting" else ("farewell.txt", "goodbye")
            with open(os.path.join(workdir, name), "w") as handle:
                handle.write(word + "\n")
            again = await call(session, "get_next_subtask", {"master_task_id": "interop"})
            check(again.get("subtask", {}).get("id") == sid and again.get("workdir") == workdir,
                  "asking twice gave another sub-task or directory")
            check(os.path.exists(os.path.join(workdir, name)), "asking again lost the work in progress")

            passed = await call(session, "validate_checkpoint", {
                "checkpoint_description": subtask["checkpoint"]["description"], "subtask_id": sid,
                "test_commands": subtask["checkpoint"]["commands"]})
            check(passed.get("passed") is True, f"done work failed: {passed}")
            check(passed.get("error") is None, "a pass carries an error")

            done = await call(session, "complete_subtask", {
                "master_task_id": "interop", "subtask_id": sid, "checkpoint_result": passed, "artifacts": [name]})
            check(done.get("completed") is True, f"complete_subtask: {done}")
            check(done.get("commit") == git("rev-parse", "main"), "main is not the returned commit")
            has_keys(done.get("progress"), ["total", "completed", "current"], "complete_subtask.progress")
            completed_orders.append(subtask.get("order"))

            status = await call(session, "get_decomposition_status", {"master_task_id": "interop"})
            cli = json.loads(subprocess.run([BINARY, "status", "--json", "interop", "-C", REPO], check=True,
                                            capture_output=True, text=True).stdout)
            check(set(status) == set(cli), f"status fields {sorted(status)} differ from status --json {sorted(cli)}")
            check(status.get("completed_subtasks") == cli.get("completed_subtasks"), "status differs from the CLI")
            print(f"Progress: {status.get('progress_percentage')}%  current: {status.get('current_subtask')}")

        check(completed_orders == [1, 2], f"completed orders {completed_orders}")
        subjects = git("log", "--first-parent", "--format=%s", "-2", "main").splitlines()
        check(subjects == ["Write the farewell", "Write the greeting"], f"main's history: {subjects}")
        final = await call(session, "get_decomposition_status", {"master_task_id": "interop"})
        check(final.get("progress_percentage") == 100, f"final status: {final}")


asyncio.run(main())
finish("all MCP interop checks passed")
