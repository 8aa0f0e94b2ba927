#!/bin/bash
# Runs before any configuration is touched.
echo "PreDeploy" >> "$(get_octopusvariable StageLog)"
grep -q '#{ApiUrl}' wwwroot/settings.js || { echo "settings.js substituted too early" >&2; exit 9; }
