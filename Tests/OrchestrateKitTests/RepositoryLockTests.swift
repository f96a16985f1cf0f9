import Foundation
import Testing

@testable import OrchestrateKit

/// The record a dead holder leaves, and what the next holders make of it.
@Suite("RepositoryLock")
struct RepositoryLockTests {
  /// A lock file in a fresh temporary folder holding `record`.
  static func lockFile(holding record: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lock-" + UUID().uuidString)
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let path = folder.appendingPathComponent("lock").path
    try Data(record.utf8).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// A pid no process has (a child that has exited and been reaped).
  static func deadPID() throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/true")
    try process.run()
    process.waitUntilExit()
    return process.processIdentifier
  }

  @Test("a holder that takes a dead run's lock over and lets it go without removing that run's git locks hands the duty on, dated by the dead run")
  func clearingHandedOn() throws {
    let started = "2026-01-01T00:00:00Z"
    let path = try Self.lockFile(
      holding: #"{"pid":\#(try Self.deadPID()),"host":"\#(ProcessInfo.processInfo.hostName)","plan":"p","command":"run","started":"\#(started)"}"#)
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let deadStart = try #require(ISO8601DateFormatter().date(from: started))

    let first = RepositoryLock(path: path)
    try first.acquire(plan: "p", command: "clean")
    #expect(first.recoveredStale)
    #expect(first.staleHolderStarted == deadStart)
    first.release()
    // The record stays: the next holder takes it for a dead one's, with the first dead run's start.
    #expect(FileManager.default.fileExists(atPath: path))
    let second = RepositoryLock(path: path)
    try second.acquire(plan: "p", command: "run")
    #expect(second.recoveredStale)
    #expect(second.staleHolderStarted == deadStart)
    // Once removed, the lock is let go as usual and the next holder recovers nothing.
    second.staleGitLocksRemoved()
    second.release()
    #expect(!FileManager.default.fileExists(atPath: path))
    let third = RepositoryLock(path: path)
    try third.acquire(plan: "p", command: "run")
    #expect(!third.recoveredStale)
    #expect(third.staleHolderStarted == nil)
    third.release()
  }

  @Test("a record rewritten shorter is read whole: the old one's tail never shows")
  func shorterRecordReadWhole() throws {
    let path = try Self.lockFile(holding: "")
    defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
    let lock = RepositoryLock(path: path)
    try lock.acquire(plan: "p", command: "run")
    lock.record(running: (1...50).map { "subtask-\($0)" })
    lock.record(running: ["one"])
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let record = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    #expect(record["running"] as? [String] == ["one"])
    #expect(!text.contains("subtask-"))
    #expect(RepositoryLock.liveHolder(at: path)?.running == ["one"])
    lock.release()
  }
}
