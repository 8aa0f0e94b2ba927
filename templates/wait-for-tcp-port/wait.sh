# Waits for a TCP port using bash's /dev/tcp, so it needs nothing but bash and coreutils.
# get_octopusvariable, set_octopusvariable and fail_step come from the bootstrap.
host=$(get_octopusvariable "Host")
port=$(get_octopusvariable "Port")
timeout_seconds=$(get_octopusvariable "TimeoutSeconds")
interval=$(get_octopusvariable "IntervalSeconds")

case "$port" in
  ''|*[!0-9]*) fail_step "Port: '$port' is not a port number" ;;
esac
if [ "$port" -lt 1 ] || [ "$port" -gt 65535 ]; then
  fail_step "Port: $port is outside 1-65535"
fi
case "$timeout_seconds" in
  ''|*[!0-9]*) fail_step "TimeoutSeconds: '$timeout_seconds' is not a whole number of seconds" ;;
esac
host=${host:-localhost}
interval=${interval:-1}

start=$SECONDS
deadline=$((SECONDS + timeout_seconds))
while :; do
  # A subshell opens and closes the connection; `timeout` bounds a connect that hangs.
  if timeout 5 bash -c "exec 3<>/dev/tcp/$host/$port" 2>/dev/null; then
    waited=$((SECONDS - start))
    write_highlight "$host:$port accepts connections (waited ${waited}s)"
    set_octopusvariable "WaitedSeconds" "$waited"
    exit 0
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    fail_step "$host:$port did not accept connections within ${timeout_seconds}s"
  fi
  echo "Waiting for $host:$port..."
  sleep "$interval"
done
