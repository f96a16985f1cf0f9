/// A quick pass over YAML (or JSON) text that refuses what could crash or hang the parser.
///
/// Yams builds its tree recursively and hashes mapping keys recursively, so very deep nesting
/// can overflow the stack and anchors/aliases can make a small file expand exponentially
/// ("billion laughs"). No plan needs either, so this scanner, which tracks quotes, comments and
/// block scalars well enough to find structure, rejects them before Yams sees the text.
/// It errs on the side of refusing: a false alarm gets a clear message, a miss could crash.
enum YAMLPrescan {
  struct Problem: Equatable {
    var line: Int
    var message: String
  }

  static let maximumFlowDepth = 64
  static let maximumIndent = 256
  static let maximumCompactNesting = 32

  private enum Previous { case lineStart, indicator, property, other }

  private static let space = UInt8(ascii: " ")
  private static let tab = UInt8(ascii: "\t")
  private static let newline = UInt8(ascii: "\n")
  private static let carriageReturn = UInt8(ascii: "\r")
  private static let hash = UInt8(ascii: "#")
  private static let dash = UInt8(ascii: "-")
  private static let question = UInt8(ascii: "?")
  private static let doubleQuote = UInt8(ascii: "\"")
  private static let singleQuote = UInt8(ascii: "'")
  private static let backslash = UInt8(ascii: "\\")

  static func check(_ text: String) -> Problem? {
    let bytes = Array(text.utf8)
    var index = 0
    var line = 0
    var flowDepth = 0
    var inDouble = false
    var inSingle = false
    // Lines indented more than this belong to a block scalar (`|` or `>`), which is plain text.
    var blockScalarParent: Int?

    func isSpace(_ byte: UInt8) -> Bool { byte == space || byte == tab }
    func isBreak(_ byte: UInt8) -> Bool { byte == newline || byte == carriageReturn }
    func isBlankOrEnd(_ at: Int) -> Bool {
      at >= bytes.count || isSpace(bytes[at]) || isBreak(bytes[at])
    }
    func isFlowIndicator(_ byte: UInt8) -> Bool { "[]{},".utf8.contains(byte) }

    var nextLine = 0
    while nextLine < bytes.count {
      // One line per iteration: [lineStart, lineEnd).
      let lineStart = nextLine
      var lineEnd = lineStart
      while lineEnd < bytes.count && !isBreak(bytes[lineEnd]) { lineEnd += 1 }
      nextLine = lineEnd
      if nextLine < bytes.count && bytes[nextLine] == carriageReturn { nextLine += 1 }
      if nextLine < bytes.count && bytes[nextLine] == newline { nextLine += 1 }
      line += 1

      index = lineStart
      var indent = 0
      if !inDouble && !inSingle {
        while index < lineEnd && bytes[index] == space {
          index += 1
          indent += 1
        }
        let blank = index == lineEnd || bytes[index] == hash  // empty or comment only
        if let parent = blockScalarParent {
          if blank || indent > parent { continue }
          blockScalarParent = nil
        }
        if blank { continue }
        if indent > maximumIndent && flowDepth == 0 {
          return Problem(
            line: line,
            message:
              "indentation deeper than \(maximumIndent) columns; a plan is never nested this deep")
        }
      }

      var previous = Previous.lineStart
      var compact = 0
      var nodeColumn: Int?  // column of the first node on the line, after any `- ` and `? `
      while index < lineEnd {
        let byte = bytes[index]
        let column = index - lineStart
        index += 1
        if inDouble {
          if byte == backslash {
            index += 1
          } else if byte == doubleQuote {
            inDouble = false
            previous = .other
          }
          continue
        }
        if inSingle {
          if byte == singleQuote {
            if index < lineEnd && bytes[index] == singleQuote {
              index += 1
            } else {
              inSingle = false
              previous = .other
            }
          }
          continue
        }
        if isSpace(byte) { continue }
        if byte == hash && (column == 0 || isSpace(bytes[index - 2])) { break }  // a comment
        let atNodeStart = previous != .other
        let isEntryIndicator = (byte == dash || byte == question) && isBlankOrEnd(index)
        if atNodeStart && nodeColumn == nil && !isEntryIndicator { nodeColumn = column }
        if isEntryIndicator {
          if atNodeStart && flowDepth == 0 {
            compact += 1
            if compact > maximumCompactNesting {
              return Problem(
                line: line,
                message:
                  "more than \(maximumCompactNesting) nested list items on one line; a plan is never nested this deep"
              )
            }
          }
          previous = .indicator
          continue
        }
        switch byte {
        case doubleQuote where atNodeStart:
          inDouble = true
        case singleQuote where atNodeStart:
          inSingle = true
        case UInt8(ascii: "&"), UInt8(ascii: "*"):
          if atNodeStart && !isBlankOrEnd(index) && !isFlowIndicator(bytes[index]) {
            return Problem(
              line: line,
              message: "YAML anchors and aliases (&name, *name) are not supported in a plan; "
                + "write the value out, or quote a text that starts with '&' or '*'")
          }
          previous = .other
        case UInt8(ascii: "!") where atNodeStart:  // a tag: skip it, the node follows
          while index < lineEnd && !isSpace(bytes[index]) && !isFlowIndicator(bytes[index]) {
            index += 1
          }
          previous = .property
        case UInt8(ascii: "|") where atNodeStart && flowDepth == 0,
          UInt8(ascii: ">") where atNodeStart && flowDepth == 0:
          // A block scalar: its text is indented more than the node that owns it.
          blockScalarParent = max(indent, nodeColumn ?? indent)
          index = lineEnd
        case UInt8(ascii: "["), UInt8(ascii: "{"):
          if flowDepth > 0 || atNodeStart {
            flowDepth += 1
            if flowDepth > maximumFlowDepth {
              return Problem(
                line: line,
                message:
                  "lists or mappings nested deeper than \(maximumFlowDepth) levels; a plan is never nested this deep"
              )
            }
            previous = .indicator
          } else {
            previous = .other
          }
        case UInt8(ascii: "]"), UInt8(ascii: "}"):
          if flowDepth > 0 { flowDepth -= 1 }
          previous = .other
        case UInt8(ascii: ",") where flowDepth > 0:
          previous = .indicator
        case UInt8(ascii: ":") where flowDepth > 0 || isBlankOrEnd(index):
          previous = .indicator
        default:
          previous = .other
        }
      }
    }
    return nil
  }
}
