import Foundation

/// The files beside an attempt's agent log that say what it used, and the one reader of them.
///
/// An attempt's files share the stem `<logs>/<NN>-<sub-task>.attempt-<n>`: the agent's output
/// (`.log`, appended to by every run of the attempt), the usage file the agent may write
/// (`.usage.json`, `$ORCHESTRATE_USAGE_FILE`), and the tool's copy of each usage file read
/// (`.usage.jsonl`, one line per agent run that wrote one).
public struct AttemptUsageFiles: Sendable {
  public let stem: String

  public init(stem: String) { self.stem = stem }

  /// The files of attempt `attempt` of `subtask`: the stem `work` writes the prompt and log under.
  public init(layout: Layout, plan: String, subtask: Subtask, attempt: Int) {
    stem =
      layout.logDirectory(plan: plan) + "/" + Layout.orderText(subtask.order) + "-" + subtask.id
      + ".attempt-\(attempt)"
  }

  public var log: String { stem + ".log" }
  /// `$ORCHESTRATE_USAGE_FILE`: where an agent may write its usage (schema in docs/agents.md).
  public var usageFile: String { stem + ".usage.json" }
  /// The usage files read so far for this attempt, one JSON object a line.
  public var collected: String { stem + ".usage.jsonl" }

  /// Removes a usage file left by an earlier run, before an agent starts: a file read after the
  /// run is one this run wrote.
  public func prepare() {
    unlink(usageFile)
  }

  /// Moves the files of an earlier life of this attempt aside (`<file>.earlier-<time>`): used when
  /// a sub-task starts afresh (its branch was deleted, or the plan's id reused), so that an old
  /// run's cost is never taken for the new attempt's. The old output is kept, renamed.
  public func setAsideEarlierRuns() {
    let suffix = ".earlier-\(Int(Date().timeIntervalSince1970))"
    for path in [log, collected] where FileManager.default.fileExists(atPath: path) {
      // rename(2) replaces what is there: a second setting-aside within the same second takes a new name.
      var target = path + suffix
      var number = 1
      while FileManager.default.fileExists(atPath: target) {
        number += 1
        target = path + suffix + "-\(number)"
      }
      rename(path, target)
    }
  }

  /// Reads the usage file the agent just wrote, if any, keeps it in `collected` and removes it.
  /// - Returns: why a usage file that is there could not be used (the run goes on; that run's
  ///   usage is unknown), else nil.
  @discardableResult
  public func collect() -> UsageFileError? {
    guard let data = FileManager.default.contents(atPath: usageFile) else { return nil }
    unlink(usageFile)
    guard data.count <= 64 * 1024 else { return UsageFileError(reason: "larger than 64 KiB") }
    do {
      let usage = try AgentUsage.usageFile(data)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      var line = try encoder.encode(usage)
      line.append(UInt8(ascii: "\n"))
      let descriptor = open(collected, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
      guard descriptor >= 0 else { return UsageFileError(reason: "cannot write \(collected)") }
      defer { close(descriptor) }
      _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
      return nil
    } catch let error as UsageFileError {
      return error
    } catch {
      return UsageFileError(reason: "\(error)")
    }
  }

  /// What the attempt used, as its agent reported it: the usage files it wrote when there are any
  /// (they win: a wrapper around Claude Code that writes one is not counted twice), else Claude
  /// Code's result events in the log, else aider's reports in the log; nil when none.
  public func read() -> AgentUsage? {
    if let text = try? String(contentsOfFile: collected, encoding: .utf8) {
      let decoder = JSONDecoder()
      let runs = text.split(separator: "\n").compactMap { try? decoder.decode(AgentUsage.self, from: Data($0.utf8)) }
      if let first = runs.first { return runs.dropFirst().reduce(first, +) }
    }
    guard let text = Self.reportLines(inLog: log) else { return nil }
    return AgentUsage.claude(log: text) ?? AgentUsage.aider(log: text)
  }

  /// The lines of an agent log that can hold a usage report — Claude Code's JSON events (`{…`) and
  /// aider's `Tokens:`, `Cost: $` and `Aider v` lines — read in chunks, so that a log of gigabytes
  /// (an agent that floods its output) costs a bounded amount of memory: a line over 1 MiB is
  /// skipped, and at most 16 MiB of lines is kept (the last ones, where the result events are).
  static func reportLines(inLog path: String) -> String? {
    guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
    defer { try? handle.close() }
    let prefixes: [[UInt8]] = [Array("{".utf8), Array("Tokens: ".utf8), Array("Cost: $".utf8), Array("Aider v".utf8)]
    let maxLine = 1 << 20
    let maxKept = 16 << 20
    var kept: [Data] = []
    var keptBytes = 0
    var partial = Data()
    var skippingLongLine = false
    func consider(_ line: Data) {
      guard let first = line.first, first == UInt8(ascii: "{") || first == UInt8(ascii: "T") || first == UInt8(ascii: "C")
        || first == UInt8(ascii: "A")
      else { return }
      guard prefixes.contains(where: { line.starts(with: $0) }) else { return }
      kept.append(line)
      keptBytes += line.count
      while keptBytes > maxKept, !kept.isEmpty { keptBytes -= kept.removeFirst().count }
    }
    while let chunk = try? handle.read(upToCount: 256 * 1024), !chunk.isEmpty {
      // memchr: a flood of output is scanned at memory speed, in a debug build too.
      let newlines: [Int] = chunk.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress else { return [] }
        var found: [Int] = []
        var offset = 0
        while offset < buffer.count, let hit = memchr(base + offset, 0x0A, buffer.count - offset) {
          let index = base.distance(to: UnsafeRawPointer(hit))
          found.append(index)
          offset = index + 1
        }
        return found
      }
      var start = 0
      for newline in newlines {
        if skippingLongLine {
          skippingLongLine = false
        } else {
          partial.append(chunk[chunk.startIndex + start..<chunk.startIndex + newline])
          if partial.count <= maxLine { consider(partial) }
        }
        partial.removeAll(keepingCapacity: true)
        start = newline + 1
      }
      if !skippingLongLine {
        partial.append(chunk[(chunk.startIndex + start)...])
        if partial.count > maxLine {
          partial.removeAll()
          skippingLongLine = true
        }
      }
    }
    if !skippingLongLine, !partial.isEmpty { consider(partial) }
    return kept.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n")
  }
}
