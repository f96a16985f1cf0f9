"""The real agent CLIs driven through git-orchestrate's presets, as a user runs them.

Claude Code (the CLI bundled in pip claude-agent-sdk) and aider (pip aider-chat) are the real
programs; the model behind them is a scripted fake server of ours on 127.0.0.1 (fake_models.py).
"""

from __future__ import annotations

import json

from conftest import aider_env, aider_program, claude_env, claude_program
from fake_models import ANTHROPIC_USAGE, FakeModelServer

TEST_HELLO = "from hello import hello\nassert hello() == 'hello', hello()\nprint('test ok')\n"


def tool_results(requests: list[dict]) -> dict:
    """Every tool_result the CLI sent back, by tool_use id, with the tool_use it answers."""
    uses, results = {}, {}
    for request in requests:
        for message in request.get("messages") or []:
            content = message.get("content")
            if not isinstance(content, list):
                continue
            for block in content:
                if block.get("type") == "tool_use":
                    uses[block["id"]] = block
                elif block.get("type") == "tool_result":
                    results[block["tool_use_id"]] = block
    return {key: (uses.get(key), value) for key, value in results.items()}


def result_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def test_claude_preset_writes_and_runs_the_test(box, tmp_path):
    """agent: claude — Write creates the file, Bash runs the test (not denied), one commit lands."""
    box.install("claude", claude_program())
    box.write("test_hello.py", TEST_HELLO)
    box.write("plan.yml", """\
id: greet
agent: claude
subtasks:
  - id: hello
    prompt: Write hello.py with a function hello() returning 'hello', then run python3 test_hello.py
    checkpoint: { commands: ["python3 test_hello.py"] }
""")
    box.commit_all("plan")
    rules = [
        {"match": "tool_use:Bash", "reply": [{"type": "text", "text": "hello.py is written and its test passes."}]},
        {"match": "tool_use:Write", "reply": [{"type": "tool_use", "name": "Bash", "input": {
            "command": "python3 test_hello.py", "description": "Run the test"}}]},
        {"match": "Execute complete orchestration", "reply": [{"type": "tool_use", "name": "Write", "input": {
            "file_path": "{cwd}/hello.py", "content": "def hello():\n    return 'hello'\n"}}]},
    ]
    with FakeModelServer("anthropic", rules, str(tmp_path / "anthropic.jsonl")) as server:
        out = box.orchestrate("run", "plan.yml", env=claude_env(server))
        requests = server.requests()
    assert out.returncode == 0, out.stdout + out.stderr
    assert box.main_subjects()[:2] == ["hello", "plan"]
    assert box.trailers("main")["Orchestrate-Attempts"] == "1"
    assert box.git("show", "--format=", "--name-only", "main").split() == ["hello.py"]

    answered = tool_results(requests)
    bash = [(use, result) for use, result in answered.values() if use and use["name"] == "Bash"]
    assert len(bash) == 1, answered
    text = result_text(bash[0][1])
    assert not bash[0][1].get("is_error"), text
    assert "requires approval" not in text and "permission" not in text.lower(), text
    assert "test ok" in text
    write = [(use, result) for use, result in answered.values() if use and use["name"] == "Write"]
    assert "File created successfully" in result_text(write[0][1])

    # The agent log keeps Claude Code's stream-json, its final result event included (for costs).
    logs = box.repo / ".git/orchestrate/logs/greet"
    events = [json.loads(line) for line in (logs / "01-hello.attempt-1.log").read_text().splitlines()
              if line.startswith("{")]
    result = [e for e in events if e.get("type") == "result"][-1]
    assert result["subtype"] == "success" and result["num_turns"] == 3 and result["session_id"]
    assert result["usage"]["input_tokens"] == 3 * ANTHROPIC_USAGE["input_tokens"]
    assert result["total_cost_usd"] > 0


def test_aider_preset_two_subtasks_fix_agent_and_no_droppings(box, tmp_path):
    """agent: aider — the second sub-task is wrong at first and repaired by the fix agent; no .aider* on main."""
    box.install("aider", aider_program())
    box.write("plan.yml", """\
id: nums
agent: aider
fix_agent: aider
max_attempts: 3
subtasks:
  - id: one
    prompt: Create one.py with a function one() that returns 1.
    checkpoint: { commands: ["python3 -c 'import one; assert one.one() == 1'"] }
  - id: two
    prompt: Create two.py with a function two() that returns 2.
    checkpoint: { commands: ["python3 -c 'import two; assert two.two() == 2, two.two()'"] }
""")
    box.commit_all("plan")

    def whole(name: str, body: str) -> str:
        return f"Here it is.\n\n{name}\n```python\n{body}```\n"

    rules = [
        # aider does not apply an edit to a file that is not in its chat: it adds the file and asks again.
        {"match": r"^I added these files to the chat: two.py", "reply": whole("two.py", "def two():\n    return 2\n")},
        {"match": r"^I added these files", "reply": "Ok."},
        {"match": "failed checkpoint validation", "reply": whole("two.py", "def two():\n    return 2\n")},
        {"match": "Create two.py", "reply": whole("two.py", "def two():\n    return 3\n"), "times": 1},
        {"match": "Create one.py", "reply": whole("one.py", "def one():\n    return 1\n"), "times": 1},
    ]
    with FakeModelServer("openai", rules, str(tmp_path / "openai.jsonl")) as server:
        out = box.orchestrate("run", "plan.yml", env=aider_env(server, box))
        requests = server.requests()
    assert out.returncode == 0, out.stdout + out.stderr + json.dumps(requests)[-3000:]
    assert box.main_subjects()[:3] == ["two", "one", "plan"]
    assert box.trailers("main")["Orchestrate-Attempts"] == "2"
    assert box.trailers("main~1")["Orchestrate-Attempts"] == "1"
    assert "raw.githubusercontent.com" not in out.stdout + out.stderr

    every_path = box.git("log", "--format=", "--name-only", "main").split()
    assert "one.py" in every_path and "two.py" in every_path
    assert not [p for p in every_path if p.startswith(".aider")], every_path
    # Not on the attempt branch either, nor tracked or present in the user's checkout.
    attempts = box.git("log", "--format=", "--name-only", "--all").split()
    assert not [p for p in attempts if ".aider" in p], attempts
    assert ".aider" not in box.git("ls-files")
    assert not list(box.repo.glob(".aider*"))
    # --no-gitignore: aider did not add .aider* to the project's .gitignore either.
    assert box.git("log", "--format=", "--name-only", "main~2..main").split() == ["two.py", "one.py"]
    # aider did write them, in the work folder.
    workdirs = list((box.state / "git-orchestrate" / "work").glob("repo-*/nums"))
    assert len(workdirs) == 1 and list(workdirs[0].glob(".aider*")), workdirs


def test_claude_as_mcp_client_completes_a_subtask(box, tmp_path):
    """Claude Code with .mcp.json and git orchestrate mcp: get_next_subtask, Write in workdir, validate, complete."""
    box.install("claude", claude_program())
    box.write("test_hello.py", TEST_HELLO)
    box.write("plan.yml", """\
id: viamcp
subtasks:
  - id: hello
    prompt: Write hello.py with a function hello() returning 'hello'
    checkpoint: { commands: ["python3 test_hello.py"] }
""")
    box.write(".mcp.json", json.dumps({"mcpServers": {"orchestration": {"command": "git", "args": ["orchestrate", "mcp"]}}}))
    box.commit_all("plan and mcp")
    added = box.orchestrate("plan", "add", "plan.yml")
    assert added.returncode == 0, added.stderr
    tool = "mcp__orchestration__"
    rules = [
        {"match": f"tool_use:{tool}complete_subtask", "reply": [{"type": "text", "text": "Sub-task hello is on main."}]},
        {"match": f"tool_use:{tool}validate_checkpoint", "reply": [{"type": "tool_use", "name": tool + "complete_subtask",
            "input": {"master_task_id": "viamcp", "subtask_id": "hello", "checkpoint_result": {"passed": True}}}]},
        {"match": "tool_use:Write", "reply": [{"type": "tool_use", "name": tool + "validate_checkpoint",
            "input": {"master_task_id": "viamcp", "subtask_id": "hello"}}]},
        {"match": f"tool_use:{tool}get_next_subtask", "reply": [{"type": "tool_use", "name": "Write", "input": {
            "file_path": "{workdir}/hello.py", "content": "def hello():\n    return 'hello'\n"}}]},
        {"match": "viamcp", "reply": [{"type": "tool_use", "name": tool + "get_next_subtask",
            "input": {"master_task_id": "viamcp"}}]},
    ]
    with FakeModelServer("anthropic", rules, str(tmp_path / "anthropic.jsonl")) as server:
        out = box.run(["claude", "-p", "--mcp-config", ".mcp.json", "--allowedTools", f"{tool}*", "Write",
                       "--permission-mode", "acceptEdits", "--output-format", "stream-json", "--verbose"],
                      env=claude_env(server), input="Run plan viamcp with the orchestration tools.")
        requests = server.requests()
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr
    events = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    init = next(e for e in events if e.get("subtype") == "init")
    assert {"name": "orchestration", "status": "connected"}.items() <= init["mcp_servers"][0].items()
    answered = {use["name"]: result for use, result in tool_results(requests).values() if use}
    for name in ("get_next_subtask", "validate_checkpoint", "complete_subtask"):
        assert not answered[tool + name].get("is_error"), answered[tool + name]
    workdir = json.loads(result_text(answered[tool + "get_next_subtask"]))["workdir"]
    assert workdir.startswith(str(box.state)) and ".git" not in workdir.split("/")
    assert json.loads(result_text(answered[tool + "complete_subtask"]))["completed"] is True
    assert box.main_subjects()[0] == "hello"
    assert box.git("show", "--format=", "--name-only", "main").split() == ["hello.py"]


def test_missing_agent_is_exit_2_with_no_branch_and_no_attempt(box):
    """An agent that is not installed: exit 2 naming it and how to install it; nothing created."""
    box.write("plan.yml", """\
id: absent
agent: claude
subtasks:
  - id: work
    checkpoint: { commands: ["true"] }
""")
    box.commit_all("plan")
    heads = box.git("for-each-ref", "refs/heads")
    out = box.orchestrate("run", "plan.yml")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "the plan's agent 'claude' cannot start: no 'claude' on PATH" in out.stderr
    assert "pip install claude-agent-sdk" in out.stderr
    assert box.git("for-each-ref", "refs/heads") == heads
    assert box.git("branch", "--list", "orchestrate/*") == ""
    assert not (box.state / "git-orchestrate").exists()
    # A bare word that is on PATH is a command, not an unknown preset.
    (box.bin / "codex").write_text("#!/bin/sh\necho codex ran > codex.txt\n")
    (box.bin / "codex").chmod(0o755)
    box.write("plan.yml", "id: absent2\nagent: codex\nsubtasks:\n  - id: work\n    checkpoint: { commands: [\"test -f codex.txt\"] }\n")
    box.commit_all("plan 2")
    ran = box.orchestrate("run", "plan.yml")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert box.git("show", "--format=", "--name-only", "main").split() == ["codex.txt"]
