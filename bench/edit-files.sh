#!/usr/bin/env bash
# edit-files.sh DIR T K N [LABEL]
# Appends a line to K of the N files of a make-fixture.sh repository at DIR: the files sub-task T
# of a plan edits ((T*K + j) mod N). Both sides of a benchmark run this same script, so the
# "agent's" own cost is the same for both. Bash builtins only: no process per file.
set -euo pipefail
dir=$1; t=$2; k=$3; n=$4; label=${5:-sub-task}
for ((j = 0; j < k; j++)); do
  i=$(( (t * k + j) % n ))
  printf -v file '%s/src/m%03d/f%06d.txt' "$dir" $(( i % 200 )) "$i"
  echo "$label $t" >> "$file"
done
