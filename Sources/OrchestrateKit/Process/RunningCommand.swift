import Dispatch
import Foundation

/// The state of one running command, shared by the runner's threads and by `cancelAll`.
final class RunningCommand: Sendable {
  /// The runner that started it, so that a runner can cancel only its own commands.
  let owner: ObjectIdentifier
  /// Signalled whenever the shell exits, the output closes, or the command is cancelled.
  let wakeup = DispatchSemaphore(value: 0)
  private struct State {
    var cancelledBy: Int32?
    var exited = false
    var closed = false
  }
  private let state = LockedBox(State())

  init(owner: ObjectIdentifier) {
    self.owner = owner
  }

  var cancelSignal: Int32? { state.withLock { $0.cancelledBy } }
  var leaderExited: Bool { state.withLock { $0.exited } }
  var outputClosed: Bool { state.withLock { $0.closed } }

  /// Asks the runner to end the group; the first signal is the one reported.
  func cancel(signal: Int32) {
    state.withLock { if $0.cancelledBy == nil { $0.cancelledBy = signal } }
    wakeup.signal()
  }

  func markLeaderExited() {
    state.withLock { $0.exited = true }
    wakeup.signal()
  }

  func markOutputClosed() {
    state.withLock { $0.closed = true }
    wakeup.signal()
  }
}

/// Every command running in this process, so that an interrupt can end them all.
final class CommandRegistry: Sendable {
  static let shared = CommandRegistry()
  private let commands = LockedBox<[ObjectIdentifier: RunningCommand]>([:])

  func add(_ command: RunningCommand) {
    commands.withLock { $0[ObjectIdentifier(command)] = command }
  }

  func remove(_ command: RunningCommand) {
    _ = commands.withLock { $0.removeValue(forKey: ObjectIdentifier(command)) }
  }

  /// Cancels the commands of `owner`, or all of them when `owner` is nil.
  func cancel(signal: Int32, owner: ObjectIdentifier?) {
    let targets = commands.withLock { Array($0.values) }
    for command in targets where owner == nil || command.owner == owner {
      command.cancel(signal: signal)
    }
  }
}
