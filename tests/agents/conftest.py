"""Shared set-up for the real-agent tests: a sandbox repository, the built git-orchestrate, the real
Claude Code (bundled in pip claude-agent-sdk) and aider (pip aider-chat), and our fake model servers.

Nothing here reaches the network or the real home: HOME and XDG_STATE_HOME are temporary folders,
and every agent CLI is pointed at a fake model server on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fake_models import FakeModelServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _binary() -> Path:
    path = Path(os.environ.get("ORCHESTRATE_BIN", ROOT / ".build/debug/git-orchestrate"))
    if not path.exists():
        pytest.exit(f"{path} is missing: run 'swift build' first (make test-agents does)", returncode=2)
    return path


def claude_program() -> Path:
    import claude_agent_sdk

    path = Path(claude_agent_sdk.__file__).parent / "_bundled" / "claude"
    if not path.exists():
        pytest.exit(f"the Claude Code CLI bundled in claude-agent-sdk is missing ({path})", returncode=2)
    return path


def aider_program() -> Path:
    path = Path(sys.prefix) / "bin" / "aider"
    if not path.exists():
        pytest.exit(f"aider is missing ({path}); pip install aider-chat", returncode=2)
    return path


class Box:
    """A temporary repository on main, with its own HOME, state folder and a bin folder on PATH."""

    def __init__(self, root: Path):
        self.root = root
        self.repo = root / "repo"
        self.home = root / "home"
        self.state = root / "state"
        self.bin = root / "bin"
        for d in (self.repo, self.home, self.state, self.bin):
            d.mkdir(parents=True)
        self.binary = _binary()
        self.env = {
            "HOME": str(self.home),
            "XDG_STATE_HOME": str(self.state),
            "PATH": f"{self.bin}:{self.binary.parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": "UTC",
            "NO_COLOR": "1",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        }
        # python3 for checkpoints: the interpreter running the tests, without the agents' venv on PATH.
        real_python = shutil.which("python3", path="/usr/local/bin:/usr/bin:/bin") or sys.executable
        (self.bin / "python3").symlink_to(real_python)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Test")
        self.git("config", "user.email", "test@example.invalid")
        self.write(".gitignore", "__pycache__/\n")

    def write(self, path: str, text: str, executable: bool = False):
        full = self.repo / path
        full.parent.mkdir(parents=True, exist_ok=True)
        full.write_text(text)
        if executable:
            full.chmod(0o755)

    def git(self, *args, check=True) -> str:
        out = subprocess.run(["git", *args], cwd=self.repo, env=self.env, capture_output=True, text=True)
        if check and out.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {out.stderr}")
        return out.stdout

    def commit_all(self, message: str):
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def orchestrate(self, *args, env: dict | None = None, timeout=600, input: str | None = None):
        return subprocess.run([str(self.binary), *args], cwd=self.repo, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout, input=input)

    def run(self, argv: list[str], env: dict | None = None, timeout=300, input: str | None = None, cwd=None):
        return subprocess.run(argv, cwd=cwd or self.repo, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout, input=input)

    def trailers(self, rev: str) -> dict:
        text = self.git("log", "-1", "--format=%(trailers:only,unfold)", rev)
        return dict(line.split(": ", 1) for line in text.splitlines() if ": " in line)

    def main_subjects(self) -> list[str]:
        return self.git("log", "--first-parent", "--format=%s", "main").splitlines()

    def install(self, name: str, program: Path):
        (self.bin / name).symlink_to(program)


@pytest.fixture
def box(tmp_path) -> Box:
    return Box(tmp_path)


def claude_env(server: FakeModelServer) -> dict:
    """What points Claude Code at our fake Anthropic API, with no other traffic."""
    return {
        "ANTHROPIC_BASE_URL": server.url,
        "ANTHROPIC_API_KEY": "sk-ant-fake",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_ERROR_REPORTING": "1",
    }


def aider_env(server: FakeModelServer, box: Box) -> dict:
    """What points aider (through litellm) at our fake OpenAI-compatible API, with no other traffic.

    The model metadata file stops aider fetching litellm's model list from GitHub (it does so for
    any model it does not know, and prints the connection error when it cannot).
    """
    metadata = box.root / "aider-models.json"
    metadata.write_text(json.dumps({"openai/fake-coder": {
        "max_input_tokens": 100000, "max_output_tokens": 8000, "input_cost_per_token": 0.000001,
        "output_cost_per_token": 0.000002, "litellm_provider": "openai", "mode": "chat"}}))
    return {
        "AIDER_MODEL": "openai/fake-coder",
        "AIDER_EDIT_FORMAT": "whole",
        "AIDER_MODEL_METADATA_FILE": str(metadata),
        "OPENAI_API_BASE": server.url + "/v1",
        "OPENAI_API_KEY": "sk-fake",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    }
