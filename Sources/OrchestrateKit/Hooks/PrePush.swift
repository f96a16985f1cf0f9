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
  /// "The remote has it" means reachable from the remote's current value of any ref in the push or
  /// from any remote-tracking ref of `remote`; a remote id this clone does not have hides nothing.
  public func commitsToVerify(remote: String, updates: [PushUpdate]) throws -> [SubtaskCommit] {
    var hidden = updates.map(\.remoteOID).filter { !$0.isZero && repository.contains($0) }
    if Repository.isValidReferenceName("refs/remotes/\(remote)/HEAD") {
      hidden += try repository.references(withPrefix: "refs/remotes/\(remote)/").compactMap(\.target)
    }
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

  /// Reads git's input and verifies; the report says whether the push may go on.
  public func run(remote: String, input: String) throws -> VerifyReport {
    try verifier.verify(try commitsToVerify(remote: remote, updates: try PushUpdate.parse(input)))
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
