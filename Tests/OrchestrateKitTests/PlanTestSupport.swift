import Foundation
import TestSupport
import Testing

@testable import OrchestrateKit

/// The directory of checked-in plan fixtures (the test target declares no resources).
let planFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
  .appendingPathComponent("Fixtures")

/// Parses YAML or JSON text as a plan file named `name`.
func parsePlan(_ text: String, name: String = "plan.yml") throws -> Plan {
  try PlanReader.parse(Data(text.utf8), fileName: name)
}

/// The `PlanError` that parsing `text` throws; records an issue when it does not throw one.
func planError(
  _ text: String, name: String = "plan.yml", sourceLocation: SourceLocation = #_sourceLocation
) -> PlanError? {
  planError(sourceLocation: sourceLocation) { try parsePlan(text, name: name) }
}

func planError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Plan)
  -> PlanError?
{
  do {
    let plan = try body()
    Issue.record("expected a PlanError, got plan '\(plan.id)'", sourceLocation: sourceLocation)
    return nil
  } catch let error as PlanError {
    return error
  } catch {
    Issue.record("expected a PlanError, got \(error)", sourceLocation: sourceLocation)
    return nil
  }
}

/// A small valid plan, with `extra` lines added to the first sub-task and `top` lines at the top.
func validPlanYAML(top: String = "", subtask extra: String = "") -> String {
  let extra = extra.replacingOccurrences(of: "\n", with: "\n    ")
  return """
    id: demo
    description: A demo plan
    \(top)
    subtasks:
      - id: models
        prompt: Create the models
        \(extra)
        checkpoint:
          commands: ["swift test"]
      - id: auth
        prompt: Add authentication
        dependencies: [models]
        checkpoint:
          commands: ["swift test --filter Auth"]

    """
}
