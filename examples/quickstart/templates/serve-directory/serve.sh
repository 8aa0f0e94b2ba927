directory=$(get_octopusvariable "Directory")
case "$directory" in
  /*) ;;
  *) directory="$(get_octopusvariable "Steps.Project.Directory")/$directory" ;;
esac
[ -d "$directory" ] || fail_step "$directory does not exist"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The server keeps running after this script exits. Its output is left attached on purpose:
# steps ends the step when this script exits instead of waiting for the server's output to end.
nohup python3 -m http.server "$port" --bind 127.0.0.1 --directory "$directory" &

write_highlight "Serving $directory on http://127.0.0.1:$port/ (process $!)"
set_octopusvariable "Port" "$port"
set_octopusvariable "ProcessId" "$!"
