#!/bin/sh
# A stand-in for an LLM fix agent: it reads the seed's fix prompt on stdin and repairs the one
# thing this demo breaks on purpose. A real plan would use `fix_agent: claude`.
prompt=$(cat)
echo "fix agent: attempt $ORCHESTRATE_ATTEMPT of sub-task $ORCHESTRATE_SUBTASK_ID"
echo "$prompt" | grep '^ *Failure:' || true
if [ -f USAGE.md ]; then
  sed 's/^Usage: wordcount \[FILE\]$/Usage: wordcount FILE/' USAGE.md > USAGE.md.new && mv USAGE.md.new USAGE.md
  echo "fix agent: corrected the usage line in USAGE.md"
fi
