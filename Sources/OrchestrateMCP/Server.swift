import Foundation
import Logging
import MCP
import OrchestrateKit

/// The `orchestration` MCP server: the tools the seed's master-orchestrator calls, on OrchestrateKit.
///
/// Standard output carries only the protocol; logs go to the logger (standard error in the CLI).
public enum OrchestrationServer {
  public static let name = "orchestration"

  /// Every tool, in the order `tools/list` gives them.
  static let tools: [any OrchestrationTool.Type] = [
    GetNextSubtask.self, ValidateCheckpoint.self, CompleteSubtask.self, GetDecompositionStatus.self,
    DecomposeTask.self, ListPlans.self, GetSubtaskFailure.self,
  ]

  public static var toolNames: [String] { tools.map { $0.name } }

  static let instructions = """
    git orchestrate runs a decomposed task one validated sub-task at a time, with git as the record. \
    Loop: get_next_subtask → do the work in the returned workdir → validate_checkpoint (fix and \
    validate again until it passes) → complete_subtask → get_decomposition_status; stop when \
    has_next is false. The server runs the checkpoints itself; main only moves to validated work. \
    To run independent sub-tasks in parallel, call get_next_subtask with count: N and give each \
    returned sub-task its own conductor in its own workdir; complete_subtask each when done.
    """

  /// A server with every tool registered, not yet started.
  public static func make(host: OrchestrationHost) async -> Server {
    let server = Server(
      name: name, version: Version.current, title: "git orchestrate", instructions: instructions,
      capabilities: .init(tools: .init(listChanged: false)))
    await server.withMethodHandler(ListTools.self) { _ in
      ListTools.Result(tools: tools.map { $0.definition })
    }
    await server.withMethodHandler(CallTool.self) { params in
      await call(params.name, arguments: params.arguments, host: host)
    }
    return server
  }

  /// Runs one tool call: a result object, or a tool error (`isError: true`) saying what to do.
  /// Never throws: a failure of any kind is reported to the caller as a tool error.
  public static func call(_ name: String, arguments: [String: Value]?, host: OrchestrationHost) async -> CallTool.Result
  {
    let answer = await answer(name, arguments: arguments, host: host)
    return result(answer.object, isError: answer.isError)
  }

  /// The object a tool call answers with, and `true` when it is a tool error; `call` wraps it as
  /// every result of this server is sent (`result(_:isError:)`).
  static func answer(_ name: String, arguments: [String: Value]?, host: isolated OrchestrationHost) -> (
    object: Value, isError: Bool?
  ) {
    guard let tool = tools.first(where: { $0.name == name }) else {
      return (failure(ToolError.unknownTool(name, known: toolNames), tool: name, host: host), true)
    }
    let started = Date()
    do {
      let value = try tool.call(Arguments(tool: name, arguments), on: host)
      host.logger.info("\(name) done in \(String(format: "%.3f", Date().timeIntervalSince(started))) s")
      return (value, nil)
    } catch {
      _ = host.events.take()
      return (failure(error, tool: name, host: host), true)
    }
  }

  /// A tool call with Foundation JSON in and out, for tests and benchmarks that do not speak MCP.
  /// - Returns: whether it is a tool error, `structuredContent` as a Foundation object, and the text
  ///   of the first content item.
  public static func call(_ name: String, json arguments: [String: Any], host: OrchestrationHost) async -> (
    isError: Bool, result: [String: Any], text: String
  ) {
    let values: [String: Value]
    do {
      let data = try JSONSerialization.data(withJSONObject: arguments)
      values = try JSONDecoder().decode([String: Value].self, from: data)
    } catch {
      return (true, ["error": "arguments are not JSON: \(error)"], "")
    }
    let outcome = await call(name, arguments: values, host: host)
    var text = ""
    if case .text(let body, _, _)? = outcome.content.first { text = body }
    let json = outcome.structuredContent?.jsonText ?? "{}"
    let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any] ?? [:]
    return (outcome.isError == true, object, text)
  }

  /// The object of a tool error: `{error, tool}`.
  static func failure(_ error: Error, tool: String, host: OrchestrationHost) -> Value {
    let text = message(for: error)
    host.logger.warning("\(tool) refused: \(text)")
    return ["error": .string(text), "tool": .string(tool)]
  }

  /// The object both as `structuredContent` and as the JSON text of the first content item.
  static func result(_ value: Value, isError: Bool?) -> CallTool.Result {
    // Named by its type so the non-throwing initialiser is chosen over the generic Codable one.
    let make: ([Tool.Content], Value?, Bool?, Metadata?) -> CallTool.Result = CallTool.Result.init
    return make([.text(text: value.jsonText, annotations: nil, _meta: nil)], value, isError, nil)
  }

  /// The error's own message, with the MCP way to act on it where the CLI's wording points elsewhere.
  static func message(for error: Error) -> String {
    if let error = error as? InSubtask {
      let base = message(for: error.underlying)
      return base.contains("sub-task '\(error.subtask)'")
        ? base + " (sub-task '\(error.subtask)' works in \(error.workdir))"
        : "sub-task '\(error.subtask)' (workdir \(error.workdir)): " + base
    }
    let base = (error as? LocalizedError)?.errorDescription ?? String(describing: error)
    switch error {
    case OrchestrateError.outOfOrder(_, _, let next?):
      return base + "; call get_next_subtask to start '\(next)'"
    case OrchestrateError.planNotFound, OrchestrateError.noPlan:
      return base + " (over MCP: store a plan with decompose_task; list_plans lists the stored ones)"
    case OrchestrateError.ambiguousPlan:
      return base + " with master_task_id"
    case OrchestrateError.planExists:
      return base + " (over MCP: decompose_task with replace: true)"
    case OrchestrateError.locked:
      return base + "; the MCP tools that change anything are refused meanwhile (status and list work)"
    case OrchestrateError.alreadyCompleted:
      return base + "; call get_next_subtask for the next one"
    default:
      return base
    }
  }

  /// Serves MCP over standard input and output until standard input closes, answering every
  /// request received before that, then releases the repository lock.
  public static func runStdio(host: OrchestrationHost, logger: Logger) async throws {
    let server = await make(host: host)
    let lane = DirectLane(host: host, logger: logger)
    let ordered = OrderedTransport(LineTransport(logger: logger, lane: lane), logger: logger)
    let transport = DirectToolCalls(ordered, logger: logger) { name, arguments in
      await answer(name, arguments: arguments, host: host)
    }
    try await server.start(transport: transport)
    logger.info("serving MCP '\(name)' \(Version.current) on stdio for \(host.path)")
    await server.waitUntilCompleted()
    await host.close()
    await server.stop()
    logger.info("standard input closed; stopped")
  }

  /// The CLI's entry: logs to standard error at `logLevel` (trace … critical; default warning, as an
  /// MCP client such as Claude Code shows a stdio server's standard error among its own errors), serves
  /// until standard input closes, and returns then. Blocks the calling thread.
  /// - Parameters:
  ///   - allowsPlanCreation: false forbids `decompose_task` from storing any plan.
  ///   - sandbox: `--sandbox` for the checkpoints the server runs; nil means `git config orchestrate.sandbox`.
  public static func serveStdio(
    repositoryPath: String, logLevel: String?, allowsPlanCreation: Bool = true, sandbox: Confinement.Setting? = nil
  ) throws {
    let level = Logger.Level(rawValue: (logLevel ?? "warning").lowercased()) ?? .warning
    LoggingSystem.bootstrap { label in
      var handler = StreamLogHandler.standardError(label: label)
      handler.logLevel = level
      return handler
    }
    let logger = Logger(label: "git-orchestrate.mcp")
    let host = OrchestrationHost(
      path: repositoryPath, allowsPlanCreation: allowsPlanCreation, logger: logger, sandbox: sandbox)
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task {
      do {
        try await runStdio(host: host, logger: logger)
      } catch {
        outcome.set(error)
      }
      done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
  }
}

/// The error of the server task, handed back to the blocked caller.
private final class Outcome: Sendable {
  private let stored = LockedBox<Error?>(nil)
  var error: Error? { stored.current }
  func set(_ error: Error) { stored.withLock { $0 = error } }
}
