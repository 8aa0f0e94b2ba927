# Helper functions for bash step scripts, with the names and output of Octopus Calamari's.
# The bootstrap sources this file before the step's script; `${N:-}` keeps them usable
# under `set -u`, and `if` (not `&&`) keeps them usable under `set -e`.

if base64 -w0 </dev/null >/dev/null 2>&1; then
    encode_servicemessagevalue() { printf '%s' "${1:-}" | base64 -w0; }
    decode_servicemessagevalue() { printf '%s' "${1:-}" | base64 -d; }
else
    # BSD base64 (macOS) cannot disable line wrapping; openssl is there instead.
    encode_servicemessagevalue() { printf '%s' "${1:-}" | openssl enc -base64 -A; }
    decode_servicemessagevalue() { printf '%s' "${1:-}" | openssl enc -base64 -A -d; }
fi

set_octopusvariable() {
    local message="##octopus[setVariable"
    if [ -n "${1:-}" ]; then
        message="$message name='$(encode_servicemessagevalue "$1")'"
    fi
    if [ -n "${2:-}" ]; then
        message="$message value='$(encode_servicemessagevalue "$2")'"
    fi
    if [ "${3:-}" = "-sensitive" ]; then
        message="$message sensitive='$(encode_servicemessagevalue "True")'"
    fi
    printf '%s]\n' "$message"
}

new_octopusartifact() {
    local path="${1:-}" name="${2:-}" directory length
    printf 'Collecting %s as an artifact...\n' "$path"
    if [ ! -f "$path" ]; then
        printf 'Could not find artifact %s\n' "$path" >&2
        exit 1
    fi
    # CDPATH would make cd print the directory into the captured value.
    directory=$(CDPATH='' cd -- "$(dirname -- "$path")" && pwd -P)
    path="${directory%/}/$(basename -- "$path")"
    if [ -z "$name" ]; then
        name=$(basename -- "$path")
    fi
    length=$(wc -c <"$path" | tr -d ' ')
    printf '##octopus[stdout-verbose]\n'
    printf 'Artifact %s will be collected from %s after this step completes\n' "$name" "$path"
    printf '##octopus[stdout-default]\n'
    printf "##octopus[createArtifact path='%s' name='%s' length='%s']\n" \
        "$(encode_servicemessagevalue "$path")" \
        "$(encode_servicemessagevalue "$name")" \
        "$(encode_servicemessagevalue "$length")"
}

fail_step() {
    if [ -n "${1:-}" ]; then
        printf "##octopus[resultMessage message='%s']\n" "$(encode_servicemessagevalue "$1")"
    fi
    exit 1
}

update_progress() {
    printf "##octopus[progress percentage='%s' message='%s']\n" \
        "$(encode_servicemessagevalue "${1:-}")" "$(encode_servicemessagevalue "${2:-}")"
}

_octopus_write_in_mode() {
    printf '##octopus[stdout-%s]\n%s\n##octopus[stdout-default]\n' "$1" "$2"
}

write_verbose() { _octopus_write_in_mode verbose "${1:-}"; }
write_highlight() { _octopus_write_in_mode highlight "${1:-}"; }
write_wait() { _octopus_write_in_mode wait "${1:-}"; }
write_warning() { _octopus_write_in_mode warning "${1:-}"; }

# Prints the index keys directly under the collection NAME, one a line, first seen first:
# `Site` for `Site[App1].Url`. NAME is matched case-insensitively, as Octopus does.
get_octopusvariable_indexes() {
    if [ -z "${1:-}" ]; then
        return 0
    fi
    _octopus_normalize_path "$1"
    if shopt -q nocasematch; then
        _octopus_collection_indexes "$_octopus_path"
    else
        shopt -s nocasematch
        _octopus_collection_indexes "$_octopus_path"
        shopt -u nocasematch
    fi
}

# Sets _octopus_path to NAME as the generated collection paths spell it: each identifier
# trimmed, as Octostache reads a name. A global rather than output spares a subshell.
_octopus_normalize_path() {
    local name="$1" word='' char depth=0 i=0
    _octopus_path=''
    while [ "$i" -lt "${#name}" ]; do
        char="${name:i:1}"
        i=$((i + 1))
        case "$depth$char" in
        0. | '0[')
            _octopus_trim "$word"
            _octopus_path="$_octopus_path$_octopus_trimmed$char"
            word=''
            ;;
        0*)
            word="$word$char"
            continue
            ;;
        *) _octopus_path="$_octopus_path$char" ;;
        esac
        case "$char" in
        '[') depth=$((depth + 1)) ;;
        ']') depth=$((depth - 1)) ;;
        esac
    done
    _octopus_trim "$word"
    _octopus_path="$_octopus_path$_octopus_trimmed"
}

_octopus_trim() {
    _octopus_trimmed="${1#"${1%%[![:space:]]*}"}"
    _octopus_trimmed="${_octopus_trimmed%"${_octopus_trimmed##*[![:space:]]}"}"
}
