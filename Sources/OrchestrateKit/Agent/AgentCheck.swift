import Foundation

/// Checks, before a run creates any branch, work folder or attempt, that the agents it may start
/// can start, and that every sub-task left has something to run.
///
/// An agent that is not installed would otherwise exit 127 in every attempt, each recorded as a
/// failed checkpoint; a missing program is a configuration error (exit 2), said once, up front.
public enum AgentCheck {
  /// Where an agent value came from, for messages: "--agent", "git config orchestrate.agent", …
  public struct Choice: Sendable, Hashable {
    public let value: String
    public let source: String
    public init(value: String, source: String) {
      self.value = value
      self.source = source
    }

    public var preset: AgentPreset? {
      AgentPreset(rawValue: value.trimmingCharacters(in: .whitespacesAndNewlines).lowercased())
    }
  }

  /// The first non-empty value of `candidates`, in order (flag, sub-task, plan, config).
  public static func first(_ candidates: [(String?, String)]) -> Choice? {
    for case (let value?, let source) in candidates
    where !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      return Choice(value: value.trimmingCharacters(in: .whitespacesAndNewlines), source: source)
    }
    return nil
  }

  /// What stops `choice` from starting, or nil when it can (or when a shell construct hides the
  /// program, which only running it can tell).
  /// - Parameters:
  ///   - path: the `PATH` the agent gets.
  ///   - directory: where a relative program path is looked up (the user's checkout, whose files
  ///     the work folder holds); nil skips that check.
  public static func problem(with choice: Choice, path: String?, directory: String?) -> String? {
    let shown = "\(choice.source) '\(PlanDiagnostic.escaped(choice.value))'"
    if let preset = choice.preset {
      guard let program = preset.program else { return nil }
      if locate(program, path: path, directory: nil) != nil { return nil }
      return "\(shown) cannot start: no '\(program)' on PATH; \(preset.installHint), "
        + "or choose another agent (--agent, the plan's 'agent', or 'git config orchestrate.agent')"
    }
    guard let program = program(of: choice.value) else { return nil }
    if locate(program, path: path, directory: directory) != nil { return nil }
    if program.contains("/") {
      return "\(shown) cannot start: '\(PlanDiagnostic.escaped(program))' does not exist or is not executable; "
        + "check the path (a relative one is taken from the repository's root) and 'chmod +x' it"
    }
    if !choice.value.contains(where: \.isWhitespace) {
      return "\(shown) is neither a preset (claude, aider, openhands, script) nor a program on PATH; "
        + "install it, give its path (e.g. './my-agent.sh'), or use a preset"
    }
    return "\(shown) cannot start: no '\(PlanDiagnostic.escaped(program))' on PATH; install it or give its path"
  }

  /// The program a shell command line starts: its first word after `NAME=value` assignments
  /// (quotes removed), or nil when the line starts with a shell construct (a builtin, a keyword,
  /// a subshell, an expansion) whose program only running it can tell.
  static func program(of commandLine: String) -> String? {
    var rest = Substring(commandLine.trimmingCharacters(in: .whitespacesAndNewlines))
    while !rest.isEmpty {
      guard let (word, remainder) = firstWord(rest) else { return nil }
      rest = remainder.drop(while: \.isWhitespace)
      if let equals = word.firstIndex(of: "="), word[..<equals].allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }),
        !word[..<equals].isEmpty
      {
        continue  // an assignment: VAR=value program …
      }
      if shellWords.contains(word) { return nil }
      return word
    }
    return nil
  }

  private static let shellWords: Set<String> = [
    "cd", "exec", "export", "if", "for", "while", "until", "case", "set", "source", ".", "eval", "{", "(", "!",
    "command", "builtin", "time", "test", "[", "true", "false", ":", "echo", "printf", "read", "trap", "ulimit",
    "umask",
  ]

  /// The first shell word of `text` with simple quoting undone; nil when it holds an expansion.
  private static func firstWord(_ text: Substring) -> (String, Substring)? {
    var word = ""
    var index = text.startIndex
    var quote: Character?
    while index < text.endIndex {
      let char = text[index]
      if let open = quote {
        if char == open { quote = nil } else { word.append(char) }
      } else if char == "'" || char == "\"" {
        quote = char
      } else if char.isWhitespace || ";&|<>".contains(char) {
        break
      } else if "$`()\\*?[{".contains(char) {
        return nil
      } else {
        word.append(char)
      }
      index = text.index(after: index)
    }
    return quote == nil && !word.isEmpty ? (word, text[index...]) : nil
  }

  /// The executable `program` names: a path (relative to `directory`), or a name found on `path`.
  static func locate(_ program: String, path: String?, directory: String?) -> String? {
    if program.contains("/") {
      let full: String
      if program.hasPrefix("/") {
        full = program
      } else if program.hasPrefix("~/") {
        full = NSHomeDirectory() + program.dropFirst()
      } else {
        guard let directory else { return program }
        full = directory + "/" + program
      }
      return isExecutableFile(full) ? full : nil
    }
    for folder in (path ?? "/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
      let full = (folder.isEmpty ? "." : String(folder)) + "/" + program
      if isExecutableFile(full) { return full }
    }
    return nil
  }

  private static func isExecutableFile(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && !isDirectory.boolValue
      && access(path, X_OK) == 0
  }

  /// Sub-tasks that have neither `run` steps nor an agent from the plan or `configAgent`: what
  /// `plan validate` warns about (a run's `--agent` may still give them one).
  public static func subtasksWithoutWork(_ plan: Plan, configAgent: String?) -> [String] {
    plan.subtasks.filter { subtask in
      guard subtask.run.isEmpty else { return false }
      let choice = first([(subtask.agent, ""), (plan.agent, ""), (configAgent, "")])
      return choice == nil || choice?.preset == .script
    }.map(\.id)
  }
}
