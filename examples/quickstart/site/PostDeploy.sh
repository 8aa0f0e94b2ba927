#!/bin/bash
# Runs last, in the folder the site was copied to.
echo "site $(get_octopusvariable Octopus.Action.Package.PackageVersion) deployed to $(pwd)"
