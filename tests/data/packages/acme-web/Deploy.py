# Runs after configuration, in the installation folder.
import os

with open(get_octopusvariable("StageLog"), "a") as log:
    log.write("Deploy\n")
set_octopusvariable("DeployedFrom", os.getcwd())
