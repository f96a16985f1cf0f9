import Foundation
import GitKit

/// The entry point of the kit: a repository, its stored plans, and what can be read from them.
/// Anything the CLI or the MCP server does goes through here.
public final class Orchestrator {
  public let repository: Repository
  public let layout: Layout
  public let store: PlanStore

  /// Opens the repository that contains `path` (any subdirectory works).
  public init(at path: String = FileManager.default.currentDirectoryPath) throws {
    repository = try Repository.discover(from: path)
    layout = try Layout(
      commonDirectory: repository.commonDirectory,
      workdirRoot: try repository.configString("orchestrate.workdirRoot"))
    store = PlanStore(repository: repository)
    Trace.mark("repository opened")
  }

  /// The branch that receives sub-task commits: the plan's `main_branch`, else
  /// `orchestrate.mainBranch`, else `main`, else `master`, else the branch HEAD names.
  public func mainBranch(for plan: Plan?) throws -> String {
    if let name = plan?.mainBranch, !name.isEmpty {
      if let problem = PlanValidator.managedBranchProblem(name) {
        throw OrchestrateError.invalidArgument("plan '\(plan?.id ?? "")': main_branch \(problem)")
      }
      return name
    }
    if let name = try repository.configString("orchestrate.mainBranch"), !name.isEmpty {
      if let problem = PlanValidator.branchNameProblem(name) {
        throw OrchestrateError.invalidArgument(
          "git config orchestrate.mainBranch '\(PlanDiagnostic.escaped(name))' is not a valid branch name (\(problem)); set it to a branch such as main: 'git config orchestrate.mainBranch main'"
        )
      }
      if let problem = PlanValidator.managedBranchProblem(name) {
        throw OrchestrateError.invalidArgument(
          "git config orchestrate.mainBranch: \(problem): 'git config orchestrate.mainBranch main'")
      }
      return name
    }
    for name in ["main", "master"] where try repository.resolve("refs/heads/" + name) != nil { return name }
    if case .branch(let name, _) = try repository.head() { return String(name.dropFirst("refs/heads/".count)) }
    if case .unborn(let name) = try repository.head() { return String(name.dropFirst("refs/heads/".count)) }
    return "main"
  }

  /// Reads a plan file (YAML or JSON) and stores it; the same plan again changes nothing.
  @discardableResult
  public func addPlan(file: String, replace: Bool = false, editStarted: Bool = false) throws -> (
    StoredPlan, PlanStore.AddOutcome
  ) {
    let plan = try PlanReader.read(contentsOf: file)
    return try addPlan(plan, source: file, replace: replace, editStarted: editStarted)
  }

  /// Stores `plan`; see `PlanStore.add`.
  /// - Parameter editStarted: a started plan may be replaced when every completed sub-task is
  ///   unchanged (the user's `plan add --replace`; never the MCP server's).
  /// - Throws: `OrchestrateError.locked` when a run of this plan holds the repository: the plan it
  ///   runs must not change under it.
  @discardableResult
  public func addPlan(_ plan: Plan, source: String?, replace: Bool = false, editStarted: Bool = false) throws -> (
    StoredPlan, PlanStore.AddOutcome
  ) {
    if replace, let holder = RepositoryLock.liveHolder(at: layout.lockPath), holder.plan == plan.id,
      holder.pid != getpid()
    {
      throw OrchestrateError.locked(holder: holder, path: layout.lockPath)
    }
    let main = try mainBranch(for: plan)
    let base = try repository.resolve("refs/heads/" + main)
    // "Started" is judged on the main branch the stored plan ran on, and on the new plan's.
    var mainRefs = ["refs/heads/" + main]
    if let stored = try store.find(plan.id), let storedMain = try? mainBranch(for: stored.plan) {
      mainRefs.append("refs/heads/" + storedMain)
    }
    return try store.add(
      plan, source: source, base: base, replace: replace, mainRefs: mainRefs, editStarted: editStarted)
  }

  /// Finds the plan a command names: a stored id, a plan file (added if new), or, with no
  /// argument, the only stored plan.
  public func resolvePlan(_ argument: String?, addIfFile: Bool = true) throws -> StoredPlan {
    if let argument {
      if let stored = try store.find(argument) { return stored }
      var isDir: ObjCBool = false
      if addIfFile, FileManager.default.fileExists(atPath: argument, isDirectory: &isDir), !isDir.boolValue {
        let plan = try PlanReader.read(contentsOf: argument)
        if let stored = try store.find(plan.id), try stored.plan.normalizedJSON() == plan.normalizedJSON() {
          return stored
        }
        // Refuse before storing anything: a plan needs a main branch with a commit to start from.
        let main = try mainBranch(for: plan)
        guard try repository.resolve("refs/heads/" + main) != nil else {
          throw OrchestrateError.mainBranchMissing(main)
        }
        return try addPlan(plan, source: argument).0
      }
      if !addIfFile, FileManager.default.fileExists(atPath: argument, isDirectory: &isDir), !isDir.boolValue {
        throw OrchestrateError.invalidArgument(
          "'\(argument)' is a plan file, not a stored plan; store it with 'git orchestrate plan add \(argument)' (or run it)"
        )
      }
      if argument.hasSuffix(".yml") || argument.hasSuffix(".yaml") || argument.hasSuffix(".json")
        || argument.contains("/")
      {
        throw OrchestrateError.invalidArgument("no plan file '\(argument)' and no stored plan with that id")
      }
      throw OrchestrateError.planNotFound(argument, known: try store.ids())
    }
    let ids = try store.ids()
    switch ids.count {
    case 0: throw OrchestrateError.noPlan
    case 1: return try store.load(ids[0])
    default: throw OrchestrateError.ambiguousPlan(ids)
    }
  }

  /// The plan's progress, from git alone.
  /// - Throws: `OrchestrateError.mainBranchMissing` when the main branch does not exist: progress
  ///   cannot be read from a history that is not there, and 0 % would be a lie.
  public func status(_ stored: StoredPlan) throws -> PlanStatus {
    try statusAndHistory(stored).status
  }

  /// The plan's progress as `status(_:)` gives it; with `session` (which holds the lock, working on
  /// `stored`), its history in memory instead of the cache file, and the session as the lock's holder.
  func status(_ stored: StoredPlan, session: PlanSession?) throws -> PlanStatus {
    try statusAndHistory(stored, session: session).status
  }

  /// `status(_:)`, with the history of main it was read from (for `log`, which needs more of it).
  func statusAndHistory(_ stored: StoredPlan, session: PlanSession? = nil) throws
    -> (status: PlanStatus, history: History)
  {
    let plan = stored.plan
    let mainName = try mainBranch(for: plan)
    guard try repository.resolve("refs/heads/" + mainName) != nil else {
      throw OrchestrateError.mainBranchMissing(mainName)
    }
    Trace.mark("status: main")
    let history: History
    let holderPlan: String?
    /// The sub-tasks a parallel run works on now (nil: a sequential run, whose sub-task under way is
    /// the first unfinished one).
    let holderRunning: [String]?
    if let session, session.mainRef == "refs/heads/" + mainName, session.lock.isHeld {
      history = try session.history()
      holderPlan = session.plan.id
      holderRunning = session.parallel.map { Array($0.running.keys) }
    } else {
      history = try History.readRecorded(repository: repository, mainRef: "refs/heads/" + mainName, stored: stored)
      let holder = RepositoryLock.liveHolder(at: layout.lockPath)
      holderPlan = holder?.plan
      holderRunning = holder?.running
    }
    Trace.mark("status: history (\(history.completions.count) completions)")
    // The branches of the sub-tasks not on main: looked up one by one when they are few (the end
    // of a long plan, whose landed sub-tasks keep thousands of branches), else listed.
    let subtasks = plan.subtasks
    let open = subtasks.indices.filter { history.completions[subtasks[$0].id] == nil }
    var branches: [String: OID?] = [:]
    if open.count <= 64 {
      for index in open {
        let ref = Layout.branchRef(plan: plan.id, subtask: subtasks[index])
        if let found = try repository.reference(ref) { branches[ref] = found.target }
      }
    } else {
      branches = Dictionary(
        try repository.references(withPrefix: Layout.branchPrefix + plan.id + "/").map { ($0.name, $0.target) },
        uniquingKeysWith: { a, _ in a })
    }
    Trace.mark("status: branches")
    // The sub-tasks with attempts kept elsewhere than a branch (cleaned, or fetched from a remote),
    // as `orchestrate/<plan>/<NN>-<id>`: read once, so a long plan's pending sub-tasks cost nothing.
    var keptStems: Set<String> = []
    for ref in try repository.references(withPrefix: Layout.attemptsRefPrefix + plan.id + "/") {
      keptStems.insert("orchestrate/" + ref.name.dropFirst(Layout.attemptsRefPrefix.count))
    }
    for ref in try repository.references(withPrefix: RecordSync.remotesPrefix) {
      for kind in ["/branches/", "/attempts/"] {
        if let range = ref.name.range(of: kind + plan.id + "/") {
          keptStems.insert("orchestrate/" + ref.name[ref.name.index(range.lowerBound, offsetBy: kind.count)...])
        }
      }
    }
    var details: [PlanStatus.Detail] = []
    details.reserveCapacity(subtasks.count)
    var completed: [String] = []
    completed.reserveCapacity(subtasks.count - open.count)
    var tally = Estimate.Tally()
    var current: String?
    for index in subtasks.indices {
      // A completed sub-task (nearly all of a long plan's) reads its fields where they are: a copy
      // of the whole `Subtask` retained and released each of its strings and arrays.
      let branch = Layout.branchName(plan: plan.id, subtask: subtasks[index])
      let done = history.completions[subtasks[index].id]
      tally.count(subtasks[index].complexity, done)
      if let done {
        completed.append(subtasks[index].id)
        details.append(
          .init(
            id: subtasks[index].id, order: subtasks[index].order, description: subtasks[index].description,
            state: .completed, commit: done.commit.hex, attempts: done.attempts, durationSeconds: done.duration,
            branch: branch))
        continue
      }
      let subtask = subtasks[index]
      var state = PlanStatus.State.pending
      var attempts = 0
      var tipHex: String?
      if let tipEntry = branches["refs/heads/" + branch], let tip = tipEntry {
        tipHex = tip.hex
        attempts = try AttemptLog.read(
          repository: repository, from: tip, plan: plan.id, subtask: subtask.id, mainTip: history.mainTip
        ).count
        state = attempts > 0 ? .failed : .interrupted
        if holderPlan == plan.id {
          // A parallel run says which sub-tasks it works on; a sequential one works on this one.
          if let running = holderRunning {
            if running.contains(subtask.id) { state = .inProgress }
          } else {
            state = .inProgress
          }
        }
      } else if keptStems.contains(Layout.branchName(plan: plan.id, subtask: subtask)),
        let kept = try AttemptLog.located(
          repository: repository, plan: plan.id, subtask: subtask, mainTip: history.mainTip)
      {
        // No branch here: its attempts were kept by `clean`, or fetched from a remote's clone.
        tipHex = kept.tip.hex
        attempts = kept.log.count
        state = .failed
      }
      if current == nil, state != .pending || (holderPlan == plan.id && holderRunning == nil) {
        current = subtask.id
      }
      details.append(
        .init(
          id: subtask.id, order: subtask.order, description: subtask.description, state: state, commit: tipHex,
          attempts: attempts, durationSeconds: nil, branch: branch))
    }
    Trace.mark("status: details")
    let total = subtasks.count
    let seconds = tally.remaining
    let (costs, cost) = try Ledger.read(
      repository: repository, plan: plan, details: details, history: history,
      budget: Ledger.configuredBudget(repository: repository, plan: plan))
    for index in details.indices {
      guard let total = costs[index] else { continue }
      details[index].costUSD = total.costUSD
      details[index].inputTokens = total.inputTokens
      details[index].outputTokens = total.outputTokens
    }
    Trace.mark("status: ledger and estimate")
    let status = PlanStatus(
      masterTaskID: plan.id, description: plan.description, mainBranch: mainName, totalSubtasks: total,
      completedSubtasks: completed,
      progressPercentage: total == 0 ? 0 : (Double(completed.count) * 1000 / Double(total)).rounded() / 10,
      estimatedRemaining: Estimate.text(seconds, remainingCount: total - completed.count),
      estimatedRemainingSeconds: completed.count == total ? 0 : seconds, currentSubtask: current,
      subtaskDetails: details, workdir: layout.workdir(plan: plan.id), cost: cost)
    return (status, history)
  }
}
