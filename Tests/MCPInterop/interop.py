"""What the MCP interop drivers share: the command line, the list of failed checks, git, a tool call
checked the way every client reads it, a server session, and the report.

Usage of a driver: python <driver> <git-orchestrate binary> <repository>
"""

import contextlib
import json
import os
import subprocess
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

BINARY, REPO = sys.argv[1], sys.argv[2]
FAILURES = []


def check(condition, message):
    if not condition:
        FAILURES.append(message)
    return condition


def git(*args):
    return subprocess.run(["git", "-C", REPO, *args], check=True, capture_output=True, text=True).stdout.strip()


async def call(session, name, arguments, expect_error=False):
    """Calls a tool; checks isError, that structuredContent is an object, and that it equals the
    JSON text of content[0]."""
    try:
        result = await session.call_tool(name, arguments)
    except Exception as error:  # the SDK raises when structuredContent does not match outputSchema
        FAILURES.append(f"{name}({json.dumps(arguments)[:200]}): client error: {error}")
        return {}
    is_error = bool(result.isError)
    text = result.content[0].text if result.content and result.content[0].type == "text" else None
    check(is_error == expect_error,
          f"{name}({json.dumps(arguments)[:200]}): isError={is_error}, expected {expect_error}: {text}")
    check(isinstance(result.structuredContent, dict), f"{name}: structuredContent is not an object")
    try:
        check(json.loads(text) == result.structuredContent, f"{name}: content[0] text differs from structuredContent")
    except (TypeError, ValueError):
        FAILURES.append(f"{name}: content[0] is not JSON text: {text!r}")
    return result.structuredContent or {}


@contextlib.asynccontextmanager
async def server():
    """A session with `git-orchestrate mcp` in REPO, initialized: (session, the initialize result)."""
    params = StdioServerParameters(command=BINARY, args=["mcp", "-C", REPO], env=dict(os.environ))
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            yield session, init


def finish(passed):
    """Exits 1 listing the failed checks, else prints `passed`."""
    if FAILURES:
        print(f"{len(FAILURES)} check(s) failed:", file=sys.stderr)
        for failure in FAILURES:
            print("  - " + failure, file=sys.stderr)
        sys.exit(1)
    print(passed)
