import ArgumentParser
import Foundation
import OrchestrateKit

extension GitOrchestrate {
  /// Takes the repository lock as `run` does and marks entry and exit in a file: the lock race test
  /// runs two of these at once and reads the marks.
  struct DebugLock: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "debug-lock",
      abstract: "Take the repository lock, mark it in a file, hold it until the file has N lines (tests).",
      shouldDisplay: false)

    @OptionGroup var repository: RepositoryOptions
    @Option(help: "The file to append 'in NAME', 'out NAME' or 'refused NAME' to.") var marks: String
    @Option(help: "This racer's name.") var name: String
    @Option(help: "Hold the lock until the marks file has this many lines (at most 20 s).") var lines = 2

    func run() throws {
      let orchestrator = try repository.orchestrator()
      let lock = RepositoryLock(path: orchestrator.layout.lockPath)
      do {
        try lock.acquire(plan: "debug-lock", command: "debug-lock")
      } catch let error as OrchestrateError {
        guard case .locked = error else { throw error }
        try append("refused \(name)")
        throw ExitCode(3)
      }
      try append("in \(name)" + (lock.recoveredStale ? " recovered" : ""))
      let deadline = Date().addingTimeInterval(20)
      while Date() < deadline, count() < lines { usleep(2_000) }
      try append("out \(name)")
      // A run would have removed the git locks of the dead holder by now; this one stands for it.
      lock.staleGitLocksRemoved()
      lock.release()
    }

    private func count() -> Int {
      (FileManager.default.contents(atPath: marks).map { String(decoding: $0, as: UTF8.self) } ?? "")
        .split(separator: "\n").count
    }

    /// One `write` with O_APPEND: lines of the two racers never interleave.
    private func append(_ line: String) throws {
      let fd = open(marks, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw ValidationError("cannot open \(marks)") }
      defer { close(fd) }
      let bytes = Array((line + "\n").utf8)
      _ = write(fd, bytes, bytes.count)
    }
  }
}
