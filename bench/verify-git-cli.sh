#!/usr/bin/env bash
# verify-git-cli.sh REPO
# The yardstick for `git orchestrate verify`: what a user would script by hand with the git CLI.
# For every sub-task commit on main (one with an Orchestrate-Subtask trailer), read the checkpoint
# record on its tree from refs/notes/orchestrate and require a "passed" line. Prints the number of
# commits that passed; exits 1 if one has no recorded pass.
set -euo pipefail
repo=$1
cd "$repo"
passed=0
while read -r tree subtask; do
  [ -n "$subtask" ] || continue
  if git notes --ref=orchestrate show "$tree" 2>/dev/null | grep -q '"status":"passed"'; then
    passed=$((passed + 1))
  else
    echo "no recorded pass for $subtask ($tree)" >&2
    exit 1
  fi
done < <(git log --first-parent --format='%T %(trailers:key=Orchestrate-Subtask,valueonly,separator=%x2C)' main)
echo "$passed"
