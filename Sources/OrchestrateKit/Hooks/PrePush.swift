import Foundation
import GitKit

/// One line of what git gives a pre-push hook on standard input.
public struct PushUpdate: Sendable, Equatable {
  public var localRef: String
  public var localOID: OID
  public var remoteRef: String
  public var remoteOID: OID

  /// A deleted ref: git sends `(delete)` and an all-zero local id.
  public var isDeletion: Bool { localOID.isZero }

  /// Reads git's `<local ref> <local oid> <remote ref> <remote oid>` lines.
  /// - Throws: `OrchestrateError.invalidArgument` for a line that is not in that form.
  public static func parse(_ text: String) throws -> [PushUpdate] {
    try text.split(whereSeparator: \.isNewline).compactMap { line in
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      if fields.isEmpty { return nil }
      guard fields.count == 4, let local = OID(hex: String(fields[1])), let remote = OID(hex: String(fields[3])) else {
        throw OrchestrateError.invalidArgument(
          "unexpected pre-push input line '\(line.prefix(200))'; git gives '<local ref> <local oid> <remote ref> <remote oid>'"
        )
      }
      return PushUpdate(localRef: String(fields[0]), localOID: local, remoteRef: String(fields[2]), remoteOID: remote)
    }
  }
}

/// The pre-push check: every sub-task commit a push sends that the remote does not have must have
/// passed its checkpoint on its exact tree.
public struct PrePushCheck {
  public let verifier: Verifier
  var repository: Repository { verifier.orchestrator.repository }

  public init(verifier: Verifier) {
    self.verifier = verifier
  }

  /// The sub-task commits the push would send, for every ref in it, each once (with the first ref that
  /// sends it), oldest first per ref.
  ///
  /// "The remote has it" means reachable from the remote's current value of a ref in the push (git
  /// gives it on standard input) or from a commit the remote advertises (`advertised`). Local
  /// remote-tracking refs (`refs/remotes/*`) are never used: anyone with the clone can point one at
  /// a commit to have it skipped. A remote id this clone does not have hides nothing.
  public func commitsToVerify(updates: [PushUpdate], advertised: [OID]) throws -> [SubtaskCommit] {
    let hidden = (updates.map(\.remoteOID) + advertised).filter { !$0.isZero && repository.contains($0) }
    var seen = Set<OID>()
    var result: [SubtaskCommit] = []
    for update in updates where !update.isDeletion {
      guard let tip = try? repository.revparse(update.localOID.hex) else { continue }  // a tag of a tree or blob
      for commit in try verifier.subtaskCommits(reachableFrom: [tip], hiding: hidden, ref: update.localRef)
      where seen.insert(commit.commit).inserted {
        result.append(commit)
      }
    }
    return result
  }

  /// The commits the remote advertises now (`git ls-remote`); empty when it cannot be asked, which
  /// only makes the check look at more commits, never fewer.
  /// - Parameter remote: the URL git pushes to, or the remote's name.
  public func advertisedCommits(remote: String) -> [OID] {
    guard !remote.hasPrefix("-") else { return [] }
    let directory = repository.workingDirectory ?? repository.gitDirectory
    guard let listed = try? GitCommand.run(["ls-remote", remote], in: directory, outputLimit: 64 << 20), listed.succeeded
    else { return [] }
    // Warnings git prints on standard error share the text; only `<id>\t<ref>` lines are read.
    return listed.text.split(separator: "\n").compactMap { line in
      line.split(separator: "\t", maxSplits: 1).first.flatMap { OID(hex: String($0)) }
    }
  }

  /// Reads git's input and verifies; the report says whether the push may go on.
  /// - Parameters:
  ///   - remote: the remote's name (or URL), git's first argument to the hook.
  ///   - url: the URL pushed to, git's second argument; the remote is asked what it has there.
  public func run(remote: String, url: String?, input: String) throws -> VerifyReport {
    let updates = try PushUpdate.parse(input)
    guard updates.contains(where: { !$0.isDeletion }) else { return VerifyReport(results: []) }
    let advertised = advertisedCommits(remote: url ?? remote)
    return try verifier.verify(try commitsToVerify(updates: updates, advertised: advertised))
  }

  /// The message that refuses a push: which commits, why, and how to fix or bypass.
  public static func refusal(_ report: VerifyReport) -> String {
    let failures = report.failures
    var lines = [
      "push refused: \(failures.count) sub-task commit\(failures.count == 1 ? " has" : "s have") not passed \(failures.count == 1 ? "its" : "their") checkpoint on the exact tree being pushed:"
    ]
    for failure in failures {
      lines.append("  \(failure.failureLine)\(failure.ref.map { " (in \($0))" } ?? "")")
      if let tail = failure.outputTail?.split(separator: "\n", omittingEmptySubsequences: false).suffix(10),
        !tail.isEmpty
      {
        lines += tail.filter { !$0.isEmpty }.map { "      " + $0 }
      }
      if let notice = failure.notice { lines.append("    " + notice) }
    }
    lines.append(
      "Fix the sub-task's work so its checkpoint passes (or rerun it with 'git orchestrate run'), commit, and push again; 'git orchestrate verify' shows the details. To push anyway, once: git push --no-verify"
    )
    return lines.joined(separator: "\n")
  }
}
