import MCP
import OrchestrateKit

/// One MCP tool: its declaration (name, description for an LLM reader, input and output schemas)
/// and its handler, which runs isolated to the host, one call at a time.
protocol OrchestrationTool: Sendable {
  static var definition: Tool { get }
  /// Returns the result object (`structuredContent`); throws for a tool error.
  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value
}

extension OrchestrationTool {
  static var name: String { definition.name }
}

/// The `master_task_id` input, shared by most tools.
enum CommonSchema {
  static let masterTaskID = Schema.string(
    "The plan's id (the master task id given to or returned by decompose_task; list_plans lists them).")
  static let subtaskID = Schema.string("The sub-task's id, as get_next_subtask returned it.")
  static let notices = Schema.strings("Things the server did on the way that the caller should know (may be empty).")
}
