internal import CGit2
import Foundation

extension Repository {
  /// The commit `oid`, copied out.
  public func commit(_ oid: OID) throws -> Commit {
    var raw = oid.raw
    var commit: OpaquePointer?
    try check(git_commit_lookup(&commit, pointer, &raw), "git_commit_lookup")
    defer { git_commit_free(commit) }
    return try Commit(commit!)
  }

  /// Writes a commit object; no reference moves. `message` is stored exactly as given.
  public func createCommit(
    tree: OID, parents: [OID], message: String, author: Signature, committer: Signature
  ) throws -> OID {
    let treePointer = try lookupTree(tree)
    defer { git_tree_free(treePointer) }
    var parentPointers: [OpaquePointer?] = []
    defer { for parent in parentPointers { git_commit_free(parent) } }
    for parent in parents {
      var raw = parent.raw
      var commit: OpaquePointer?
      try check(git_commit_lookup(&commit, pointer, &raw), "git_commit_lookup")
      parentPointers.append(commit)
    }
    var oid = git_oid()
    try retryingTransient {
      try author.withGitSignature { authorSignature in
        try committer.withGitSignature { committerSignature in
          try parentPointers.withUnsafeMutableBufferPointer { buffer in
            try check(
              git_commit_create(
                &oid, pointer, nil, authorSignature, committerSignature, nil, message, treePointer,
                buffer.count, buffer.baseAddress),
              "git_commit_create")
          }
        }
      }
    }
    return OID(oid)
  }

  /// The entries of tree `tree` (one level), in git's order.
  public func treeEntries(_ tree: OID) throws -> [TreeEntry] {
    let treePointer = try lookupTree(tree)
    defer { git_tree_free(treePointer) }
    return (0..<git_tree_entrycount(treePointer)).compactMap { index in
      git_tree_entry_byindex(treePointer, index).map { TreeEntry($0) }
    }
  }

  /// The entry at slash-separated `path` below `tree`, or nil when there is none.
  public func treeEntry(in tree: OID, path: String) throws -> TreeEntry? {
    let treePointer = try lookupTree(tree)
    defer { git_tree_free(treePointer) }
    var entry: OpaquePointer?
    let code = git_tree_entry_bypath(&entry, treePointer, path)
    if code == GIT_ENOTFOUND.rawValue { return nil }
    try check(code, "git_tree_entry_bypath")
    defer { git_tree_entry_free(entry) }
    return TreeEntry(entry!)
  }

  /// The contents of blob `oid`.
  public func blob(_ oid: OID) throws -> Data {
    var raw = oid.raw
    var blob: OpaquePointer?
    try check(git_blob_lookup(&blob, pointer, &raw), "git_blob_lookup")
    defer { git_blob_free(blob) }
    let size = Int(git_blob_rawsize(blob))
    guard size > 0, let bytes = git_blob_rawcontent(blob) else { return Data() }
    return Data(bytes: bytes, count: size)
  }

  /// Calls `body` with blob `oid`'s bytes where libgit2 holds them, without copying them out: a large
  /// file is written to disk from the one buffer the object database inflated it into.
  public func withBlob<R>(_ oid: OID, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
    var raw = oid.raw
    var blob: OpaquePointer?
    try check(git_blob_lookup(&blob, pointer, &raw), "git_blob_lookup")
    defer { git_blob_free(blob) }
    let size = Int(git_blob_rawsize(blob))
    guard size > 0, let bytes = git_blob_rawcontent(blob) else {
      return try body(UnsafeRawBufferPointer(start: nil, count: 0))
    }
    return try body(UnsafeRawBufferPointer(start: bytes, count: size))
  }

  /// Calls `body` with blob `oid`'s bytes in order, a piece of at most `blobPieceSize` bytes at a
  /// time: a loose object is read from its file and inflated into one buffer (`LooseObject`), so a
  /// file of any size is never held in memory. A packed object is read whole, as libgit2 1.5 reads
  /// packs (what a run writes is loose until a `git gc` packs it).
  /// - Returns: the blob's size.
  /// - Throws: `GitError` when the object is missing, not a blob, or damaged.
  @discardableResult
  public func readBlob(_ oid: OID, _ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Int {
    // A packed blob is read whole (libgit2 1.5 has no pack stream) without first looking for a
    // loose file, which cost a failed open per file when writing a packed 20k-file tree.
    if isPacked(oid) {
      return try withBlob(oid) { bytes in
        if bytes.count > 0 { try body(bytes) }
        return bytes.count
      }
    }
    if let size = try LooseObject.streamBlob(
      oid, objectsDirectory: commonDirectory + "/objects", pieceSize: Self.blobPieceSize, body)
    {
      return size
    }
    return try withBlob(oid) { bytes in
      if bytes.count > 0 { try body(bytes) }
      return bytes.count
    }
  }

  /// Whether `oid` is in one of the repository's packs, by their indexes alone. The packs are those
  /// there at the first question (no refresh): an object packed since is looked for as a loose file
  /// first, as every object was before.
  func isPacked(_ oid: OID) -> Bool {
    if packs == nil {
      var odb: OpaquePointer?
      var backend: OpaquePointer?
      guard git_odb_new(&odb) == 0 else {
        git_error_clear()
        return false
      }
      guard git_odb_backend_pack(&backend, commonDirectory + "/objects") == 0, git_odb_add_backend(odb, backend, 1) == 0
      else {
        git_error_clear()
        git_odb_free(odb)
        return false
      }
      packs = odb
    }
    var raw = oid.raw
    return git_odb_exists_ext(packs, &raw, UInt32(GIT_ODB_LOOKUP_NO_REFRESH.rawValue)) == 1
  }

  /// The largest piece `readBlob` hands over at once.
  public static let blobPieceSize = 1 << 20

  /// Writes `data` as a blob and returns its id.
  public func writeBlob(_ data: Data) throws -> OID {
    var oid = git_oid()
    try retryingTransient {
      try data.withUnsafeBytes { bytes in
        // libgit2 leaves some failed writes (a full disk while the object is flushed) without an
        // error of its own, so whatever an earlier call left would be reported: the OS's is.
        git_error_clear()
        errno = 0
        let code = git_blob_create_from_buffer(&oid, pointer, bytes.baseAddress, bytes.count)
        if code < 0, git_error_last() == nil, errno != 0 {
          throw GitError(
            code: code, errorClass: 0, function: "git_blob_create_from_buffer",
            message: String(cString: strerror(errno)))
        }
        try check(code, "git_blob_create_from_buffer")
      }
    }
    return OID(oid)
  }

  /// Write a tree of regular files given by slash-separated relative paths (nested folders made as needed).
  ///
  /// For content the tool keeps out of any work tree (the plan store): no index, no files on disk.
  /// - Throws: `GitError` for an invalid name (empty, `.`, `..`, `.git`) or a path that is both a file and a folder.
  public func writeTree(files: [String: Data]) throws -> OID {
    try writeTree(FolderNode(files: files))
  }

  /// Looks up the tree `oid` names, peeling a commit or tag; the caller frees it with `git_tree_free`.
  func lookupTree(_ oid: OID) throws -> OpaquePointer {
    var raw = oid.raw
    var object: OpaquePointer?
    try check(git_object_lookup(&object, pointer, &raw, GIT_OBJECT_ANY), "git_object_lookup")
    defer { git_object_free(object) }
    var tree: OpaquePointer?
    try check(git_object_peel(&tree, object, GIT_OBJECT_TREE), "git_object_peel")
    return tree!
  }

  private func writeTree(_ folder: FolderNode) throws -> OID {
    var builder: OpaquePointer?
    try check(git_treebuilder_new(&builder, pointer, nil), "git_treebuilder_new")
    defer { git_treebuilder_free(builder) }
    for (name, data) in folder.files {
      var oid = try writeBlob(data).raw
      try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_BLOB), "git_treebuilder_insert")
    }
    for (name, child) in folder.folders {
      var oid = try writeTree(child).raw
      try check(git_treebuilder_insert(nil, builder, name, &oid, GIT_FILEMODE_TREE), "git_treebuilder_insert")
    }
    var oid = git_oid()
    try retryingTransient { try check(git_treebuilder_write(&oid, builder), "git_treebuilder_write") }
    return OID(oid)
  }
}

/// A folder of `writeTree(files:)`, built from the flat path list before anything is written.
private struct FolderNode {
  var files: [String: Data] = [:]
  var folders: [String: FolderNode] = [:]

  init() {}

  init(files paths: [String: Data]) throws {
    for (path, data) in paths {
      try insert(path.split(separator: "/", omittingEmptySubsequences: false).map(String.init), data, path)
    }
  }

  private mutating func insert(_ components: [String], _ data: Data, _ path: String) throws {
    let name = components[0]
    if components.count == 1 {
      guard folders[name] == nil else { throw FolderNode.clash(path) }
      files[name] = data
    } else {
      guard files[name] == nil else { throw FolderNode.clash(path) }
      try folders[name, default: FolderNode()].insert(Array(components.dropFirst()), data, path)
    }
  }

  private static func clash(_ path: String) -> GitError {
    GitError(
      code: GIT_EEXISTS.rawValue, errorClass: Int32(GIT_ERROR_TREE.rawValue), function: "writeTree(files:)",
      message: "path '\(path)' is both a file and a folder; give each path a single kind")
  }
}

extension Repository {
  /// The best common ancestor of `a` and `b`, or nil when their histories are unrelated.
  public func mergeBase(_ a: OID, _ b: OID) throws -> OID? {
    var base = git_oid()
    var rawA = a.raw
    var rawB = b.raw
    let code = git_merge_base(&base, pointer, &rawA, &rawB)
    if code == GIT_ENOTFOUND.rawValue { return nil }
    try check(code, "git_merge_base")
    return OID(base)
  }

  /// Whether `ancestor` is in the history of `commit`; true also when they are equal.
  public func isAncestor(_ ancestor: OID, of commit: OID) throws -> Bool {
    if ancestor == commit { return true }
    var rawAncestor = ancestor.raw
    var rawCommit = commit.raw
    let code = git_graph_descendant_of(pointer, &rawCommit, &rawAncestor)
    if code == GIT_ENOTFOUND.rawValue, isShallow { return reaches(ancestor, from: commit) }
    try check(code, "git_graph_descendant_of")
    return code == 1
  }

  /// Whether `target` is reachable from `start` through the parents that are present.
  ///
  /// For shallow clones: libgit2 1.5 does not read the shallow file, so its graph walks fail with
  /// "object not found" at the boundary; the history present is what a shallow clone has.
  func reaches(_ target: OID, from start: OID) -> Bool {
    var seen: Set<OID> = [start]
    var pending = [start]
    while let oid = pending.popLast() {
      guard let current = try? commit(oid) else { continue }
      for parent in current.parents where seen.insert(parent).inserted {
        if parent == target { return true }
        pending.append(parent)
      }
    }
    return false
  }

  /// Walk first parents from `start`, newest first, calling body until it returns false, the root, or `stop` (exclusive).
  ///
  /// Reads one commit per step, so the cost is the number of commits visited, never the whole history.
  /// In a shallow clone the walk ends at the shallow boundary: libgit2 1.5 does not read grafts, so the
  /// missing parent is treated as the root.
  public func walkFirstParents(from start: OID, stop: OID?, _ body: (Commit) throws -> Bool) throws {
    var next: OID? = start
    while let oid = next, oid != stop {
      let current: Commit
      do {
        current = try commit(oid)
      } catch let error as GitError where error.isNotFound && oid != start && isShallow {
        return
      }
      guard try body(current) else { return }
      next = current.parents.first
    }
  }
}
