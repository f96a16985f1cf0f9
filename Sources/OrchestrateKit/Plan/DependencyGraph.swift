import Foundation

/// The dependency graph of a plan's sub-tasks (`dependencies`), as index lists: finding the
/// cycles that make a plan impossible to run in any order, for `PlanValidator` to report.
enum DependencyGraph {
  /// Tarjan's algorithm without recursion: a hostile plan can have a very long dependency chain.
  static func stronglyConnectedComponents(_ edges: [[Int]]) -> [Int] {
    let count = edges.count
    var index = [Int](repeating: -1, count: count)
    var low = [Int](repeating: 0, count: count)
    var onStack = [Bool](repeating: false, count: count)
    var component = [Int](repeating: -1, count: count)
    var stack: [Int] = []
    var next = 0
    var components = 0
    for start in 0..<count where index[start] < 0 {
      var work: [(node: Int, edge: Int)] = []
      func visit(_ node: Int) {
        index[node] = next
        low[node] = next
        next += 1
        stack.append(node)
        onStack[node] = true
        work.append((node, 0))
      }
      visit(start)
      while let (node, edge) = work.last {
        if edge < edges[node].count {
          work[work.count - 1].edge += 1
          let target = edges[node][edge]
          if index[target] < 0 {
            visit(target)
          } else if onStack[target] {
            low[node] = min(low[node], index[target])
          }
        } else {
          work.removeLast()
          if let parent = work.last { low[parent.node] = min(low[parent.node], low[node]) }
          if low[node] == index[node] {
            while let member = stack.popLast() {
              onStack[member] = false
              component[member] = components
              if member == node { break }
            }
            components += 1
          }
        }
      }
    }
    return component
  }

  /// One cycle through the strongly connected component of `start`, as node indices, closed.
  static func cycle(from start: Int, edges: [[Int]], component: [Int]) -> [Int] {
    var path: [Int] = []
    var seen: [Int: Int] = [:]
    var node = start
    while seen[node] == nil {
      seen[node] = path.count
      path.append(node)
      guard let next = edges[node].first(where: { component[$0] == component[start] }) else {
        return path
      }
      node = next
    }
    return Array(path[seen[node]!...]) + [node]
  }
}
