/// The pre-push hook that `hooks install` writes: the text of `hooks/pre-push` in this repository.
///
/// Embedded so the installed binary needs no data files; a test (`VerifyPrePushTests`) fails when the two differ.
public enum PrePushScript {
  /// A line every version of the script carries, by which an installed hook is recognised as ours.
  public static let marker = "# git-orchestrate pre-push hook"

  public static let text = #"""
    #!/bin/sh
    # git-orchestrate pre-push hook
    #
    # Refuses to push a sub-task commit whose checkpoint has not passed on that exact tree; a push of
    # validated work runs nothing. Installed by 'git orchestrate hooks install', removed by
    # 'git orchestrate hooks uninstall'. Bypass it once with 'git push --no-verify'.
    #
    # A pre-push hook that was here before is kept as pre-push.orchestrate-chained and runs first,
    # with the same arguments and the same standard input.

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

    git orchestrate hook-pre-push "$@" <"$input"

    """#
}
