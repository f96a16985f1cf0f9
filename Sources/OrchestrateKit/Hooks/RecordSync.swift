import Foundation
import GitKit

/// Carries the checkpoint records (`refs/notes/orchestrate`) and the stored plans
/// (`refs/orchestrate/plans/*`) to and from a remote, so another clone can verify and report status.
///
/// Notes are merged, never overwritten: the remote's notes are fetched to
/// `refs/notes/remotes/<remote>/orchestrate` and merged with `cat_sort_uniq`, which keeps every
/// record line of both sides (records are one JSON line each, so the union is exact). Plans are
/// immutable, so they are fetched and pushed without force. No `remote.<name>.push` refspec is set:
/// one would change what a plain `git push` sends.
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

  private var directory: String { repository.workingDirectory ?? repository.gitDirectory }

  /// Fetches the remote's plans and checkpoint records and merges the records into ours.
  public func fetch(remote: String) throws -> Outcome {
    let tracking = Self.remoteNotesRef(remote)
    let fetched = try GitCommand.run(
      [
        "fetch", "--no-write-fetch-head", "--quiet", remote,
        "+\(Layout.notesRef)*:\(tracking)*",
        "\(Layout.planRefPrefix)*:\(Layout.planRefPrefix)*",
      ], in: directory)
    guard fetched.succeeded else {
      throw OrchestrateError.io(
        "git fetch \(remote) failed: \(fetched.message); plans with an id you also have but different content are refused, never overwritten"
      )
    }
    var lines = ["fetched plans and checkpoint records from \(remote)"]
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

  /// Pushes our plans and checkpoint records (after merging the remote's, so the push is a fast-forward).
  public func push(remote: String) throws -> Outcome {
    var lines = try fetch(remote: remote).lines
    var refspecs: [String] = []
    if try repository.resolve(Layout.notesRef) != nil { refspecs.append("\(Layout.notesRef):\(Layout.notesRef)") }
    if !(try repository.references(withPrefix: Layout.planRefPrefix).isEmpty) {
      refspecs.append("\(Layout.planRefPrefix)*:\(Layout.planRefPrefix)*")
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
    lines.append("pushed plans and checkpoint records to \(remote)")
    return Outcome(lines: lines)
  }
}
