import Foundation
import GitKit

/// A plan as stored in the repository: the normalised plan, the commit holding it, and the main
/// commit it started from.
public struct StoredPlan: Sendable {
  public let plan: Plan
  public let commit: OID
  /// The tip of main when the plan was added: progress is read from main's history down to it.
  public let base: OID?
  /// The file the plan was read from, as given.
  public let source: String?
}

/// Plans live as commits under `refs/orchestrate/plans/<id>`: immutable, shared by push and fetch,
/// never written into the user's tree.
public struct PlanStore {
  public let repository: Repository
  /// Plans decoded in this process, by the id of the blob they were decoded from: a blob never
  /// changes, and a long-lived process (the MCP server reads the stored plan at every tool call)
  /// then decodes each plan once.
  private static let decoded = LockedBox<[OID: Plan]>([:])

  public init(repository: Repository) {
    self.repository = repository
  }

  public enum AddOutcome: String, Sendable, Codable {
    case added, unchanged, replaced
  }

  /// Every stored plan, sorted by id.
  public func list() throws -> [StoredPlan] {
    try repository.references(withPrefix: Layout.planRefPrefix).compactMap { ref in
      guard let oid = ref.target else { return nil }
      return try load(commit: oid)
    }
  }

  public func ids() throws -> [String] {
    try repository.references(withPrefix: Layout.planRefPrefix).map {
      String($0.name.dropFirst(Layout.planRefPrefix.count))
    }
  }

  /// The stored plan `id`, or `nil` when there is none.
  public func find(_ id: String) throws -> StoredPlan? {
    guard RefNameComponent.problem(with: id) == nil else { return nil }
    guard let oid = try repository.resolve(Layout.planRef(id)) else { return nil }
    return try load(commit: oid)
  }

  public func load(_ id: String) throws -> StoredPlan {
    if let stored = try find(id) { return stored }
    throw OrchestrateError.planNotFound(id, known: try ids())
  }

  func load(commit oid: OID) throws -> StoredPlan {
    let commit = try repository.commit(oid)
    guard let entry = try repository.treeEntry(in: commit.tree, path: "plan.json") else {
      throw OrchestrateError.io("the plan commit \(oid) has no plan.json; the ref was not written by git orchestrate")
    }
    let plan: Plan
    if let known = Self.decoded.withLock({ $0[entry.oid] }) {
      plan = known
    } else {
      // Read where libgit2 inflated it: a plan of 10,000 sub-tasks is 4 MB of JSON.
      if let fast = try repository.withBlob(entry.oid, { NormalizedPlanParser.plan(from: $0) }), fast.isSoundForEngine {
        plan = fast
      } else {
        plan = try Plan.fromNormalizedJSON(try repository.blob(entry.oid))
      }
      Self.decoded.withLock { plans in
        if plans.count >= 64 { plans.removeAll() }
        plans[entry.oid] = plan
      }
    }
    Trace.mark("plan read (\(plan.subtasks.count) sub-tasks)")
    let base = commit.trailer("Orchestrate-Base").flatMap(OID.init(hex:))
    return StoredPlan(plan: plan, commit: oid, base: base, source: commit.trailer("Orchestrate-Source"))
  }

  /// Stores `plan`. The same plan again is a no-op; a different plan under a stored id is refused
  /// unless `replace` is set and either nothing of the stored plan has run, or `editStarted` is set
  /// and every sub-task completed on main is unchanged (`PlanEdit.check`).
  ///
  /// A replacement is a new commit on top of the stored one (so `plan log` shows every version),
  /// keeping the stored base: progress is read from main's history down to it, and a new base would
  /// hide the sub-tasks already completed.
  /// - Parameters:
  ///   - base: the main commit the plan starts from (used when the plan is new).
  ///   - mainRefs: the main branches whose history tells whether the stored plan has started.
  ///   - editStarted: whether a started plan may be replaced (a human edit from the command line;
  ///     the MCP server never edits a started plan).
  @discardableResult
  public func add(
    _ plan: Plan, source: String?, base: OID?, replace: Bool = false, mainRefs: [String] = [],
    editStarted: Bool = false
  ) throws -> (StoredPlan, AddOutcome) {
    let json = try plan.normalizedJSON()
    let ref = Layout.planRef(plan.id)
    let existing = try repository.resolve(ref)
    var base = base
    var summary = "\(plan.subtasks.count) sub-task\(plan.subtasks.count == 1 ? "" : "s")"
    if let existing {
      let stored = try load(commit: existing)
      if try stored.plan.normalizedJSON() == json { return (stored, .unchanged) }
      guard replace else { throw OrchestrateError.planExists(id: plan.id) }
      if try hasStarted(stored, mainRefs: mainRefs) {
        guard editStarted else { throw OrchestrateError.planAlreadyStarted(id: plan.id) }
        try PlanEdit.check(
          stored: stored.plan, replacement: plan, completed: try completedSubtasks(stored, mainRefs: mainRefs))
      }
      base = stored.base ?? base
      summary = PlanEdit.summary(from: stored.plan, to: plan)
    }
    var files: [String: Data] = ["plan.json": json]
    if let source, let data = FileManager.default.contents(atPath: source), data.count <= 1 << 20 {
      files["source/" + ((source as NSString).lastPathComponent.isEmpty ? "plan" : (source as NSString).lastPathComponent)] = data
    }
    let tree = try repository.writeTree(files: files)
    var trailers = ["Orchestrate-Plan: \(plan.id)"]
    if let base { trailers.append("Orchestrate-Base: \(base.hex)") }
    if let source { trailers.append("Orchestrate-Source: \(Trailers.sanitize(source))") }
    let verb = existing == nil ? "plan" : "plan edit"
    let message = "\(verb) \(plan.id): \(Trailers.sanitize(plan.description))\n\n\(summary)\n\n" + trailers.joined(separator: "\n") + "\n"
    let signature = userSignature()
    let commit = try repository.createCommit(
      tree: tree, parents: existing.map { [$0] } ?? [], message: message, author: signature, committer: signature)
    try repository.updateReference(
      ref, to: commit, expected: existing,
      message: "orchestrate: plan \(existing == nil ? "add" : "edit") \(plan.id)")
    return (try load(commit: commit), existing == nil ? .added : .replaced)
  }

  /// Who stores a plan version, as git would name them for a commit: `GIT_AUTHOR_NAME`,
  /// `GIT_AUTHOR_EMAIL` and `GIT_AUTHOR_DATE` first, then `user.name` and `user.email`. `plan log`
  /// shows it: an edit of a plan is a person's act.
  func userSignature() -> Signature {
    let environment = ProcessInfo.processInfo.environment
    var signature = repository.defaultSignature()
    if let name = environment["GIT_AUTHOR_NAME"], !name.isEmpty { signature.name = name }
    if let email = environment["GIT_AUTHOR_EMAIL"], !email.isEmpty { signature.email = email }
    if let text = environment["GIT_AUTHOR_DATE"], let date = Self.parseDate(text) { signature.date = date }
    return signature
  }

  /// The date forms of `GIT_AUTHOR_DATE` worth reading here: ISO 8601 and `@<seconds>` or
  /// `<seconds> <zone>` (git's internal form); anything else is the current time.
  static func parseDate(_ text: String) -> Date? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    let seconds = trimmed.hasPrefix("@") ? String(trimmed.dropFirst()) : String(trimmed.split(separator: " ").first ?? "")
    if let value = Double(seconds) { return Date(timeIntervalSince1970: value) }
    return try? Date(trimmed, strategy: .iso8601)
  }

  /// The ids of the stored plan's sub-tasks completed on the first-parent history of `mainRefs`
  /// (down to the plan's base), by the one rule `CommitRole`.
  public func completedSubtasks(_ stored: StoredPlan, mainRefs: [String]) throws -> Set<String> {
    var done: Set<String> = []
    for ref in Set(mainRefs) {
      guard let tip = try repository.resolve(ref) else { continue }
      var stop = stored.base
      if let base = stored.base, !(try repository.isAncestor(base, of: tip)) { stop = nil }
      try repository.walkFirstParents(from: tip, stop: stop) { commit in
        if let completion = CommitRole(commit).completion(of: stored.plan.id) { done.insert(completion.subtask) }
        return true
      }
    }
    return done
  }

  /// Every version of plan `id`, newest first: who stored it, when, and what changed from the one
  /// before.
  public func versions(_ id: String) throws -> [PlanVersion] {
    guard RefNameComponent.problem(with: id) == nil, var next = try repository.resolve(Layout.planRef(id)) else {
      throw OrchestrateError.planNotFound(id, known: try ids())
    }
    var versions: [PlanVersion] = []
    var pending: (commit: Commit, plan: Plan)?
    while versions.count < 10_000 {
      let commit = try repository.commit(next)
      let plan = try load(commit: next).plan
      if let (newer, newerPlan) = pending {
        versions.append(PlanVersion(commit: newer, changes: PlanEdit.changes(from: plan, to: newerPlan)))
      }
      pending = (commit, plan)
      guard let parent = commit.parents.first else { break }
      next = parent
    }
    if let (oldest, plan) = pending {
      versions.append(PlanVersion(commit: oldest, changes: plan.subtasks.map { .added($0.id) }))
    }
    return versions
  }

  /// Whether anything of the stored plan has run: a commit completing one of its sub-tasks on the
  /// first-parent history of any of `mainRefs` (down to the plan's base), or a sub-task branch or
  /// attempts ref.
  ///
  /// Main's history decides: the user may remove the plan's work folder and branches once its
  /// sub-tasks landed, and the plan is still started then. Branches only add evidence (failed
  /// attempts of the stored plan that a replacement would leave behind).
  public func hasStarted(_ stored: StoredPlan, mainRefs: [String]) throws -> Bool {
    let planID = stored.plan.id
    for ref in Set(mainRefs) {
      guard let tip = try repository.resolve(ref) else { continue }
      var stop = stored.base
      if let base = stored.base, !(try repository.isAncestor(base, of: tip)) { stop = nil }
      var found = false
      try repository.walkFirstParents(from: tip, stop: stop) { commit in
        found = CommitRole(commit).completion(of: planID) != nil
        return !found
      }
      if found { return true }
    }
    if !(try repository.references(withPrefix: Layout.branchPrefix + planID + "/").isEmpty) { return true }
    if !(try repository.references(withPrefix: Layout.attemptsRefPrefix + planID + "/").isEmpty) { return true }
    return false
  }
}
