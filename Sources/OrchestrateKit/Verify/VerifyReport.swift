import Foundation
import GitKit

/// A commit of main that claims a sub-task: it carries `Orchestrate-Plan` and `Orchestrate-Subtask`.
public struct SubtaskCommit: Sendable, Equatable {
  public var commit: OID
  public var tree: OID
  public var summary: String
  public var plan: String
  public var subtask: String
  public var order: Int
  /// The ref being pushed that brings this commit, when known (pre-push).
  public var ref: String?

  /// Reads the trailers of `commit`; nil for a commit that is not a sub-task commit, including the
  /// failed attempts kept on sub-task branches (`Orchestrate-Result: failed …`), which claim nothing.
  init?(_ commit: Commit, ref: String? = nil) {
    guard let plan = commit.trailer(Trailers.plan), let value = commit.trailer(Trailers.subtask),
      let parsed = Trailers.parseSubtask(value)
    else { return nil }
    if case .failedAttempt = CommitRole(commit) { return nil }
    self.commit = commit.oid
    tree = commit.tree
    summary = commit.summary
    self.plan = plan
    subtask = parsed.id
    order = parsed.order
    self.ref = ref
  }
}

/// Whether one sub-task commit passed its checkpoint on its exact tree, and how that was decided.
public struct VerifiedCommit: Codable, Sendable, Equatable {
  public enum Source: String, Codable, Sendable {
    /// A pass recorded for this tree and these commands; nothing ran.
    case cached
    /// The checkpoint ran now, in a temporary working directory at the commit.
    case ran
    /// Nothing recorded and running was not allowed (`--cached`).
    case missing
  }

  public var commit: String
  public var tree: String
  public var summary: String
  public var plan: String
  public var subtask: String
  public var order: Int
  public var ref: String?
  public var passed: Bool
  public var source: Source
  /// Whether this verification wrote a record (a run on a tree it left clean).
  public var recorded: Bool
  public var failingCommand: String?
  public var failureSummary: String?
  public var outputTail: String?
  public var notice: String?
  public var durationSeconds: Double

  enum CodingKeys: String, CodingKey {
    case commit, tree, summary, plan, subtask, order, ref, passed, source, recorded, notice
    case failingCommand = "failing_command"
    case failureSummary = "failure_summary"
    case outputTail = "output_tail"
    case durationSeconds = "duration_seconds"
  }

  /// `abc1234 plan four, sub-task 3 three: grep -q fixed three.txt exited 1`.
  public var failureLine: String {
    let head = "\(commit.prefix(12)) plan \(plan), sub-task \(order) \(subtask)"
    guard !passed else { return head + ": passed" }
    if let failingCommand { return head + ": \(failingCommand) \(failureSummary ?? "failed")" }
    return head + ": \(failureSummary ?? "failed")"
  }
}

/// The outcome of `verify`: one entry per sub-task commit, oldest first.
public struct VerifyReport: Codable, Sendable, Equatable {
  public var results: [VerifiedCommit]

  public init(results: [VerifiedCommit]) {
    self.results = results
  }

  public var passed: Bool { results.allSatisfy(\.passed) }
  public var failures: [VerifiedCommit] { results.filter { !$0.passed } }
  /// How many checkpoints ran (the rest were cached).
  public var ranCount: Int { results.filter { $0.source == .ran }.count }

  enum CodingKeys: String, CodingKey {
    case results, passed, checked, failed, ran
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(passed, forKey: .passed)
    try c.encode(results.count, forKey: .checked)
    try c.encode(failures.count, forKey: .failed)
    try c.encode(ranCount, forKey: .ran)
    try c.encode(results, forKey: .results)
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    results = try c.decode([VerifiedCommit].self, forKey: .results)
  }

  public func jsonData() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return try encoder.encode(self)
  }
}
