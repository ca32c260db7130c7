# SPDX-License-Identifier: MIT
# bash completion for ipckit. Install as /usr/share/bash-completion/completions/ipckit, or
# `source tools/ipckit/completion/ipckit.bash`.
#
# Completes subcommands, each subcommand's options, --type words, URI schemes, and the names of
# existing objects (POSIX names from /dev/shm and /dev/mqueue, channels, System V ids from
# /proc/sysvipc) after a scheme.

_ipckit_objects() {
    local cur="$1" scheme="${1%%:*}" f
    case "$scheme" in
        mq)   for f in /dev/mqueue/*; do [[ -e $f ]] && echo "mq:/${f##*/}"; done ;;
        shm)  for f in /dev/shm/*; do
                  f=${f##*/}; [[ $f == sem.* || $f == *.chan || $f == '*' ]] || echo "shm:/$f"
              done ;;
        sem)  for f in /dev/shm/sem.*; do [[ -e $f ]] && echo "sem:/${f##*/sem.}"; done ;;
        chan) for f in "${IPCKIT_SHM_DIR:-/dev/shm}"/*.chan; do
                  [[ -e $f ]] || continue; f=${f##*/}; echo "chan:${f%.chan}"
              done ;;
        sysvmq)  awk 'NR>1 {print "sysvmq:id:" $2}' /proc/sysvipc/msg 2>/dev/null ;;
        sysvshm) awk 'NR>1 {print "sysvshm:id:" $2}' /proc/sysvipc/shm 2>/dev/null ;;
        sysvsem) awk 'NR>1 {print "sysvsem:id:" $2}' /proc/sysvipc/sem 2>/dev/null ;;
    esac
}

_ipckit() {
    local cur prev sub i
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev=""
    (( COMP_CWORD > 0 )) && prev="${COMP_WORDS[COMP_CWORD-1]}"
    local subcommands="ls stat rm lock send recv sem bench bridge"
    local schemes="fifo: mq: sysvmq: unix: unix-dgram: unix-seqpacket: tcp: udp: chan: shm: sysvshm: sem: sysvsem: nats://"
    local object_schemes="mq: shm: sem: chan: sysvmq: sysvshm: sysvsem:"
    local types="mq shm sem sysvmq sysvshm sysvsem chan posix sysv all"

    sub=""
    for (( i = 1; i < COMP_CWORD; i++ )); do
        case "${COMP_WORDS[i]}" in
            -*) ;;
            *) sub="${COMP_WORDS[i]}"; break ;;
        esac
    done

    if [[ -z $sub ]]; then
        COMPREPLY=( $(compgen -W "$subcommands --help --version" -- "$cur") )
        return
    fi

    case "$prev" in
        -t|--type) [[ $sub == ls || $sub == rm ]] && COMPREPLY=( $(compgen -W "$types" -- "${cur##*,}") )
                   return ;;
        -p|--prefix|-w|--timeout|--prio|--mode|--value|-n|--count) return ;;
        --file) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
        --trust-owner) COMPREPLY=( $(compgen -u -- "$cur") ); return ;;
    esac

    # COMP_WORDBREAKS usually contains ':'; complete the whole word and strip what bash keeps.
    local word="$cur"
    if [[ $COMP_CWORD -ge 2 && ${COMP_WORDS[COMP_CWORD-1]} == ":" ]]; then
        word="${COMP_WORDS[COMP_CWORD-2]}:$cur"
    fi

    local opts=""
    case "$sub" in
        ls)   opts="--json --stale --type --prefix --expect-none --help" ;;
        stat) opts="--json --help" ;;
        rm)   opts="--stale --dry-run --force --verbose --type --prefix --help" ;;
        lock) opts="--shared --timeout --close --help"
              if [[ $cur != -* ]]; then
                  COMPREPLY=( $(compgen -f -- "$cur") $(compgen -c -- "$cur") )
                  return
              fi ;;
        send) opts="--file --whole --binary -0 --raw --prio --type --create --mode --timeout --trust-owner --help" ;;
        recv) opts="--count -n --timeout --follow --json --hex --raw --create --mode --trust-owner --help" ;;
        sem)  opts="--create --value --mode --timeout --trust-owner --help"
              if [[ $cur != -* && $prev == sem ]]; then
                  COMPREPLY=( $(compgen -W "post wait trywait get" -- "$cur") )
                  return
              fi ;;
        *)    opts="--help" ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
        return
    fi

    local candidates
    if [[ $word == *:* ]]; then
        candidates="$(_ipckit_objects "$word")"
    elif [[ $sub == stat || $sub == rm ]]; then
        candidates="$object_schemes"
    elif [[ $sub == sem ]]; then
        candidates="sem: sysvsem:"
    elif [[ $sub == send || $sub == recv ]]; then
        candidates="fifo: mq: sysvmq: unix: unix-dgram: unix-seqpacket: tcp: udp:"
    else
        candidates="$schemes"
    fi
    COMPREPLY=( $(compgen -W "$candidates" -- "$word") )
    # Remove the part before the last ':' that bash already has in the line.
    if [[ $word == *:* && $word != "$cur" ]]; then
        local strip="${word%:*}:"
        COMPREPLY=( "${COMPREPLY[@]#"$strip"}" )
    fi
    [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *: ]] && compopt -o nospace 2>/dev/null
    return 0
}

complete -F _ipckit ipckit
