import Dispatch
import Foundation

/// The state of one running command, shared by the runner's threads and by `cancelAll`.
final class RunningCommand: @unchecked Sendable {
  /// The runner that started it, so that a runner can cancel only its own commands.
  let owner: ObjectIdentifier
  /// Signalled whenever the shell exits, the output closes, or the command is cancelled.
  let wakeup = DispatchSemaphore(value: 0)
  private let lock = NSLock()
  private var cancelledBy: Int32?
  private var exited = false
  private var closed = false

  init(owner: ObjectIdentifier) {
    self.owner = owner
  }

  var cancelSignal: Int32? { lock.withLock { cancelledBy } }
  var leaderExited: Bool { lock.withLock { exited } }
  var outputClosed: Bool { lock.withLock { closed } }

  /// Asks the runner to end the group; the first signal is the one reported.
  func cancel(signal: Int32) {
    lock.withLock { if cancelledBy == nil { cancelledBy = signal } }
    wakeup.signal()
  }

  func markLeaderExited() {
    lock.withLock { exited = true }
    wakeup.signal()
  }

  func markOutputClosed() {
    lock.withLock { closed = true }
    wakeup.signal()
  }
}

/// Every command running in this process, so that an interrupt can end them all.
final class CommandRegistry: @unchecked Sendable {
  static let shared = CommandRegistry()
  private let lock = NSLock()
  private var commands: [ObjectIdentifier: RunningCommand] = [:]

  func add(_ command: RunningCommand) {
    lock.withLock { commands[ObjectIdentifier(command)] = command }
  }

  func remove(_ command: RunningCommand) {
    _ = lock.withLock { commands.removeValue(forKey: ObjectIdentifier(command)) }
  }

  /// Cancels the commands of `owner`, or all of them when `owner` is nil.
  func cancel(signal: Int32, owner: ObjectIdentifier?) {
    let targets = lock.withLock { Array(commands.values) }
    for command in targets where owner == nil || command.owner == owner {
      command.cancel(signal: signal)
    }
  }
}
