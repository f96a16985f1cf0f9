import Foundation
import GitKit

extension PlanSession {
  /// A fingerprint of the repository's git configuration and hooks (the workspace's included), for
  /// callers that let an agent work between their own calls, as the MCP server does.
  public func captureGitGuard() throws -> GitGuard {
    try GitGuard.capture(repository, workspace: workspace?.repository)
  }
}
