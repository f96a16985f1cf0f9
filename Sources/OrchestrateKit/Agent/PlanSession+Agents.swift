import Foundation

extension PlanSession {
  /// The agent and fix agent a sub-task would get, in the precedence `runAgent` uses: the flag,
  /// then the sub-task, then the plan, then `git config orchestrate.*`.
  func agentChoices(for subtask: Subtask) -> (agent: AgentCheck.Choice?, fixAgent: AgentCheck.Choice?) {
    let agent = AgentCheck.first([
      (settings.agentFlag, "--agent"), (subtask.agent, "sub-task '\(subtask.id)' agent"),
      (settings.planAgent, "the plan's agent"), (settings.configAgent, "git config orchestrate.agent"),
    ])
    let fixAgent = AgentCheck.first([
      (settings.fixAgentFlag, "--fix-agent"), (settings.planFixAgent, "the plan's fix_agent"),
      (settings.configFixAgent, "git config orchestrate.fixAgent"),
    ])
    return (agent, fixAgent)
  }

  /// Everything a run checks before it creates any branch, work folder or attempt: where the work
  /// folder would go (`Workspace.checkLocation`) and the agents (`checkAgents`).
  ///
  /// Call it once when a run starts.
  /// - Throws: `OrchestrateError.invalidArgument` (exit 2) saying what is wrong and what to do.
  public func checkBeforeRun() throws {
    try Workspace.checkLocation(orchestrator.layout.workdir(plan: plan.id), main: repository)
    try checkAgents()
  }

  /// Checks, before any branch, work folder or attempt is created, that every sub-task left has
  /// something to run and that each agent and fix agent it may start can start.
  /// - Throws: `OrchestrateError.invalidArgument` (exit 2) naming every problem and how to fix it.
  public func checkAgents() throws {
    let done = try history().completions
    let path = Self.childEnvironment()["PATH"]
    let directory = repository.workingDirectory
    var problems: [String] = []
    var checked = Set<AgentCheck.Choice>()
    for subtask in plan.subtasks where done[subtask.id] == nil {
      let (agent, fixAgent) = agentChoices(for: subtask)
      if subtask.run.isEmpty, agent == nil || agent?.preset == .script {
        problems.append(
          "sub-task '\(subtask.id)' has no run steps and no agent"
            + (agent == nil ? " is configured" : " (its agent is 'script')")
            + "; add run steps, set 'agent' in the plan, pass --agent claude (or aider, openhands, a command), or set 'git config orchestrate.agent'"
        )
      }
      for choice in [subtask.run.isEmpty ? agent : nil, fixAgent].compactMap({ $0 })
      where checked.insert(choice).inserted {
        if let problem = AgentCheck.problem(with: choice, path: path, directory: directory) { problems.append(problem) }
      }
    }
    guard problems.isEmpty else { throw OrchestrateError.invalidArgument(problems.joined(separator: "\n")) }
  }

  /// The paths (gitignore patterns) agents of this plan write for themselves, kept out of every
  /// snapshot: the presets' own (`AgentPreset.agentFiles`) and `git config orchestrate.agentFiles`
  /// (multi-valued, for any command). Read once, when the session's workspace is first opened.
  func agentFiles() throws -> [String] {
    var choices: [AgentCheck.Choice?] = []
    for subtask in plan.subtasks {
      let (agent, fixAgent) = agentChoices(for: subtask)
      choices += [agent, fixAgent]
    }
    var files = choices.compactMap { $0?.preset?.agentFiles }.flatMap { $0 }
    files += try repository.configStrings("orchestrate.agentFiles")
    var seen = Set<String>()
    return files.filter { seen.insert($0).inserted }
  }
}
