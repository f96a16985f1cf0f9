import Foundation
import OrchestrateKit

/// Renders run events as the seed's terminal view, or as JSON lines.
///
/// Events of a run are sequential (one sub-task, one attempt, one command at a time), so the
/// renderer keeps the context every JSON event carries (plan, sub-task, attempt) from the events
/// that set it (`runStarted`, `subtaskStarted`, `agentStarted`, `attemptRecorded`) instead of each
/// event repeating it; and it turns the output of commands, which arrives read by read, into one
/// event per line.
final class RunRenderer: Sendable {
  let json: Bool
  /// Whether the elapsed-time counter is drawn: on a terminal, without --json, without TERM=dumb.
  let live: Bool
  private let progress: @Sendable () -> RunProgress?
  /// Events arrive from the output threads of commands too, and ticks from a timer: one at a time.
  private let state = LockedBox(State())
  private let ticker = LockedBox<DispatchSourceTimer?>(nil)

  /// What the events of one sub-task share: of the run's, or of each job of a parallel run.
  struct Context {
    var subtask: String?
    var attempt: Int?
    /// `agent`, `fix`, `steps` or `checkpoint`: what the output under way comes from.
    var source: String?
    /// Output not yet ended by a newline (JSON lines only), and since when it waits.
    var partial = Data()
    var partialSince: Date?
  }

  @dynamicMemberLookup
  struct State {
    var total = 0
    var plan: String?
    var context = Context()
    /// The contexts of the jobs of a parallel run, by sub-task.
    var jobs: [String: Context] = [:]
    /// Prefixed to terminal lines: the sub-task of a parallel run's job.
    var prefix = ""
    /// What runs now and since when, for the elapsed counter.
    var running: (what: String, since: Date)?
    /// What each job of a parallel run runs now, for the counter's lines.
    var runningJobs: [String: (what: String, since: Date)] = [:]
    /// The lines the counter takes on screen.
    var counterLines = 1

    subscript<T>(dynamicMember path: WritableKeyPath<Context, T>) -> T {
      get { context[keyPath: path] }
      set { context[keyPath: path] = newValue }
    }
    /// Whether the counter is on screen, and whether the terminal's last output ended its line.
    var counterShown = false
    var atLineStart = true
  }

  init(json: Bool, progress: @escaping @Sendable () -> RunProgress? = { nil }) {
    self.json = json
    self.progress = progress
    let environment = ProcessInfo.processInfo.environment
    live = !json && isatty(STDOUT_FILENO) == 1 && environment["TERM"] != "dumb"
  }

  func render(_ event: RunEvent) {
    state.withLock { state in
      if json {
        renderJSON(event, &state)
      } else {
        clearCounter(&state)
        render(event, &state)
      }
    }
  }

  /// Stops the counter and writes what output is left.
  func finish() {
    stopTicker()
    state.withLock { state in
      // A tick already under way finds nothing running and draws nothing.
      state.running = nil
      if json { flushPartial(&state) } else { clearCounter(&state) }
    }
  }

  // MARK: - JSON lines

  private func renderJSON(_ event: RunEvent, _ state: inout State) {
    switch event {
    case .runStarted(let plan, let total, _, _):
      state.plan = plan
      state.total = total
    case .subtaskStarted(_, _, let id, _, _, _, let resumed, let attempt):
      flushPartial(&state)
      state.subtask = id
      // A fresh sub-task's first attempt is 1; a resumed one's, when the session does not say it,
      // is known from its next agent.
      state.attempt = attempt ?? (resumed ? nil : 1)
    case .agentStarted(let kind, let attempt, _):
      flushPartial(&state)
      state.attempt = attempt
      state.source = kind.rawValue
    case .checkpointCommandStarted:
      flushPartial(&state)
      state.source = "checkpoint"
    case .finalCheckpointStarted:
      state.subtask = nil
      state.attempt = nil
    case .output(let data):
      state.partial.append(data)
      while let newline = state.partial.firstIndex(of: UInt8(ascii: "\n")) {
        let line = state.partial[state.partial.startIndex..<newline]
        writeOutput(Data(line), &state)
        state.partial = Data(state.partial[state.partial.index(after: newline)...])
        state.partialSince = nil
      }
      // A command that writes without newlines (progress dots) still shows, in slices of at most
      // 4 KiB or about a second.
      if state.partial.isEmpty {
        state.partialSince = nil
      } else if state.partial.count >= 4096 || Date().timeIntervalSince(state.partialSince ?? Date()) >= 1 {
        flushPartial(&state)
      } else if state.partialSince == nil {
        state.partialSince = Date()
      }
      return
    case .agentFinished, .checkpointCommandFinished, .checkpointPassed, .checkpointFailed, .runFinished:
      flushPartial(&state)
    case .job(let id, let inner):
      // A parallel run: each job's context (sub-task, attempt, output under way) is its own.
      let outer = state.context
      state.context = state.jobs[id] ?? Context(subtask: id)
      renderJSON(inner, &state)
      state.jobs[id] = state.context.subtask == nil ? nil : state.context
      state.context = outer
      return
    default:
      break
    }
    var object = event.json
    addContext(&object, state)
    switch event {
    case .subtaskStarted, .subtaskCompleted, .runFinished:
      let progress: RunProgress? = if case .runFinished(let status) = event { RunProgress(status) } else { progress() }
      if let progress {
        object["progress"] = progress.jsonObject
      }
    default:
      break
    }
    switch event {
    case .subtaskStuck, .subtaskCompleted:
      state.subtask = nil
      state.attempt = nil
    default:
      break
    }
    emit(jsonLine(object))
  }

  private func addContext(_ object: inout [String: Any], _ state: State) {
    if let plan = state.plan, object["plan"] == nil { object["plan"] = plan }
    if let subtask = state.subtask, object["subtask"] == nil { object["subtask"] = subtask }
    if let attempt = state.attempt, object["attempt"] == nil { object["attempt"] = attempt }
  }

  private func writeOutput(_ line: Data, _ state: inout State) {
    var object: [String: Any] = ["event": "output", "text": String(decoding: line, as: UTF8.self)]
    if let source = state.source { object["source"] = source }
    addContext(&object, state)
    emit(jsonLine(object))
  }

  private func flushPartial(_ state: inout State) {
    guard !state.partial.isEmpty else { return }
    let rest = state.partial
    state.partial = Data()
    state.partialSince = nil
    writeOutput(rest, &state)
  }

  // MARK: - The terminal

  private func render(_ event: RunEvent, _ state: inout State) {
    switch event {
    case .job(let id, let inner):
      renderJob(id, inner, &state)
      return
    case .runStarted(let plan, let total, let completed, let main):
      state.total = total
      state.plan = plan
      say(state, Style.bold("Plan \(plan): \(Plural.count(total, "sub-task")), \(completed) completed, landing on \(main)"))
    case .notice(let text):
      say(state, Style.yellow("note: ") + text)
    case .subtaskStarted(let order, let total, let id, let description, let branch, let workdir, let resumed, _):
      state.subtask = id
      say(state, "")
      let line = progress().map { " " + Style.dim($0.compact) } ?? ""
      say(state, 
        Style.bold(
          "\(resumed ? "Resuming" : "Starting") sub-task \(order)/\(total): \(description.isEmpty ? id : description)")
          + line)
      say(state, Style.dim("  branch \(branch)\n  working directory \(workdir)"))
    case .agentStarted(let kind, let attempt, let command):
      let what =
        switch kind {
        case .agent: "agent"
        case .fix: "fix agent"
        case .steps: "step"
        }
      let lines = command.split(separator: "\n", omittingEmptySubsequences: true)
      let shown = (lines.first.map(String.init) ?? command) + (lines.count > 1 ? " …" : "")
      say(state, "→ Running \(what) (attempt \(attempt)): \(shown)")
      startCounter(what, &state)
    case .output(let data):
      FileHandle.standardOutput.write(data)
      if let last = data.last { state.atLineStart = last == UInt8(ascii: "\n") }
      return
    case .agentFinished, .checkpointCommandFinished:
      state.running = nil
      return
    case .agentUsage(_, _, let usage):
      say(state, Style.dim("  agent usage: " + usage.summary))
      return
    case .checkpointCommandStarted(let command):
      let lines = command.split(separator: "\n", omittingEmptySubsequences: true)
      say(state, "→ Checkpoint: " + (lines.first.map(String.init) ?? command) + (lines.count > 1 ? " …" : ""))
      startCounter("checkpoint", &state)
    case .checkpointPassed(let commands, let seconds, let cached):
      if cached {
        say(state, Style.green("Checkpoint: ✅ passed (recorded for this exact tree; no command run)"))
      } else {
        say(state, Style.green("Checkpoint: ✅ passed (\(Plural.count(commands, "command")), \(Durations.format(seconds)))"))
      }
    case .checkpointFailed(let failure):
      say(state, 
        Style.red(
          failure.kind == .checkpoint
            ? "❌ Checkpoint failed: \(failure.command) \(failure.summary)" : "❌ \(failure.reason)"))
      let tail = failure.outputTail.split(separator: "\n").suffix(10)
      for line in tail { say(state, Style.dim("   │ " + line)) }
    case .attemptRecorded(let attempt, let commit, let branch):
      say(state, Style.dim("  attempt \(attempt) kept on \(branch) (\(commit.prefix(10)))"))
    case .mainMoved(let from, let to):
      say(state, 
        Style.yellow(
          "main moved from \(from.prefix(10)) to \(to.prefix(10)); replaying the sub-task onto it and validating again")
      )
    case .subtaskCompleted(let id, let commit, let attempts, let seconds):
      let line = progress().map { " " + Style.dim($0.compact) } ?? ""
      say(state, 
        Style.green(
          "✅ Sub-task \(id) complete (\(Plural.count(attempts, "attempt")), \(Durations.format(seconds))) → \(commit.prefix(10))"
        )
          + line)
    case .subtaskStuck(let id, let branch, let workdir, let attempts, let resume):
      say(state, "")
      say(state, Style.red("⚠️ CHECKPOINT STILL FAILING - manual intervention needed"))
      say(state, "  Sub-task: \(id) (\(Plural.count(attempts, "failed attempt")), each kept on the branch)")
      say(state, "  Branch: \(branch)")
      say(state, "  Working directory: \(workdir)")
      say(state, "  Review it with: git orchestrate show \(id) --patch")
      say(state, "  Fix it there (or on the branch), then resume with: \(resume)")
    case .finalCheckpointStarted:
      say(state, "")
      say(state, Style.bold("Final validation on main's last tree"))
    case .finalCheckpoint(let passed):
      say(state, passed ? Style.green("Final validation: ✅ passed") : Style.red("Final validation: ❌ failed"))
    case .checkoutUpdated(let files):
      say(state, Style.dim("your checkout was brought up to date (\(Plural.count(files, "file")))"))
    case .runFinished(let status):
      stopTicker()
      say(state, "")
      say(state, ProgressBox(status).rendered)
    }
    state.atLineStart = true
  }

  /// Writes `text`'s lines, each prefixed with the sub-task of the job it comes from.
  private func say(_ state: State, _ text: String) {
    guard !state.prefix.isEmpty, !text.isEmpty else { return emit(text) }
    emit(text.split(separator: "\n", omittingEmptySubsequences: false).map { state.prefix + $0 }.joined(separator: "\n"))
  }

  /// An event of one job of a parallel run: its lines prefixed with `[sub-task]`. Commands' output
  /// is not shown (several jobs' output would interleave); it is in each attempt's log file.
  private func renderJob(_ id: String, _ inner: RunEvent, _ state: inout State) {
    switch inner {
    case .output:
      return
    case .agentStarted(let kind, _, _):
      state.runningJobs[id] = (kind == .steps ? "step" : kind == .fix ? "fix agent" : "agent", Date())
    case .checkpointCommandStarted:
      state.runningJobs[id] = ("checkpoint", Date())
    case .agentFinished, .checkpointCommandFinished, .subtaskCompleted, .subtaskStuck:
      state.runningJobs[id] = nil
    default:
      break
    }
    state.prefix = Style.dim("[\(id)] ")
    defer { state.prefix = "" }
    render(inner, &state)
    if !state.runningJobs.isEmpty { startCounter(nil, &state) }
  }

  // MARK: - The elapsed counter (terminal only)

  private func startCounter(_ what: String?, _ state: inout State) {
    guard live else { return }
    if let what { state.running = (what, Date()) }
    ticker.withLock { timer in
      guard timer == nil else { return }
      let source = DispatchSource.makeTimerSource(queue: .global())
      source.schedule(deadline: .now() + 1, repeating: 1)
      source.setEventHandler { [weak self] in self?.tick() }
      source.resume()
      timer = source
    }
  }

  private func stopTicker() {
    ticker.withLock { timer in
      timer?.cancel()
      timer = nil
    }
  }

  /// Redraws `⏱ agent 12 s` in place, on its own line after complete output only.
  private func tick() {
    state.withLock { state in
      guard state.atLineStart || state.counterShown else { return }
      let now = Date()
      var lines: [String]
      if !state.runningJobs.isEmpty {
        // A parallel run: one line per running sub-task.
        lines = state.runningJobs.sorted { $0.key < $1.key }.map {
          "  ⏱ [\($0.key)] \($0.value.what) \(Durations.format(now.timeIntervalSince($0.value.since)))"
        }
      } else if let running = state.running {
        lines = ["  ⏱ \(running.what) \(Durations.format(now.timeIntervalSince(running.since)))"]
      } else {
        return
      }
      clearCounter(&state)
      FileHandle.standardOutput.write(Data((Self.clearLine + lines.joined(separator: "\n")).utf8))
      state.counterLines = lines.count
      state.counterShown = true
    }
  }

  /// Erases the counter line before anything else is written, so it never mixes with output.
  private func clearCounter(_ state: inout State) {
    guard state.counterShown else { return }
    // The cursor is on the counter's last line: erase it and each line above it.
    let up = Style.enabled ? "\u{1B}[1A" : ""
    FileHandle.standardOutput.write(
      Data((String(repeating: Self.clearLine + up, count: max(0, state.counterLines - 1)) + Self.clearLine).utf8))
    state.counterShown = false
    state.counterLines = 1
  }

  /// Back to the line's start and erase it: an escape sequence on a colour terminal, spaces when
  /// NO_COLOR asks for plain text.
  private static let clearLine: String =
    Style.enabled ? "\r\u{1B}[K" : "\r" + String(repeating: " ", count: 40) + "\r"

  func interrupted(_ interruption: Interrupted, plan: String) {
    finish()
    if json {
      var event: [String: Any] = [
        "event": "interrupted", "signal": interruption.signal, "resume": "git orchestrate run \(plan)", "plan": plan,
      ]
      if let workdir = interruption.workdir { event["workdir"] = workdir }
      state.withLock { state in
        if let subtask = state.subtask { event["subtask"] = subtask }
        if let attempt = state.attempt { event["attempt"] = attempt }
      }
      emit(jsonLine(event))
    } else {
      emit(Style.yellow("\nInterrupted: \(interruption.whereTheWorkIs); resume with: git orchestrate run \(plan)"))
    }
  }

  /// A parallel run that could not finish: each stuck sub-task with its branch and work folder, and
  /// the sub-tasks that wait on them.
  func blocked(_ stuck: [RunOutcome.Stuck], waiting: [String]) {
    if json {
      emit(
        jsonLine([
          "event": "run_blocked", "stuck": stuck.map { ["subtask": $0.subtask, "branch": $0.branch, "workdir": $0.workdir] },
          "waiting": waiting,
        ] as [String: Any]))
      return
    }
    emit(Style.red("⚠️ \(Plural.count(stuck.count, "sub-task")) still failing; every sub-task that does not depend on them finished:"))
    for item in stuck { emit("  \(item.subtask): branch \(item.branch), working directory \(item.workdir)") }
    if !waiting.isEmpty { emit("  waiting on them, not started: \(waiting.joined(separator: ", "))") }
  }

  func finalFailed(_ failure: CheckpointFailure) {
    if !json { emit(Style.red("❌ Final checkpoint failed: \(failure.command) \(failure.summary)")) }
  }
}
