#!/usr/bin/env bash
# git-cli-timed.sh REPO S K N [FOLLOW]
# git-cli-baseline.sh's loop (a branch per sub-task in one reused worktree, the checkpoint, a commit
# with trailers, a compare-and-swap fast-forward of main), for the shapes the shared yardstick does
# not cover: K of N files edited per sub-task (edit-files.sh, as ours), and with FOLLOW=1 the
# user's checkout brought to main after each sub-task as `git orchestrate run` does
# (`git merge --ff-only`, which writes only the changed files and refuses to overwrite local work).
# With EDIT set, the sub-task runs `sh -c "$EDIT"` in the worktree instead of edit-files.sh.
# Prints the clock ($EPOCHREALTIME, no process started) after each sub-task, for the in-run method.
set -euo pipefail
repo=$1; s=$2; k=$3; n=$4; follow=${5:-0}
here=$(cd "$(dirname "$0")" && pwd)
cd "$repo"
wt=$(mktemp -d)/wt
git worktree add -q --detach "$wt" main
for ((t = 1; t <= s; t++)); do
  base=$(git rev-parse main)
  git -C "$wt" switch -q -c "orchestrate/bench/$t" "$base"
  if [ -n "${EDIT:-}" ]; then (cd "$wt" && sh -c "$EDIT"); else bash "$here/edit-files.sh" "$wt" "$t" "$k" "$n"; fi
  sh -c 'true'                                   # the checkpoint
  git -C "$wt" add -A
  git -C "$wt" commit -q -m "sub-task $t" --trailer "Orchestrate-Subtask: $t" --trailer "Checkpoint: passed"
  new=$(git -C "$wt" rev-parse HEAD)
  if [ "$follow" = 1 ]; then
    git merge -q --ff-only "$new"                # moves main and the user's checkout
  else
    git update-ref refs/heads/main "$new" "$base"
  fi
  git -C "$wt" switch -q --detach
  echo "subtask $t $EPOCHREALTIME"
done
git log --format='%(trailers:key=Orchestrate-Subtask,valueonly)' main | grep -c . >/dev/null
git worktree remove --force "$wt"
