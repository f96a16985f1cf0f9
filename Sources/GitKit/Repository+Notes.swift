internal import CGit2

extension Repository {
  /// The note on `oid` under `notesRef` (e.g. `refs/notes/orchestrate`), or nil when there is none.
  public func note(on oid: OID, notesRef: String) throws -> String? {
    var raw = oid.raw
    var note: OpaquePointer?
    let code = git_note_read(&note, pointer, notesRef, &raw)
    if code == GIT_ENOTFOUND.rawValue { return nil }
    try check(code, "git_note_read")
    defer { git_note_free(note) }
    return git_note_message(note).map { String(cString: $0) } ?? ""
  }

  /// Sets the note on `oid` under `notesRef` to `text`, replacing any existing one; `author` also commits it.
  public func setNote(on oid: OID, notesRef: String, _ text: String, author: Signature) throws {
    var raw = oid.raw
    var noteID = git_oid()
    try retryingTransient {
      try author.withGitSignature { signature in
        try check(
          git_note_create(&noteID, pointer, notesRef, signature, signature, &raw, text, 1), "git_note_create")
      }
    }
    RefWriteLog.shared.record(notesRef, try resolve(notesRef))
  }
}
