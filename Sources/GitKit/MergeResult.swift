/// The outcome of a three-way merge of trees.
public enum MergeResult: Equatable, Sendable {
  /// The merge applied cleanly; `tree` is the written result.
  case clean(tree: OID)
  /// The paths that conflict, sorted.
  case conflicts([String])
}
