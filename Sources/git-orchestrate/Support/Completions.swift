import ArgumentParser
import Foundation
import OrchestrateKit

/// Shell completion of stored plan and sub-task ids, read from the repository the shell is in.
enum Completions {
  /// The stored plans' ids that start with the word being completed.
  @Sendable static func planIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    guard let store = try? Orchestrator().store, let ids = try? store.ids() else { return [] }
    return ids.filter { $0.hasPrefix(prefix) }
  }

  /// The sub-task ids of every stored plan that start with the word being completed.
  @Sendable static func subtaskIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    guard let plans = try? Orchestrator().store.list() else { return [] }
    let ids = plans.flatMap { $0.plan.subtasks.map(\.id) }.filter { $0.hasPrefix(prefix) }
    return Array(Set(ids)).sorted()
  }

  /// Plan files in the current directory and the stored plans' ids (for `run`).
  @Sendable static func planFilesOrIDs(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
    let files = ((try? FileManager.default.contentsOfDirectory(atPath: ".")) ?? []).filter {
      ($0.hasSuffix(".yml") || $0.hasSuffix(".yaml") || $0.hasSuffix(".json")) && $0.hasPrefix(prefix)
    }
    return planIDs(words, index, prefix) + files.sorted()
  }

  /// `_git_orchestrate`, so that git's own completion (`git orchestrate <TAB>`) reaches ours: it
  /// hands the words after `orchestrate` to `_git-orchestrate` as if `git-orchestrate` had been typed.
  /// Appended to `--generate-completion-script bash`; the same text is `completions/git-wrapper.bash`.
  static let gitWrapper = #"""

    # git's own completion ('git orchestrate <TAB>') calls _git_orchestrate, loading this file by the
    # name git-orchestrate when needed. It hands the words after 'orchestrate' to the completion above,
    # as if 'git-orchestrate' had been typed.
    _git_orchestrate() {
        local -i i start=-1
        for ((i = 1; i < COMP_CWORD; i++)); do
            if [[ "${COMP_WORDS[i]}" == orchestrate ]]; then
                start=i
                break
            fi
        done
        ((start < 0)) && return 0
        local -a COMP_WORDS=(git-orchestrate "${COMP_WORDS[@]:start+1}")
        local -i COMP_CWORD=$((COMP_CWORD - start))
        local head="${COMP_LINE%%orchestrate*}orchestrate"
        local COMP_LINE="git-orchestrate${COMP_LINE:${#head}}"
        local -i COMP_POINT=$((COMP_POINT - ${#head} + ${#COMP_WORDS[0]}))
        _git-orchestrate git-orchestrate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    }
    """#

  /// Whether this process generates a completion script, answers a completion request or dumps
  /// help for the manual: those need the executable's own name, `git-orchestrate`.
  static let needsExecutableName: Bool = CommandLine.arguments.dropFirst().contains {
    $0.hasPrefix("--generate-completion-script") || $0 == "---completion" || $0.hasPrefix("--experimental-dump-help")
  }

  /// The shell `--generate-completion-script` asks for, if any.
  static var requestedScript: String? {
    let arguments = Array(CommandLine.arguments.dropFirst())
    for (index, argument) in arguments.enumerated() {
      if argument == "--generate-completion-script" { return index + 1 < arguments.count ? arguments[index + 1] : nil }
      if argument.hasPrefix("--generate-completion-script=") {
        return String(argument.dropFirst("--generate-completion-script=".count))
      }
    }
    return nil
  }
}
