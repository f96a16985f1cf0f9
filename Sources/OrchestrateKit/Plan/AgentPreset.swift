import Foundation

/// The agents a plan can name without writing out a command line.
///
/// Each runs in the sub-task's working directory with the prompt on standard input and in the
/// file named by `$ORCHESTRATE_PROMPT_FILE`.
public enum AgentPreset: String, CaseIterable, Sendable {
  case claude, aider, openhands, script

  /// The exact shell command line the preset runs.
  ///
  /// `script` runs the sub-task's `run` steps only, so it has no command line (nil).
  public var commandLine: String? {
    switch self {
    case .claude: "claude -p --permission-mode acceptEdits --output-format text"
    case .aider:
      "aider --yes-always --no-auto-commits --no-gitignore --message-file \"$ORCHESTRATE_PROMPT_FILE\""
    case .openhands: "python -m openhands.core.main -f \"$ORCHESTRATE_PROMPT_FILE\""
    case .script: nil
    }
  }

  /// Turns an agent value from a plan, config or flag into a command line.
  ///
  /// A preset name gives its command line (nil for `script`, which runs no agent: check
  /// `AgentPreset(rawValue:)` first); anything containing a space or a slash is a command and
  /// is returned as is; anything else is an unknown preset (nil).
  public static func resolve(_ value: String) -> String? {
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    if let preset = AgentPreset(rawValue: trimmed.lowercased()) { return preset.commandLine }
    if trimmed.contains(" ") || trimmed.contains("/") { return trimmed }
    return nil
  }

  /// Says what is wrong with an agent value, or nil when it is a preset or a command.
  static func problem(with value: String) -> String? {
    let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
    if trimmed.isEmpty {
      return
        "agent is empty; use one of claude, aider, openhands, or a command such as './my-agent.sh'"
    }
    if AgentPreset(rawValue: trimmed.lowercased()) != nil || resolve(trimmed) != nil { return nil }
    return "unknown agent preset '\(PlanDiagnostic.escaped(trimmed))'; use one of claude, aider, "
      + "openhands, or a command such as './my-agent.sh'"
  }
}
