import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

private let baseEnvironment = ["PATH": "/usr/bin:/bin", "LC_ALL": "C"]

private func spec(_ command: String, in directory: String = "/") -> CommandSpec {
  CommandSpec(command: command, directory: directory, environment: baseEnvironment)
}

@Suite("ProcessRunner")
struct ProcessTests {
  let runner = ProcessRunner()

  @Test("exit statuses are reported as they are")
  func exitStatuses() throws {
    let success = try runner.run(spec("true"))
    #expect(success.termination == .exited(0))
    #expect(success.succeeded)
    #expect(success.summary == "exited 0")

    let failure = try runner.run(spec("exit 3"))
    #expect(failure.termination == .exited(3))
    #expect(!failure.succeeded)
    #expect(failure.exitCode == 3)
    #expect(failure.summary == "exited 3")
  }

  @Test("a command killed by a signal reports it and 128+n")
  func killedBySignal() throws {
    let result = try runner.run(spec("kill -9 $$"))
    #expect(result.termination == .signalled(9))
    #expect(result.exitCode == 137)
    #expect(result.summary == "killed by signal 9")
  }

  @Test("standard output and error arrive merged, in order, to the handler and the tail")
  func outputOrder() throws {
    let chunks = ChunkRecorder()
    let result = try runner.run(
      spec("echo one; echo two >&2; echo three; printf four >&2"), output: chunks.record)
    #expect(result.outputTail == "one\ntwo\nthree\nfour")
    #expect(result.outputBytes == 18)
    #expect(String(decoding: chunks.bytes, as: UTF8.self) == "one\ntwo\nthree\nfour")
  }

  @Test("a command printing 50 MB keeps only the tail but counts every byte")
  func boundedTail() throws {
    var command = spec("head -c 52428800 /dev/zero | tr '\\0' a; printf END")
    command.tailBytes = 1000
    let counter = ByteCounter()
    let result = try runner.run(command, output: counter.count)
    #expect(result.outputBytes == 52_428_800 + 3)
    #expect(counter.total == 52_428_800 + 3)
    #expect(result.outputTail.utf8.count == 1000)
    #expect(result.outputTail.hasSuffix("aaaEND"))
    #expect(result.succeeded)
  }

  @Test("the full output is appended to the log file")
  func logFile() throws {
    try withTemporaryDirectoryPath { directory in
      let log = directory + "/agent.log"
      try "before\n".write(toFile: log, atomically: true, encoding: .utf8)
      var command = spec("seq 1 5000", in: directory)
      command.logFile = log
      command.tailBytes = 10
      let result = try runner.run(command)
      let expected = (1...5000).map { "\($0)\n" }.joined()
      #expect(try String(contentsOfFile: log, encoding: .utf8) == "before\n" + expected)
      #expect(result.outputTail == "4999\n5000\n")
      #expect(result.outputBytes == expected.utf8.count)
    }
  }

  @Test("the input is delivered on standard input and then closed")
  func inputDelivered() throws {
    var command = spec("cat; echo done")
    command.input = Data("the prompt\nsecond line\n".utf8)
    let result = try runner.run(command)
    #expect(result.outputTail == "the prompt\nsecond line\ndone\n")
  }

  @Test("a large input to a command that does not read it does not block or crash")
  func unreadInput() throws {
    var command = spec("exit 0")
    command.input = Data(repeating: 65, count: 4 << 20)
    let result = try runner.run(command)
    #expect(result.succeeded)
  }

  @Test("without input, standard input is /dev/null")
  func noInput() throws {
    let result = try runner.run(spec("wc -c"))
    #expect(result.outputTail.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
  }

  @Test("the environment given is the whole environment")
  func environment() throws {
    let command = CommandSpec(
      command: "echo \"$ORCHESTRATE_SUBTASK\"; echo \"${HOME-unset}\"", directory: "/",
      environment: ["PATH": "/usr/bin:/bin", "ORCHESTRATE_SUBTASK": "auth value"])
    let result = try runner.run(command)
    #expect(result.outputTail == "auth value\nunset\n")
  }

  @Test("the command runs in the directory given")
  func workingDirectory() throws {
    try withTemporaryDirectoryPath { directory in
      let result = try runner.run(spec("pwd -P", in: directory))
      #expect(result.outputTail == directory + "\n")
    }
  }

  @Test("the command runs in its own process group with default signal handling")
  func ownProcessGroup() throws {
    let result = try runner.run(spec("ps -o pgid= -p $$; echo $$; trap"))
    let lines = result.outputTail.split(separator: "\n").map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    try #require(lines.count == 2)
    #expect(lines[0] == lines[1])
    #expect(Int32(lines[0]) != getpgrp())
  }

  @Test("a nonexistent directory is a clear error, not a failed command")
  func missingDirectory() throws {
    let error = #expect(throws: ProcessRunnerError.self) {
      try runner.run(spec("true", in: "/nonexistent/orchestrate-test"))
    }
    #expect(error == .directoryNotFound("/nonexistent/orchestrate-test"))
    #expect(error?.localizedDescription.contains("'/nonexistent/orchestrate-test'") == true)
    #expect(error?.localizedDescription.contains("no such directory") == true)
  }

  @Test("a timeout ends the whole process group, grandchildren included")
  func timeoutEndsGroup() throws {
    try withTemporaryDirectoryPath { directory in
      var command = spec("sleep 1000 & echo $! > grandchild.pid; sleep 1000", in: directory)
      command.timeout = 0.5
      command.killGrace = 1
      let result = try runner.run(command)
      #expect(result.termination == .timedOut)
      #expect(result.exitCode == 124)
      #expect(result.summary == "timed out after 0.5 s")
      let text = try String(contentsOfFile: directory + "/grandchild.pid", encoding: .utf8)
      let grandchild = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
      eventually("process \(grandchild) to end", within: 5) { processIsGone(grandchild) }
    }
  }

  @Test("a group member ignoring SIGTERM is killed after the grace period")
  func sigkillAfterGrace() throws {
    try withTemporaryDirectoryPath { directory in
      // The ignored SIGTERM is inherited by the inner sleep as well.
      var command = spec(
        "sh -c 'trap \"\" TERM; sleep 1000 & echo $! > stubborn.tmp; mv stubborn.tmp stubborn.pid; wait'",
        in: directory)
      command.timeout = 1
      command.killGrace = 0.5
      let result = try runner.run(command)
      #expect(result.termination == .timedOut)
      let text = try String(contentsOfFile: directory + "/stubborn.pid", encoding: .utf8)
      let stubborn = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
      eventually("process \(stubborn) to end", within: 5) { processIsGone(stubborn) }
    }
  }

  @Test("background jobs left by a finished command are ended and do not hold the run open")
  func leftoverJobsEnded() throws {
    try withTemporaryDirectoryPath { directory in
      var command = spec("sleep 1000 & echo $! > left.pid; echo finished", in: directory)
      command.killGrace = 1
      let result = try runner.run(command)
      #expect(result.termination == .exited(0))
      #expect(result.outputTail == "finished\n")
      let text = try String(contentsOfFile: directory + "/left.pid", encoding: .utf8)
      let left = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
      eventually("process \(left) to end", within: 5) { processIsGone(left) }
    }
  }

  @Test("cancelAll ends the running group and the result says interrupted")
  func cancelAllInterrupts() throws {
    try withTemporaryDirectoryPath { directory in
      let started = directory + "/grandchild.pid"
      var command = spec(
        "sleep 1000 & echo $! > grandchild.tmp; mv grandchild.tmp grandchild.pid; wait",
        in: directory)
      command.killGrace = 1
      let runner = self.runner
      let cancelled = Thread {
        eventually("the grandchild to start") { FileManager.default.fileExists(atPath: started) }
        runner.cancelAll(signal: SIGINT)
      }
      cancelled.start()
      let result = try runner.run(command)
      #expect(result.termination == .interrupted(SIGINT))
      #expect(result.exitCode == 130)
      #expect(result.summary == "interrupted")
      let text = try String(contentsOfFile: started, encoding: .utf8)
      let grandchild = try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
      eventually("process \(grandchild) to end", within: 5) { processIsGone(grandchild) }
    }
  }

  @Test("cancelAll on one runner leaves another runner's command alone")
  func cancelIsScoped() throws {
    let other = ProcessRunner()
    other.cancelAll(signal: SIGTERM)
    let result = try runner.run(spec("echo fine"))
    #expect(result.termination == .exited(0))
  }

  @Test("the shell is reaped: no zombie child remains")
  func noZombies() throws {
    let result = try runner.run(spec("echo $$"))
    let pid = try #require(pid_t(result.outputTail.trimmingCharacters(in: .whitespacesAndNewlines)))
    var status: Int32 = 0
    #expect(waitpid(pid, &status, WNOHANG) == -1)
    #expect(errno == ECHILD)
  }
}

/// Collects handler chunks from the reader thread.
private final class ChunkRecorder: @unchecked Sendable {
  private let lock = NSLock()
  private var data = Data()
  var record: @Sendable (Data) -> Void { { [self] chunk in lock.withLock { data.append(chunk) } } }
  var bytes: Data { lock.withLock { data } }
}

/// Counts handler bytes without keeping them.
private final class ByteCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes = 0
  var count: @Sendable (Data) -> Void { { [self] chunk in lock.withLock { bytes += chunk.count } } }
  var total: Int { lock.withLock { bytes } }
}
