import Foundation
import GitKit

/// Carries the checkpoint records (`refs/notes/orchestrate`) and the stored plans
/// (`refs/orchestrate/plans/*`) to and from a remote, so another clone can verify and report status.
///
/// Notes are merged, never overwritten: the remote's notes are fetched to
/// `refs/notes/remotes/<remote>/orchestrate` and merged with `cat_sort_uniq`, which keeps every
/// record line of both sides (records are one JSON line each, so the union is exact).
///
/// Fetched plans never replace local ones: the remote's plans land under
/// `refs/orchestrate/remotes/<remote>/plans/*`; a plan this clone does not have is adopted (so
/// `status` and `verify` work in a fresh clone), one it has with other content is reported and left
/// alone. A plan's checkpoint commands are what `run` executes, and another clone (or whoever can
/// push to the remote) must not be able to change them under a plan you started. Plans are pushed
/// without force. No `remote.<name>.push` refspec is set: one would change what a plain `git push` sends.
public struct RecordSync {
  public let repository: Repository

  public init(repository: Repository) {
    self.repository = repository
  }

  /// What a sync did, for the user.
  public struct Outcome: Sendable {
    public var lines: [String]
  }

  /// The remote to use: the one given, else `branch.<main>.remote`, else `origin`.
  public func remote(_ given: String?, mainBranch: String) throws -> String {
    let name = try given ?? repository.configString("branch.\(mainBranch).remote") ?? "origin"
    guard name != ".", try repository.configString("remote.\(name).url") != nil,
      Repository.isValidReferenceName("refs/notes/remotes/\(name)/orchestrate")
    else {
      throw OrchestrateError.invalidArgument(
        "no remote named '\(name)'; give a configured remote ('git remote -v' lists them)")
    }
    return name
  }

  static func remoteNotesRef(_ remote: String) -> String { "refs/notes/remotes/\(remote)/orchestrate" }

  /// Where what is fetched from remotes lives: `refs/orchestrate/remotes/<remote>/…`.
  public static let remotesPrefix = "refs/orchestrate/remotes/"

  /// Where the sub-task branches are pushed to on a remote, apart from its branches:
  /// `refs/orchestrate/branches/<plan>/<NN>-<id>`.
  public static let pushedBranchPrefix = "refs/orchestrate/branches/"

  /// Where a remote's plans are fetched to: `refs/orchestrate/remotes/<remote>/plans/`.
  public static func remotePlanPrefix(_ remote: String) -> String { "refs/orchestrate/remotes/\(remote)/plans/" }

  private var directory: String { repository.workingDirectory ?? repository.gitDirectory }

  /// Fetches the remote's plans and checkpoint records and merges the records into ours.
  public func fetch(remote: String) throws -> Outcome {
    let tracking = Self.remoteNotesRef(remote)
    let fetched = try GitCommand.run(
      [
        "fetch", "--no-write-fetch-head", "--quiet", remote,
        "+\(Layout.notesRef)*:\(tracking)*",
        "+\(Layout.planRefPrefix)*:\(Self.remotePlanPrefix(remote))*",
        // Failed sub-tasks and their attempts, read by status, log and show (`AttemptLog.keptRefs`).
        "+\(Self.pushedBranchPrefix)*:\(Self.remotesPrefix)\(remote)/branches/*",
        "+\(Layout.attemptsRefPrefix)*:\(Self.remotesPrefix)\(remote)/attempts/*",
      ], in: directory)
    guard fetched.succeeded else {
      throw OrchestrateError.io(
        "git fetch \(remote) failed: \(fetched.message)")
    }
    var lines = ["fetched plans, checkpoint records and sub-task attempts from \(remote)"]
    lines += try settlePlans(remote: remote)
    if let theirs = try repository.resolve(tracking) {
      if let ours = try repository.resolve(Layout.notesRef) {
        if try !repository.isAncestor(theirs, of: ours) {
          let merged = try GitCommand.run(
            ["notes", "--ref=\(Layout.notesRef)", "merge", "--quiet", "--strategy=cat_sort_uniq", tracking],
            in: directory)
          guard merged.succeeded else {
            throw OrchestrateError.io(
              "cannot merge the checkpoint records of \(remote): \(merged.message)"
            )
          }
          lines.append("merged \(remote)'s checkpoint records into \(Layout.notesRef)")
        }
      } else {
        try repository.updateReference(
          Layout.notesRef, to: theirs, expected: nil, message: "orchestrate: fetch \(remote)")
        lines.append("took \(remote)'s checkpoint records as \(Layout.notesRef)")
      }
    }
    return Outcome(lines: lines)
  }

  /// Compares each plan fetched from `remote` with ours: adopts the ones we lack, reports the ones
  /// that differ, never changes a local plan.
  func settlePlans(remote: String) throws -> [String] {
    let prefix = Self.remotePlanPrefix(remote)
    let store = PlanStore(repository: repository)
    var lines: [String] = []
    for ref in try repository.references(withPrefix: prefix) {
      guard let theirs = ref.target else { continue }
      let id = String(ref.name.dropFirst(prefix.count))
      guard RefNameComponent.problem(with: id) == nil, let remotePlan = try? store.load(commit: theirs),
        remotePlan.plan.id == id
      else {
        lines.append("ignored \(ref.name): not a plan git orchestrate wrote (its plan.json is missing or names another id)")
        continue
      }
      guard let ours = try repository.resolve(Layout.planRef(id)) else {
        try repository.updateReference(Layout.planRef(id), to: theirs, expected: nil, message: "orchestrate: fetch \(remote)")
        lines.append(
          "adopted plan '\(id)' from \(remote) (\(Plural.count(remotePlan.plan.subtasks.count, "sub-task"))); read it with 'git orchestrate plan show \(id)' before you run it"
        )
        continue
      }
      if ours == theirs { continue }
      let local = try store.load(commit: ours)
      if try local.plan.normalizedJSON() == remotePlan.plan.normalizedJSON() { continue }
      lines.append(
        "plan '\(id)' differs on \(remote); yours is kept, theirs is at \(ref.name) (compare: git diff \(Layout.planRef(id)) \(ref.name) -- plan.json)"
      )
    }
    return lines
  }

  /// Pushes our plans and checkpoint records (after merging the remote's, so the push is a fast-forward).
  public func push(remote: String) throws -> Outcome {
    var lines = try fetch(remote: remote).lines
    var refspecs: [String] = []
    if try repository.resolve(Layout.notesRef) != nil { refspecs.append("\(Layout.notesRef):\(Layout.notesRef)") }
    if !(try repository.references(withPrefix: Layout.planRefPrefix).isEmpty) {
      refspecs.append("\(Layout.planRefPrefix)*:\(Layout.planRefPrefix)*")
    }
    // The sub-task branches (failed attempts of open sub-tasks) and the attempts of landed ones, so
    // another clone shows failures as this one does. Forced: each is this clone's working record,
    // rewritten when a branch is replayed onto a moved main; no commit of ours is lost by it.
    if !(try repository.references(withPrefix: Layout.branchPrefix).isEmpty) {
      refspecs.append("+\(Layout.branchPrefix)*:\(Self.pushedBranchPrefix)*")
    }
    if !(try repository.references(withPrefix: Layout.attemptsRefPrefix).isEmpty) {
      refspecs.append("+\(Layout.attemptsRefPrefix)*:\(Layout.attemptsRefPrefix)*")
    }
    guard !refspecs.isEmpty else {
      lines.append("nothing to push: no plan and no checkpoint record in this repository")
      return Outcome(lines: lines)
    }
    let pushed = try GitCommand.run(["push", "--quiet", remote] + refspecs, in: directory)
    guard pushed.succeeded else {
      throw OrchestrateError.io(
        "git push \(remote) failed: \(pushed.message)")
    }
    lines.append("pushed plans, checkpoint records and sub-task attempts to \(remote)")
    return Outcome(lines: lines)
  }
}
