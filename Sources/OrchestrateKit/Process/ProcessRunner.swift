import Dispatch
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs shell commands, each in its own process group, under a timeout, with bounded output capture.
///
/// Foundation.Process cannot put a child in its own process group, and ending only the shell
/// would leave its background jobs (an agent's `sleep 1000 &`) running and holding the output
/// pipe open, so the runner spawns with posix_spawn and always signals the whole group. When the
/// command ends, anything it left running in its group is ended too, and the shell is reaped.
public final class ProcessRunner: Sendable {
  public init() {}

  /// Runs the command to completion; `output` is called with each chunk as it arrives (on a background thread).
  ///
  /// Standard output and standard error share one pipe, so the chunks keep the order in which
  /// the command wrote them. If an interrupt was already received by `InterruptMonitor`, nothing
  /// is started and the result is `.interrupted`.
  /// - Throws: `ProcessRunnerError` only when the command cannot be started.
  public func run(_ spec: CommandSpec, output: (@Sendable (Data) -> Void)? = nil) throws
    -> CommandResult
  {
    _ = ignoreBrokenPipe
    let running = RunningCommand(owner: ObjectIdentifier(self))
    CommandRegistry.shared.add(running)
    defer { CommandRegistry.shared.remove(running) }
    // The monitor sets `received` before calling cancelAll, and the command is registered before
    // this check, so a signal arriving now either is seen here or cancels the command.
    if let signal = InterruptMonitor.shared.received {
      return CommandResult(
        command: spec.command, termination: .interrupted(signal), duration: 0, outputTail: "",
        outputBytes: 0, timeout: spec.timeout)
    }
    return try execute(spec, running: running, output: output)
  }

  /// Ends every command this runner is running, as the interrupt monitor does; they report `.interrupted(signal)`.
  ///
  /// Scoped to this runner, so that tests running in parallel do not end each other's commands.
  public func cancelAll(signal: Int32) {
    CommandRegistry.shared.cancel(signal: signal, owner: ObjectIdentifier(self))
  }

  /// Makes this process adopt what its commands leave behind, so that processes that left their
  /// group (`setsid`, double forks) are ended when their command ends; see `Orphans`. Call it once,
  /// early, in a process whose children are all started by `ProcessRunner` (the CLI).
  /// - Returns: false where the system cannot (no Linux child subreaper).
  @discardableResult
  public static func adoptOrphans() -> Bool { Orphans.adopt() }

  /// Ends every command of every runner in this process; they report `.interrupted(signal)`.
  public static func cancelAll(signal: Int32) {
    CommandRegistry.shared.cancel(signal: signal, owner: nil)
  }

  private func execute(
    _ spec: CommandSpec, running: RunningCommand, output: (@Sendable (Data) -> Void)?
  ) throws -> CommandResult {
    var status = stat()
    guard stat(spec.directory, &status) == 0, (status.st_mode & S_IFMT) == S_IFDIR else {
      throw ProcessRunnerError.directoryNotFound(spec.directory)
    }
    var logDescriptor: Int32 = -1
    if let logFile = spec.logFile {
      logDescriptor = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
      guard logDescriptor >= 0 else {
        throw ProcessRunnerError.logFileUnwritable(path: logFile, reason: errnoDescription())
      }
    }
    defer { if logDescriptor >= 0 { close(logDescriptor) } }

    // A confined command gets a private temporary folder, removed with whatever it left there.
    let temporary = try spec.confinement?.makeTemporaryFolder()
    defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
    let pipes = try PipeSet(withInput: spec.input != nil, command: spec.command)
    let started = DispatchTime.now()
    let pid: pid_t
    do {
      pid = try Orphans.spawning { try spawnShell(spec, pipes: pipes, temporary: temporary) }
    } catch {
      pipes.closeAll()
      throw error
    }
    // Nothing the command starts can have started before its shell.
    let shellStarted = Orphans.isAdopting ? Orphans.startTime(of: pid) ?? 0 : 0
    pipes.closeChildEnds()

    let collector = OutputCollector(
      limit: max(0, spec.tailBytes), logDescriptor: logDescriptor, handler: output)
    let threads = DispatchGroup()
    startThread(in: threads) {
      collector.collect(from: pipes.outputRead, wake: pipes.wakeRead)
      running.markOutputClosed()
    }
    if let input = spec.input {
      startThread(in: threads) {
        writeInput(input, to: pipes.inputWrite, wake: pipes.wakeRead)
      }
    }
    startThread(in: nil) {
      // WNOWAIT leaves the shell a zombie, so its pid (the group id) cannot be reused before the
      // group has been signalled.
      var info = siginfo_t()
      while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0, errno == EINTR {}
      running.markLeaderExited()
    }

    let forced = waitForEnd(of: running, timeout: spec.timeout, from: started)
    // Orphans already re-parented to us may hold the output open: end them now rather than wait the grace out.
    Orphans.sweep(since: shellStarted, group: pid, limit: 0)
    endGroup(pid, running: running, grace: spec.killGrace)
    var waitStatus: Int32 = 0
    var reaped: pid_t
    repeat { reaped = waitpid(pid, &waitStatus, 0) } while reaped < 0 && errno == EINTR
    Orphans.reaped(pid)
    // What left the group (setsid, a double fork) is ended too: a sandbox's pid namespace has done
    // it already; without one, this process adopted the orphans (see `Orphans`).
    Orphans.sweep(since: shellStarted, group: pid)
    let duration = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9

    // Anything still holding the pipes escaped the group (setsid); stop reading rather than hang.
    pipes.wake()
    threads.wait()
    pipes.closeParentEnds()

    let termination: CommandResult.Termination
    if let forced {
      termination = forced
    } else if reaped < 0 {
      termination = .exited(-1)
    } else {
      termination = decodeWaitStatus(waitStatus)
    }
    return CommandResult(
      command: spec.command, termination: termination, duration: duration,
      outputTail: collector.tailString(), outputBytes: collector.totalBytes, timeout: spec.timeout)
  }

  /// Waits until the shell exits, the run is cancelled or the timeout passes; returns the forced ending, if any.
  private func waitForEnd(
    of running: RunningCommand, timeout: TimeInterval?, from started: DispatchTime
  ) -> CommandResult.Termination? {
    let deadline = timeout.map { started + .nanoseconds(Int(min(max($0, 0), 1e9) * 1e9)) }
    while true {
      if running.leaderExited { return nil }
      if let signal = running.cancelSignal { return .interrupted(signal) }
      if let deadline {
        if DispatchTime.now() >= deadline { return .timedOut }
        _ = running.wakeup.wait(timeout: deadline)
      } else {
        running.wakeup.wait()
      }
    }
  }

  /// SIGTERM to the group, up to `grace` seconds for the shell to exit and the output to close, then SIGKILL.
  ///
  /// Done after every run, not only forced ones: background jobs left by the command would
  /// otherwise outlive it and keep the output pipe open.
  private func endGroup(_ pid: pid_t, running: RunningCommand, grace: TimeInterval) {
    kill(-pid, SIGTERM)
    let deadline = DispatchTime.now() + .nanoseconds(Int(min(max(grace, 0), 1e6) * 1e9))
    while !(running.leaderExited && running.outputClosed), DispatchTime.now() < deadline {
      _ = running.wakeup.wait(timeout: deadline)
    }
    kill(-pid, SIGKILL)
    while !running.leaderExited { running.wakeup.wait() }
  }

  /// Spawns `/bin/sh -c command` in its own process group with default signal handling, inside
  /// the spec's confinement if it has one (`temporary` is then its private temporary folder).
  private func spawnShell(_ spec: CommandSpec, pipes: PipeSet, temporary: String?) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if pipes.inputRead >= 0 {
      posix_spawn_file_actions_adddup2(&actions, pipes.inputRead, 0)
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, pipes.outputWrite, 1)
    posix_spawn_file_actions_adddup2(&actions, pipes.outputWrite, 2)

    var arguments = ["/bin/sh", "-c", spec.command]
    if let addChdir = spawnAddChdir {
      let code = addChdir(&actions, spec.directory)
      guard code == 0 else {
        throw ProcessRunnerError.spawnFailed(
          command: spec.command, reason: String(cString: strerror(code)))
      }
    } else {
      // A C library without posix_spawn_file_actions_addchdir_np: let the shell change directory.
      arguments = [
        "/bin/sh", "-c", "cd -- \"$1\" && exec /bin/sh -c \"$2\"", "sh", spec.directory,
        spec.command,
      ]
    }

    var executable = "/bin/sh"
    var environment = spec.environment
    if let confinement = spec.confinement, let temporary {
      arguments = confinement.arguments(command: spec.command, directory: spec.directory, temporary: temporary)
      executable = confinement.tool
      environment = confinement.environment(environment, temporary: temporary)
    }

    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    // The parent may ignore or block SIGINT/SIGTERM/SIGPIPE (see InterruptMonitor); the child must not.
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    posix_spawnattr_setpgroup(&attributes, 0)
    posix_spawnattr_setflags(
      &attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      for string in argv + envp { free(string) }
    }
    var pid: pid_t = 0
    let code = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
    guard code == 0 else {
      throw ProcessRunnerError.spawnFailed(
        command: spec.command, reason: String(cString: strerror(code)))
    }
    return pid
  }
}

/// Ignores SIGPIPE once per process, so that writing a prompt to a command that exited returns EPIPE instead of killing us.
private let ignoreBrokenPipe: Void = {
  _ = signal(SIGPIPE, SIG_IGN)
}()

private typealias AddChdirFunction =
  @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

/// posix_spawn_file_actions_addchdir_np, looked up at run time because Glibc only declares it under _GNU_SOURCE.
private let spawnAddChdir: AddChdirFunction? = {
  #if canImport(Darwin)
    let handle = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT
  #else
    let handle: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT
  #endif
  guard let symbol = dlsym(handle, "posix_spawn_file_actions_addchdir_np") else { return nil }
  return unsafeBitCast(symbol, to: AddChdirFunction.self)
}()

/// Decodes a waitpid status without the C macros, which Swift does not import.
func decodeWaitStatus(_ status: Int32) -> CommandResult.Termination {
  let low = status & 0x7f
  if low == 0 { return .exited((status >> 8) & 0xff) }
  return .signalled(low)
}

func errnoDescription(_ code: Int32 = errno) -> String {
  String(cString: strerror(code))
}

/// Starts a thread running `body`, entered into `group` (if any) until it returns.
private func startThread(in group: DispatchGroup?, _ body: @escaping @Sendable () -> Void) {
  group?.enter()
  let thread = Thread {
    body()
    group?.leave()
  }
  thread.stackSize = 1 << 20
  thread.start()
}

/// Writes the prompt to the command's standard input, then closes it; stops early if the command stops reading.
private func writeInput(_ input: Data, to descriptor: Int32, wake: Int32) {
  defer { close(descriptor) }
  input.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
    guard let base = buffer.baseAddress else { return }
    var offset = 0
    var fds = [
      pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0),
      pollfd(fd: wake, events: Int16(POLLIN), revents: 0),
    ]
    while offset < buffer.count {
      let written = write(descriptor, base + offset, buffer.count - offset)
      if written > 0 {
        offset += written
        continue
      }
      guard written < 0, errno == EAGAIN || errno == EINTR else { return }  // EPIPE: nobody reads
      fds[0].revents = 0
      fds[1].revents = 0
      if poll(&fds, 2, -1) < 0, errno != EINTR { return }
      if fds[1].revents != 0 { return }
    }
  }
}
