
# git's own completion ('git orchestrate <TAB>') calls _git_orchestrate, loading this file by the
# name git-orchestrate when needed. It hands the words after 'orchestrate' to the completion above,
# as if 'git-orchestrate' had been typed.
_git_orchestrate() {
    local -i i start=-1
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ "${COMP_WORDS[i]}" == orchestrate ]]; then
            start=i
            break
        fi
    done
    ((start < 0)) && return 0
    local -a COMP_WORDS=(git-orchestrate "${COMP_WORDS[@]:start+1}")
    local -i COMP_CWORD=$((COMP_CWORD - start))
    local head="${COMP_LINE%%orchestrate*}orchestrate"
    local COMP_LINE="git-orchestrate${COMP_LINE:${#head}}"
    local -i COMP_POINT=$((COMP_POINT - ${#head} + ${#COMP_WORDS[0]}))
    _git-orchestrate git-orchestrate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
