/// One changed path between two trees.
public struct DiffEntry: Equatable, Sendable {
  public enum Status: String, Sendable {
    case added, modified, deleted, typeChanged
  }

  public let path: String
  public let status: Status
  public let oldOID: OID?
  public let newOID: OID?
  public let oldMode: FileMode?
  public let newMode: FileMode?

  public init(
    path: String, status: Status, oldOID: OID?, newOID: OID?, oldMode: FileMode?, newMode: FileMode?
  ) {
    self.path = path
    self.status = status
    self.oldOID = oldOID
    self.newOID = newOID
    self.oldMode = oldMode
    self.newMode = newMode
  }
}
