#!/bin/bash
echo "DeployFailed: $(get_octopusvariable OctopusLastErrorMessage)" >> "$(get_octopusvariable StageLog)"
