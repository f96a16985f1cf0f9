#!/usr/bin/env bash
# verify-cold-git-cli.sh REPO BASE TIP
# The yardstick of `verify` with nothing recorded: what a user would script to check every
# first-parent commit of BASE..TIP by hand — one temporary worktree, moved from commit to commit
# (`git checkout` writes only what differs), the checkpoint run in it, leftovers cleaned.
set -euo pipefail
repo=$1; base=$2; tip=$3
wt=$(mktemp -d)/verify
git -C "$repo" worktree add -q --detach "$wt" "$base"
for commit in $(git -C "$repo" rev-list --reverse --first-parent "$base..$tip"); do
  git -C "$wt" checkout -q --force --detach "$commit"
  git -C "$wt" clean -ffdxq
  (cd "$wt" && sh -c 'test -s README || true')   # the checkpoint
done
git -C "$repo" worktree remove --force "$wt"
