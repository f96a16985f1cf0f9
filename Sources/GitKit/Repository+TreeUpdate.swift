import Foundation

internal import CGit2

/// One change to apply to a tree: a path set to a blob (or gitlink), or removed.
public struct TreeUpdate: Equatable, Sendable {
  public enum Action: Equatable, Sendable {
    case upsert(OID, FileMode)
    case remove
  }

  public let path: String
  public let action: Action

  public init(path: String, action: Action) {
    self.path = path
    self.action = action
  }
}

extension Repository {
  /// Writes the tree that is `base` with `updates` applied, writing only the folders on the changed
  /// paths (git_tree_create_updated), so the cost follows the change, not the repository.
  ///
  /// Removals are applied before additions, so a file may become a folder or a folder a file.
  /// Removing a path that is not in the tree is not an error.
  /// A `nil` base is the empty tree (which is then never written on its own).
  public func updateTree(_ base: OID?, _ updates: [TreeUpdate]) throws -> OID {
    var removals: [String] = []
    var upserts: [(String, OID, FileMode)] = []
    for update in updates {
      switch update.action {
      case .remove: removals.append(update.path)
      case .upsert(let oid, let mode): upserts.append((update.path, oid, mode))
      }
    }
    var tree = base
    let present = try removals.filter { path in try tree.map { try treeEntry(in: $0, path: path) } != nil }
    if !present.isEmpty {
      tree = try apply(tree, present.map { ($0, OID.zero, FileMode.blob, GIT_TREE_UPDATE_REMOVE) })
    }
    if !upserts.isEmpty {
      let plain = upserts.map { ($0.0, $0.1, $0.2, GIT_TREE_UPDATE_UPSERT) }
      if let updated = try? apply(tree, plain) {
        tree = updated
      } else {
        // A path whose parent is a file in the tree: drop the file first, then try again.
        git_error_clear()
        var blockers: [String] = []
        for (path, _, _) in upserts {
          var prefix = ""
          for component in path.split(separator: "/").dropLast() {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            if let tree, let entry = try treeEntry(in: tree, path: prefix), entry.mode != .tree { blockers.append(prefix) }
          }
        }
        if !blockers.isEmpty {
          tree = try apply(tree, Array(Set(blockers)).map { ($0, OID.zero, FileMode.blob, GIT_TREE_UPDATE_REMOVE) })
        }
        tree = try apply(tree, plain)
      }
    }
    if let tree { return tree }
    return try writeTree(files: [:])
  }

  private func apply(_ base: OID?, _ updates: [(String, OID, FileMode, git_tree_update_t)]) throws -> OID {
    let tree = try base.map(lookupTree)
    defer { git_tree_free(tree) }
    let paths = updates.map { strdup($0.0) }
    defer { paths.forEach { free($0) } }
    var raw = updates.enumerated().map { index, update in
      git_tree_update(
        action: update.3, id: update.1.raw, filemode: git_filemode_t(update.2.rawValue), path: paths[index])
    }
    var out = git_oid()
    try retryingTransient {
      try check(git_tree_create_updated(&out, pointer, tree, raw.count, &raw), "git_tree_create_updated")
    }
    return OID(out)
  }

  /// Hashes and stores the working-directory file at `relativePath` as git would (filters and
  /// attributes applied; a symlink stores its target).
  public func blobFromWorkdir(_ relativePath: String) throws -> OID {
    var oid = git_oid()
    try retryingTransient { try check(git_blob_create_from_workdir(&oid, pointer, relativePath), "git_blob_create_from_workdir") }
    return OID(oid)
  }

  /// Calls `body` for every blob, symlink and gitlink of `tree`, with its full path, in tree order.
  public func walkTree(_ tree: OID, _ body: (String, OID, FileMode) throws -> Void) throws {
    var stack: [(String, OID)] = [("", tree)]
    while let (prefix, oid) = stack.popLast() {
      var folders: [(String, OID)] = []
      for entry in try treeEntries(oid) {
        let path = prefix.isEmpty ? entry.name : prefix + "/" + entry.name
        if entry.mode == .tree {
          folders.append((path, entry.oid))
        } else {
          try body(path, entry.oid, entry.mode)
        }
      }
      stack.append(contentsOf: folders.reversed())
    }
  }
}
