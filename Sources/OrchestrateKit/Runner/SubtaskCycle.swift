import Foundation
import GitKit

/// One sub-task being worked on: made by `PlanSession.begin`, carried through `work`, `check` and
/// `settle`. Its branch exists and the workspace holds it.
public struct SubtaskCycle: Sendable {
  public let subtask: Subtask
  public let branch: String
  public let branchRef: String
  public let workdir: String
  /// The job slot whose work folder holds it (0 but in a parallel run).
  public let slot: Int
  /// Which of a `best_of` sub-task's agents this is (1 otherwise).
  public var contender = 1
  /// The main commit the sub-task builds on.
  public internal(set) var base: OID
  /// Failed attempts recorded on the branch so far.
  public internal(set) var attempts: Int
  /// True when nothing had been done on the sub-task when it began.
  public let fresh: Bool
  /// Seconds spent on the recorded attempts (from their trailers).
  public internal(set) var spent: Double
  /// A commit that already passed and was made for main, when a run stopped just before moving main.
  public internal(set) var landing: OID?
  /// When the work of the attempt under way began: its duration is counted once, from here.
  public internal(set) var attemptStarted: Date
  /// True when `work` ran since the last attempt was recorded.
  var unrecordedWork = false
  /// True while the work is the branch as a person left it (a resumed run's first check): changes
  /// to protected paths made by hand since the last agent attempt are accepted, and recorded.
  var acceptsHandFix = false
}

/// What a checkpoint said about one exact tree.
///
/// An enum, so that a pass without a tree or a failure without a reason cannot be written down.
public enum Verdict: Sendable {
  /// Every command exited 0 on `tree`; `cached` when the pass was one this session ran before on
  /// the same tree and commands. `seconds` is the time the commands took when they ran.
  case passed(tree: OID, cached: Bool, results: [CommandReport], seconds: Double)
  /// A command failed on `tree`, or the agent did before any checkpoint ran.
  case failed(tree: OID, failure: CheckpointFailure, results: [CommandReport], seconds: Double)

  public var tree: OID {
    switch self {
    case .passed(let tree, _, _, _), .failed(let tree, _, _, _): tree
    }
  }

  public var results: [CommandReport] {
    switch self {
    case .passed(_, _, let results, _), .failed(_, _, let results, _): results
    }
  }

  public var seconds: Double {
    switch self {
    case .passed(_, _, _, let seconds), .failed(_, _, _, let seconds): seconds
    }
  }

  public var failure: CheckpointFailure? {
    if case .failed(_, let failure, _, _) = self { return failure }
    return nil
  }

  public var passed: Bool { failure == nil }

  /// True for a pass this session ran before on the same tree and commands: no command ran now.
  public var cached: Bool {
    if case .passed(_, let cached, _, _) = self { return cached }
    return false
  }
}

/// What became of a verdict.
public enum Settlement: Sendable {
  /// The sub-task's commit is on main.
  case landed(Landing)
  /// The attempt failed and is kept on the branch as `attemptCommit`; another attempt may follow.
  case retry(failure: CheckpointFailure, attemptCommit: OID)
  /// Main moved and the validated work does not apply to it; kept on the branch as `attemptCommit`.
  case conflict(paths: [String], attemptCommit: OID)
}

/// A sub-task's commit, now on main.
public struct Landing: Sendable {
  public var commit: OID
  /// Attempts it took, this one included.
  public var attempts: Int
  /// Seconds of work on the sub-task, every attempt counted once (its `Orchestrate-Duration`).
  public var seconds: Double
  /// The paths the commit changed.
  public var artifacts: [String]
}
