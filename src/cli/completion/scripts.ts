/**
 * The shell side of completion: each script hands the command line's words
 * to `tscompose __complete -- WORDS...` (the same program the user typed,
 * so a checkout's bin/tscompose completes itself) and offers its answer, one
 * candidate a line; a first line `__files__` asks for the shell's own file
 * name completion. Everything else is decided in complete.ts.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** The marker line that asks the shell to complete file names. */
export const FILES_MARKER = '__files__';

const BASH = `# tscompose completion for bash. Load it in this shell:   source <(tscompose completion bash)
# or for every shell:   tscompose completion bash > /etc/bash_completion.d/tscompose
_tscompose() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" out
  out=$("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null) || return 0
  if [[ "$out" == ${FILES_MARKER}* ]]; then
    compopt -o filenames 2>/dev/null
    mapfile -t COMPREPLY < <(compgen -f -- "$cur")
  else
    mapfile -t COMPREPLY <<< "$out"
    [[ -z "$out" ]] && COMPREPLY=()
  fi
  return 0
}
complete -F _tscompose tscompose
`;

const ZSH = `#compdef tscompose
# tscompose completion for zsh (compinit loaded). Load it in this shell:   source <(tscompose completion zsh)
# or for every shell:   tscompose completion zsh > "\${fpath[1]}/_tscompose"
_tscompose() {
  local out
  out=$(\${words[1]} __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null) || return 1
  if [[ "$out" == ${FILES_MARKER}* ]]; then
    _files
    return
  fi
  local -a candidates
  candidates=("\${(@f)out}")
  (( \${#candidates} )) && [[ -n "$out" ]] && compadd -Q -- "\${candidates[@]}"
}
if [[ "$funcstack[1]" == _tscompose ]]; then _tscompose "$@"; else compdef _tscompose tscompose; fi
`;

const FISH = `# tscompose completion for fish. Load it in this shell:   tscompose completion fish | source
# or for every shell:   tscompose completion fish > ~/.config/fish/completions/tscompose.fish
function __tscompose_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out ($words[1] __complete -- $words[2..-1] 2>/dev/null)
    if test "$out[1]" = ${FILES_MARKER}
        __fish_complete_path (commandline -ct)
        return
    end
    printf '%s\\n' $out
end
complete -c tscompose -f -a '(__tscompose_complete)'
`;

export function completionScript(shell: Shell): string {
  return { bash: BASH, zsh: ZSH, fish: FISH }[shell];
}
