import Foundation

/// The agents a plan can name without writing out a command line.
///
/// Each runs in the sub-task's working directory with the prompt on standard input and in the
/// file named by `$ORCHESTRATE_PROMPT_FILE`. The command lines were checked against the real
/// programs (Claude Code 2.1.332, aider 0.86.2; see docs/agents.md for what each flag is for and
/// what was observed).
public enum AgentPreset: String, CaseIterable, Sendable {
  case claude, aider, openhands, script

  /// The tools the `claude` preset lets Claude Code use without asking.
  ///
  /// In `-p` mode `acceptEdits` alone denies every Bash command ("This command requires approval"),
  /// so the agent could never run the tests it is asked to make pass; `bypassPermissions` is
  /// refused as root unless `IS_SANDBOX=1`. Allowing these tools works as root and needs no sandbox.
  public static let claudeAllowedTools = "Bash,Edit,Write,Read,NotebookEdit"

  /// The exact shell command line the preset runs.
  ///
  /// `script` runs the sub-task's `run` steps only, so it has no command line (nil).
  public var commandLine: String? {
    switch self {
    case .claude:
      "claude -p --permission-mode acceptEdits --allowedTools \(Self.claudeAllowedTools) "
        + "--output-format stream-json --verbose"
    case .aider:
      "aider --yes-always --no-auto-commits --no-gitignore --no-check-update --no-show-release-notes "
        + "--no-analytics --no-pretty --no-fancy-input --no-detect-urls --no-suggest-shell-commands "
        + "--message-file \"$ORCHESTRATE_PROMPT_FILE\""
    case .openhands: "openhands --headless --override-with-envs -f \"$ORCHESTRATE_PROMPT_FILE\""
    case .script: nil
    }
  }

  /// The program the preset starts, looked up on PATH before a run creates anything.
  public var program: String? {
    switch self {
    case .claude: "claude"
    case .aider: "aider"
    case .openhands: "openhands"
    case .script: nil
    }
  }

  /// Paths (gitignore patterns) the agent writes in the work folder for itself: never part of a
  /// sub-task's commit, never in the user's checkout.
  ///
  /// aider writes `.aider.chat.history.md` (every prompt), `.aider.input.history` and
  /// `.aider.tags.cache.v4/` in the repository root; the preset passes `--no-gitignore`, because
  /// without it aider (answering yes to everything) adds `.aider*` to the project's `.gitignore`.
  /// Claude Code in `-p` mode writes nothing in the folder (its state is under `~/.claude`); its
  /// per-user `.claude/settings.local.json` is declared in case a user's setup writes it.
  public var agentFiles: [String] {
    switch self {
    case .claude: [".claude/settings.local.json"]
    case .aider: [".aider*"]
    case .openhands, .script: []
    }
  }

  /// How to install the preset's program, for the message a run gives when it is missing.
  public var installHint: String {
    switch self {
    case .claude:
      "install Claude Code ('npm install -g @anthropic-ai/claude-code'; 'pip install claude-agent-sdk' also "
        + "bundles it as claude_agent_sdk/_bundled/claude) and put 'claude' on PATH"
    case .aider: "install aider ('pipx install aider-chat' or 'pip install aider-chat') and put 'aider' on PATH"
    case .openhands:
      "install the OpenHands CLI ('uv tool install openhands --python 3.12' or 'pip install openhands', "
        + "Python 3.12+) and put 'openhands' on PATH"
    case .script: ""
    }
  }

  /// Turns an agent value from a plan, config or flag into a command line.
  ///
  /// A preset name gives its command line (nil for `script`, which runs no agent: check
  /// `AgentPreset(rawValue:)` first); anything else is a command, run with `sh -c` — a bare word
  /// such as `codex` included (whether it can start is checked when a run begins, see
  /// `AgentCheck`). Nil for an empty value.
  public static func resolve(_ value: String) -> String? {
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    if let preset = AgentPreset(rawValue: trimmed.lowercased()) { return preset.commandLine }
    return trimmed.isEmpty ? nil : trimmed
  }

  /// Says what is wrong with an agent value, or nil when it is a preset or a command.
  ///
  /// Only an empty value is wrong when a plan is read: whether a command can start depends on the
  /// machine that runs it, and is checked there before anything is created.
  static func problem(with value: String) -> String? {
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty {
      return
        "agent is empty; use one of claude, aider, openhands, or a command such as './my-agent.sh'"
    }
    return nil
  }
}
