#!/usr/bin/env bash
# make demo: a throw-away repository, the example plan run end to end. No LLM, no network.
set -euo pipefail
bin=${1:?usage: demo.sh PATH-TO-git-orchestrate}
here=$(cd "$(dirname "$0")" && pwd)
demo=$(mktemp -d "${TMPDIR:-/tmp}/git-orchestrate-demo.XXXXXX")
mkdir -p "$demo/bin"
ln -s "$bin" "$demo/bin/git-orchestrate"
export PATH="$demo/bin:$PATH"       # so `git orchestrate` finds the subcommand
export GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=demo GIT_AUTHOR_EMAIL=demo@example.invalid
export GIT_COMMITTER_NAME=demo GIT_COMMITTER_EMAIL=demo@example.invalid

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

cd "$demo"
git init -q -b main repo
cp -R "$here/project/." repo/
cp "$here/plan.yml" repo/plan.yml
cd repo
git add -A && git commit -q -m "wordcount: initial project"

say git orchestrate plan validate plan.yml
git orchestrate plan validate plan.yml
say git orchestrate run plan.yml
git orchestrate run plan.yml
say git orchestrate status --json
git orchestrate status --json | head -20
say git log --first-parent --format='%h %s%n%(trailers:key=Orchestrate-Subtask,key=Orchestrate-Attempts,key=Orchestrate-Checkpoint)' main
git log --first-parent --format='%h %s%n%(trailers:key=Orchestrate-Subtask,key=Orchestrate-Attempts,key=Orchestrate-Checkpoint)' main
say git orchestrate run plan.yml "   # again: nothing left to do"
git orchestrate run plan.yml | tail -3
say "ls && sh tests/run.sh"
ls && sh tests/run.sh
printf '\nThe demo repository is %s (remove it when done).\n' "$demo/repo"
