import MCP
import OrchestrateKit

/// `get_next_subtask`: hands out the next sub-task, with its branch and working directory ready.
enum GetNextSubtask: OrchestrationTool {
  static let definition = Tool(
    name: "get_next_subtask",
    title: "Get the next sub-task",
    description: """
      Returns the next sub-task of a plan to work on, in order, and prepares it: its git branch \
      exists and `workdir` (an absolute directory) holds the code as of main plus any work already \
      done on this sub-task. Call it at the start of every iteration of the master loop. Do ALL the \
      sub-task's work inside `workdir` (give `orchestration_prompt` to the conductor; it says so), do \
      not commit there, then call validate_checkpoint and complete_subtask. Asking again for the same \
      sub-task returns the same answer and keeps the work done so far. When every sub-task is done it \
      returns `has_next: false` and no `subtask`. Returns {has_next, subtask: {id, order, description, \
      orchestration_prompt, estimated_complexity, checkpoint: {description, commands}}, progress: \
      {total, completed, current}, branch, workdir}. \
      Parallel dispatch: with `count: N` (N > 1) it returns instead `subtasks`, a list of up to N \
      sub-tasks to have under way at once, each {subtask, branch, workdir, attempts, in_progress}: \
      first those handed out earlier and not yet completed (`in_progress: true`: a conductor may \
      already be on it), then newly ready ones (every dependency already on main), each prepared in \
      its own `workdir` and branch. Give each new one to its own conductor in its own workdir, and \
      call complete_subtask for each when it is done; they land one at a time. `waiting` lists the \
      sub-tasks whose dependencies are not on main yet; call again after a completion.
      """,
    inputSchema: Schema.object(
      [
        "master_task_id": CommonSchema.masterTaskID,
        "count": [
          "type": "integer", "minimum": 1, "maximum": .int(maxCount),
          "description": .string(
            "Optional, default 1: how many sub-tasks to have under way at once. 1 returns the next sub-task in order (the fields subtask, branch, workdir); more returns `subtasks`, each in its own workdir."
          ),
        ],
      ], required: ["master_task_id"]),
    annotations: .init(readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false),
    outputSchema: Schema.output(
      [
        "has_next": Schema.boolean("False when every sub-task is complete."),
        "master_task_id": CommonSchema.masterTaskID,
        "subtask": subtaskSchema,
        "progress": Schema.progress,
        "branch": Schema.string("The sub-task's git branch, where failed attempts are kept."),
        "workdir": Schema.string("The absolute directory where all of the sub-task's work must be done."),
        "attempts": Schema.integer("Failed attempts already recorded for this sub-task."),
        "message": Schema.string("What to do next, in a sentence."),
        "notices": CommonSchema.notices,
        "subtasks": Schema.list(
          Schema.object(
            [
              "subtask": subtaskSchema,
              "branch": Schema.string("Its git branch."),
              "workdir": Schema.string("The absolute directory where all of this sub-task's work must be done."),
              "attempts": Schema.integer("Failed attempts already recorded for it."),
              "in_progress": Schema.boolean(
                "True when it was handed out before and is not completed (do not give it to a second conductor)."),
              "message": Schema.string("What to do with it, in a sentence."),
            ], required: ["subtask", "branch", "workdir", "attempts", "in_progress", "message"]),
          "With count > 1: the sub-tasks to have under way now, in plan order; absent with count 1."),
        "waiting": Schema.list(
          Schema.object(
            [
              "id": Schema.string("A sub-task not handed out yet."),
              "waiting_for": Schema.strings("Its dependencies that are not on main yet."),
            ], required: ["id", "waiting_for"]),
          "With count > 1: the sub-tasks that cannot start until their dependencies land."),
      ], required: ["has_next", "master_task_id", "progress", "message", "notices"]))

  static let subtaskSchema = Schema.object(
    [
      "id": Schema.string("The sub-task's id: pass it to validate_checkpoint and complete_subtask."),
      "order": Schema.integer("Its position in the plan, from 1."),
      "description": Schema.string("What the sub-task is."),
      "orchestration_prompt": Schema.string(
        "The full prompt for the conductor: what to build, the checkpoint, and the directory to work in."),
      "estimated_complexity": Schema.string("small, medium, large or massive."),
      "success_criteria": Schema.strings("What success looks like, in words."),
      "dependencies": Schema.strings("Ids of earlier sub-tasks it builds on."),
      "checkpoint": Schema.object(
        [
          "description": Schema.string("What the checkpoint proves."),
          "commands": Schema.strings("The commands the server runs; every one must exit 0."),
        ], required: ["description", "commands"]),
    ],
    required: [
      "id", "order", "description", "orchestration_prompt", "estimated_complexity", "success_criteria",
      "dependencies", "checkpoint",
    ])

  /// The most sub-tasks handed out at once, as `run --jobs` allows.
  static let maxCount = 64

  static func call(_ arguments: Arguments, on host: isolated OrchestrationHost) throws -> Value {
    try arguments.allowOnly(["master_task_id", "count"])
    let id = try arguments.string("master_task_id", hint: "give the plan's id (list_plans lists them)")
    let count = try arguments.optionalInt("count") ?? 1
    guard (1...maxCount).contains(count) else {
      throw ToolError.invalid("get_next_subtask: count must be between 1 and \(maxCount) (got \(count))")
    }
    let stored = try host.storedPlan(id)
    let session = try host.session(for: stored)
    let plan = session.plan
    guard let next = try session.nextSubtask() else {
      let status = try host.status(stored)
      var done: [String: Value] = [
        "has_next": false, "master_task_id": .string(plan.id), "progress": OrchestrationHost.progress(status),
        "message": .string(
          "all \(Plural.count(plan.subtasks.count, "sub-task")) of plan '\(plan.id)' are complete and on \(session.mainName); nothing is left to do"
        ),
        "notices": .array(host.events.take().map { .string($0) }),
      ]
      if count > 1 {
        done["subtasks"] = []
        done["waiting"] = []
      }
      return .object(done)
    }
    if count > 1 { return try several(count, stored: stored, session: session, host: host) }
    let subtask = next
    // red_first: the checkpoint must fail before any work; a pass is an error naming the sub-task.
    try session.checkRedFirst(subtask)
    let cycle = try host.begin(session, subtaskID: subtask.id)
    let status = try host.status(stored)
    let started = cycle.fresh ? "Start" : "Continue"
    var result = fields(cycle, plan: plan)
    result.merge([
      "has_next": true,
      "master_task_id": .string(plan.id),
      "progress": OrchestrationHost.progress(status),
      "message": .string(
        "\(started) sub-task \(subtask.order)/\(plan.subtasks.count) '\(subtask.id)' in \(cycle.workdir), then call validate_checkpoint and complete_subtask"
      ),
      "notices": .array(host.events.take().map { .string($0) }),
    ]) { _, new in new }
    return .object(result)
  }

  /// `{subtask, branch, workdir, attempts}` of a begun sub-task.
  static func fields(_ cycle: SubtaskCycle, plan: Plan) -> [String: Value] {
    let subtask = cycle.subtask
    let prompt = Prompts.orchestration(plan: plan, subtask: subtask, workdir: cycle.workdir)
    return [
      "subtask": [
        "id": .string(subtask.id), "order": .int(subtask.order), "description": .string(subtask.description),
        "orchestration_prompt": .string(prompt), "estimated_complexity": .string(subtask.complexity.rawValue),
        "success_criteria": .array(subtask.successCriteria.map { .string($0) }),
        "dependencies": .array(subtask.dependencies.map { .string($0) }),
        "checkpoint": [
          "description": .string(subtask.checkpoint.description),
          "commands": .array(subtask.checkpoint.commands.map { .string($0) }),
        ],
      ],
      "branch": .string(cycle.branch),
      "workdir": .string(cycle.workdir),
      "attempts": .int(cycle.attempts),
    ]
  }

  /// `count` > 1: the sub-tasks handed out and not completed, then newly ready ones, up to `count`,
  /// each begun in its own job slot.
  private static func several(
    _ count: Int, stored: StoredPlan, session: PlanSession, host: isolated OrchestrationHost
  ) throws -> Value {
    let plan = session.plan
    host.parallelDispatch = true
    let completed = Set(try host.status(stored).completedSubtasks)
    try host.pruneSlots(session, completed: completed)
    let handed = try host.handedOut(session)
    var picked: [(subtask: Subtask, inProgress: Bool)] = []
    for subtask in plan.subtasks where picked.count < count && handed[subtask.id] != nil {
      picked.append((subtask, true))
    }
    var waiting: [Value] = []
    for subtask in plan.subtasks where !completed.contains(subtask.id) && handed[subtask.id] == nil {
      let missing = subtask.dependencies.filter { !completed.contains($0) }
      if missing.isEmpty, picked.count < count {
        picked.append((subtask, false))
      } else if !missing.isEmpty {
        waiting.append(["id": .string(subtask.id), "waiting_for": .array(missing.map { .string($0) })])
      }
    }
    var entries: [(order: Int, value: Value)] = []
    for (subtask, inProgress) in picked {
      let cycle: SubtaskCycle
      do {
        if inProgress {
          cycle = try host.begin(session, subtaskID: subtask.id)
        } else {
          try session.checkRedFirst(subtask)
          cycle = try host.handOut(subtask, session)
        }
      } catch {
        throw host.naming(error, subtask: subtask.id)
      }
      var entry = fields(cycle, plan: plan)
      entry["in_progress"] = .bool(inProgress)
      entry["message"] = .string(
        inProgress
          ? "'\(subtask.id)' was handed out before and is not completed: its conductor works in \(cycle.workdir) (give it to a new one only if none is on it), then call validate_checkpoint and complete_subtask"
          : "\(cycle.fresh ? "Start" : "Continue") sub-task \(subtask.order)/\(plan.subtasks.count) '\(subtask.id)' in \(cycle.workdir) with a conductor of its own, then call validate_checkpoint and complete_subtask"
      )
      entries.append((subtask.order, .object(entry)))
    }
    let status = try host.status(stored)
    let fresh = picked.filter { !$0.inProgress }.map { "'\($0.subtask.id)'" }
    let busy = picked.filter(\.inProgress).map { "'\($0.subtask.id)'" }
    var message =
      fresh.isEmpty
      ? "no new sub-task can start now"
      : "\(Plural.count(fresh.count, "sub-task")) handed out, each in its own workdir: \(fresh.joined(separator: ", "))"
    if !busy.isEmpty { message += "; still under way: \(busy.joined(separator: ", "))" }
    if !waiting.isEmpty { message += "; \(waiting.count) waiting for dependencies to land" }
    message += ". Call complete_subtask for each when its work is done, then get_next_subtask again"
    return [
      "has_next": true, "master_task_id": .string(plan.id), "progress": OrchestrationHost.progress(status),
      "subtasks": .array(entries.sorted { $0.order < $1.order }.map(\.value)), "waiting": .array(waiting),
      "message": .string(message), "notices": .array(host.events.take().map { .string($0) }),
    ]
  }
}
