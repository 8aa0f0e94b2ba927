#!/bin/bash
echo "PostDeploy" >> "$(get_octopusvariable StageLog)"
if [ "$(get_octopusvariable FailPostDeploy)" = "True" ]; then
  fail_step "PostDeploy health check failed"
fi
