import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Process-wide interruption: SIGINT/SIGTERM end the running child group; `InterruptMonitor.shared.signal` tells which arrived.
///
/// Once installed, Ctrl-C no longer kills this process: the running commands are ended (their
/// results say `.interrupted`), later runs do not start, and the caller saves its state and exits
/// with `128 + received` (130 for SIGINT, 143 for SIGTERM).
public final class InterruptMonitor: Sendable {
  public static let shared = InterruptMonitor()

  private let state = LockedBox(MonitorState())
  private let queue = DispatchQueue(label: "git-orchestrate.interrupts")

  private init() {}

  /// Takes over SIGINT and SIGTERM; calling it again does nothing.
  ///
  /// The signals are ignored first and then delivered through dispatch sources, so no handler
  /// runs in signal context; children still get the default dispositions (the runner resets them).
  public func install() {
    state.withLock { state in
      guard state.sources.isEmpty else { return }
      for number in [SIGINT, SIGTERM] {
        #if canImport(Glibc)
          _ = Glibc.signal(number, SIG_IGN)
        #else
          _ = Darwin.signal(number, SIG_IGN)
        #endif
        let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
        source.setEventHandler { [self] in deliver(number) }
        source.resume()
        state.sources.append(source)
      }
    }
  }

  /// The first interrupting signal received since `install()`, if any.
  public var received: Int32? { state.withLock { $0.received } }

  /// The same as `received`.
  public var signal: Int32? { received }

  /// Records the signal, then ends every running command (in that order; see `ProcessRunner.run`).
  func deliver(_ number: Int32) {
    state.withLock { if $0.received == nil { $0.received = number } }
    ProcessRunner.cancelAll(signal: number)
  }
}

/// The monitor's mutable state, kept in a `LockedBox`.
private struct MonitorState {
  var sources: [any DispatchSourceSignal] = []
  var received: Int32?
}
