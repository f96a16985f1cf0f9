/// The pre-push hook that `hooks install` writes: the text of `hooks/pre-push` in this repository,
/// with the absolute path of the installing binary recorded in its `installed=` line.
///
/// Embedded so the installed binary needs no data files; a test (`VerifyPrePushTests`) fails when
/// `text(binary: nil)` and `hooks/pre-push` differ.
public enum PrePushScript {
  /// A line every version of the script carries, by which an installed hook is recognised as ours.
  public static let marker = "# git-orchestrate pre-push hook"

  /// The line that records the binary; `installed=''` when none is recorded (the copy in `hooks/`).
  static let installedPrefix = "installed="

  /// The script, recording `binary` (an absolute path) as the git-orchestrate to run.
  ///
  /// A GUI or IDE often pushes with a PATH that lacks git-orchestrate: the recorded path makes the
  /// hook work there. When that binary is gone too, the hook lets through a push that sends no
  /// commit with `Orchestrate-` trailers (with a loud warning) and refuses any other, saying how to
  /// reinstall, uninstall or bypass; it never blocks pushes of work the tool has nothing to say about.
  public static func text(binary: String?) -> String {
    template.replacingOccurrences(of: installedPrefix + "''", with: installedPrefix + shellQuoted(binary ?? ""))
  }

  /// The binary a hook's text records, if it records one.
  public static func recordedBinary(in text: String) -> String? {
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(installedPrefix) }) else { return nil }
    var value = String(line.dropFirst(installedPrefix.count))
    guard value.count >= 2, value.hasPrefix("'"), value.hasSuffix("'") else { return nil }
    value = String(value.dropFirst().dropLast()).replacingOccurrences(of: #"'\''"#, with: "'")
    return value.isEmpty ? nil : value
  }

  /// `text` in single quotes for sh, a `'` inside written as `'\''`.
  static func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
  }

  static let template = #"""
    #!/bin/sh
    # git-orchestrate pre-push hook
    #
    # Refuses to push a sub-task commit whose checkpoint has not passed on that exact tree; a push of
    # validated work runs nothing. Installed by 'git orchestrate hooks install', removed by
    # 'git orchestrate hooks uninstall'. Bypass it once with 'git push --no-verify'.
    #
    # A pre-push hook that was here before is kept as pre-push.orchestrate-chained and runs first,
    # with the same arguments and the same standard input.

    # The git-orchestrate that installed this hook (a GUI's PATH may lack it); when it is gone,
    # git-orchestrate on PATH or in git's exec-path runs instead.
    installed=''

    input=$(mktemp "${TMPDIR:-/tmp}/git-orchestrate-pre-push.XXXXXX") || exit 1
    trap 'rm -f "$input"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    cat >"$input"

    chained="$(dirname "$0")/pre-push.orchestrate-chained"
    if [ -f "$chained" ] || [ -L "$chained" ]; then
    	if [ -x "$chained" ]; then
    		"$chained" "$@" <"$input" || exit $?
    	else
    		echo "git orchestrate: $chained is not executable; it was skipped as git skips a hook that is not executable" >&2
    	fi
    fi

    orchestrate=
    if [ -n "$installed" ] && [ -x "$installed" ]; then
    	orchestrate=$installed
    elif command -v git-orchestrate >/dev/null 2>&1; then
    	orchestrate=$(command -v git-orchestrate)
    elif [ -x "$(git --exec-path)/git-orchestrate" ]; then
    	orchestrate="$(git --exec-path)/git-orchestrate"
    fi
    if [ -n "$orchestrate" ]; then
    	"$orchestrate" hook-pre-push "$@" <"$input"
    	exit $?
    fi

    # git-orchestrate is gone: only a push that sends no commit with Orchestrate- trailers goes on.
    # "Sends" is judged by what the remote advertises and the old values git gives, never by local
    # remote-tracking refs (anyone can move those).
    remote_has=$(git ls-remote "${2:-$1}" 2>/dev/null | while read -r oid ref; do
    	git cat-file -e "$oid^{commit}" 2>/dev/null && echo "$oid"
    done)
    carries=
    while read -r local_ref local_oid remote_ref remote_oid; do
    	case $local_oid in *[!0]*) ;; *) continue ;; esac
    	hide=$remote_has
    	case $remote_oid in *[!0]*) git cat-file -e "$remote_oid^{commit}" 2>/dev/null && hide="$hide $remote_oid" ;; esac
    	# shellcheck disable=SC2086
    	if trailers=$(git log --format='%(trailers:key=Orchestrate-Plan,valueonly)' "$local_oid" --not $hide -- 2>/dev/null); then
    		case $trailers in *[![:space:]]*) carries="$carries $local_ref" ;; esac
    	else
    		carries="$carries $local_ref"
    	fi
    done <"$input"

    where=${installed:-git-orchestrate}
    if [ -z "$carries" ]; then
    	echo "git orchestrate: WARNING: the pre-push checkpoint hook cannot find $where (nor git-orchestrate on PATH)." >&2
    	echo "git orchestrate: this push sends no sub-task commit, so it goes on unchecked." >&2
    	echo "git orchestrate: reinstall git-orchestrate and run 'git orchestrate hooks install', or remove this hook: 'git orchestrate hooks uninstall' (or delete $0)." >&2
    	exit 0
    fi
    echo "push refused: the pre-push checkpoint hook cannot find $where (nor git-orchestrate on PATH), and this push sends sub-task commits (in$carries) whose checkpoints it must check." >&2
    echo "  reinstall: put git-orchestrate on PATH (or back at $where), then run 'git orchestrate hooks install'" >&2
    echo "  uninstall: 'git orchestrate hooks uninstall', or delete $0 (renaming pre-push.orchestrate-chained back to pre-push if it is there)" >&2
    echo "  bypass, once: git push --no-verify" >&2
    exit 1

    """#
}
