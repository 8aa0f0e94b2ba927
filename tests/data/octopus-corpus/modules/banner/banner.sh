# banner TEXT: TEXT between two rules of '=' as wide as it.
banner() {
    local rule
    rule=$(printf '%*s' "${#1}" '' | tr ' ' '=')
    printf '%s\n%s\n%s\n' "$rule" "$1" "$rule"
}
