"""What the real Claude Code reports it cost, recorded by git-orchestrate as trailers (issue 15).

The CLI (bundled in pip claude-agent-sdk) talks to our fake Messages API, which reports known token
usage on every reply; the CLI prices it itself. The trailers must carry the CLI's own figures, read
from its result events: per attempt, and in total on the landed commit.
"""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal

from conftest import claude_env, claude_program
from fake_models import ANTHROPIC_USAGE, FakeModelServer

TEST_HELLO = "from hello import hello\nassert hello() == 'hello', hello()\nprint('test ok')\n"


def dollars(value) -> str:
    """The tool's rendering: micro-dollars at most, two decimals at least."""
    exact = value if isinstance(value, Decimal) else Decimal(repr(value))
    text = str(exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP).normalize())
    whole, _, decimals = text.partition(".")
    return whole + "." + decimals.ljust(2, "0")


def result_events(path) -> list[dict]:
    return [e for e in (json.loads(line) for line in path.read_text().splitlines() if line.startswith("{"))
            if e.get("type") == "result"]


def test_claude_costs_are_recorded_per_attempt_and_in_total(box, tmp_path):
    """Attempt 1 writes a wrong hello.py, the fix agent (claude) corrects it: both costs are in git."""
    box.install("claude", claude_program())
    box.write("test_hello.py", TEST_HELLO)
    box.write("plan.yml", """\
id: priced
agent: claude
fix_agent: claude
max_attempts: 2
subtasks:
  - id: hello
    prompt: Write hello.py with a function hello() returning 'hello'
    checkpoint: { commands: ["python3 test_hello.py"] }
""")
    box.commit_all("plan")
    rules = [
        {"match": "tool_use:Write", "reply": [{"type": "text", "text": "hello.py is written."}]},
        {"match": "failed checkpoint validation", "reply": [{"type": "tool_use", "name": "Write", "input": {
            "file_path": "{cwd}/hello.py", "content": "def hello():\n    return 'hello'\n"}}]},
        {"match": "Execute complete orchestration", "reply": [{"type": "tool_use", "name": "Write", "input": {
            "file_path": "{cwd}/hello.py", "content": "def hello():\n    return 'goodbye'\n"}}]},
    ]
    with FakeModelServer("anthropic", rules, str(tmp_path / "anthropic.jsonl")) as server:
        out = box.orchestrate("run", "plan.yml", env=claude_env(server))
    assert out.returncode == 0, out.stdout + out.stderr
    assert box.trailers("main")["Orchestrate-Attempts"] == "2"

    logs = box.repo / ".git/orchestrate/logs/priced"
    first = result_events(logs / "01-hello.attempt-1.log")[-1]
    second = result_events(logs / "01-hello.attempt-2.log")[-1]
    assert first["total_cost_usd"] > 0 and second["total_cost_usd"] > 0

    # The failed attempt: the CLI's own figures.
    attempt = box.trailers("refs/orchestrate/attempts/priced/01-hello")
    assert attempt["Orchestrate-Cost"] == dollars(first["total_cost_usd"]) + " USD"
    assert attempt["Orchestrate-Tokens"] == f"{first['usage']['input_tokens']} in, {first['usage']['output_tokens']} out"
    assert first["usage"]["input_tokens"] == first["num_turns"] * ANTHROPIC_USAGE["input_tokens"]
    assert attempt["Orchestrate-Agent-Session"] == "claude " + first["session_id"]
    assert attempt["Orchestrate-Agent-Turns"] == str(first["num_turns"])
    assert attempt["Orchestrate-Agent-Model"] in first["modelUsage"]

    # The landed commit: its own attempt, and the total over both.
    landed = box.trailers("main")
    assert landed["Orchestrate-Cost"] == dollars(second["total_cost_usd"]) + " USD"
    assert landed["Orchestrate-Agent-Session"] == "claude " + second["session_id"]
    total = Decimal(dollars(first["total_cost_usd"])) + Decimal(dollars(second["total_cost_usd"]))
    assert landed["Orchestrate-Cost-Total"] == dollars(total) + " USD (2 attempts)"
    tokens_in = first["usage"]["input_tokens"] + second["usage"]["input_tokens"]
    tokens_out = first["usage"]["output_tokens"] + second["usage"]["output_tokens"]
    assert landed["Orchestrate-Tokens-Total"] == f"{tokens_in} in, {tokens_out} out"

    # status --json totals are the trailers' sum; show prints the command that reopens each session.
    status = json.loads(box.orchestrate("status", "--json").stdout)
    assert Decimal(repr(status["cost"]["spent_usd"])) == total
    assert status["cost"]["attempts_reported"] == 2 and status["cost"]["attempts_unreported"] == 0
    shown = box.orchestrate("show", "hello").stdout
    assert f"claude --resume {first['session_id']}" in shown and f"claude --resume {second['session_id']}" in shown

    # The session really is there to reopen, in the work folder Claude Code ran in.
    workdirs = list((box.state / "git-orchestrate" / "work").glob("repo-*/priced"))
    assert len(workdirs) == 1
    project = re.sub(r"[^A-Za-z0-9]", "-", str(workdirs[0].resolve()))
    sessions = list((box.home / ".claude" / "projects").glob("*/" + second["session_id"] + ".jsonl"))
    assert sessions, list((box.home / ".claude" / "projects").glob("*/*"))
    assert sessions[0].parent.name == project
