"""Package steps in steps.toml: [packages], `package = ...`, [steps.deploy], [steps.scripts]."""

from __future__ import annotations

from pathlib import Path

from steptemplates.deploy_settings import HOOK_STAGES
from steptemplates.manifest import PathRequirement
from tests.test_manifest import error_of, load

PACKAGES = """
[packages.web]
path = "build/Acme.Web.1.2.0.zip"
[packages.site]
path = "site"
version = "3.1.0"
"""


def test_package_step_settings_become_calamari_variables(tmp_path: Path) -> None:
    (tmp_path / "hooks").mkdir()
    (tmp_path / "hooks" / "check.py").write_text("\ufeffprint('checked')\n")
    loaded = load(
        tmp_path,
        PACKAGES
        + """
[[steps]]
name = "web"
package = "web"
[steps.deploy]
substitute-files = ["wwwroot/*.js", "*.conf"]
output-encoding = "utf-8"
transforms = true
additional-transforms = ["A.config => B.config"]
config-variables = true
structured-files = ["appsettings.json"]
custom-directory = "/srv/web"
purge = true
purge-exclude = ["logs/**"]
package-scripts = false
keep-deployments = 2
[steps.scripts.predeploy]
bash = "echo pre"
[steps.scripts.AfterSubstituteInFiles]
file = "hooks/check.py"
[steps.parameters]
"Octopus.Action.Package.CustomInstallationDirectory" = "/srv/override"
""",
    )
    step = loaded.steps[0]
    assert step.package == "web" and step.template == ""
    p = "Octopus.Action.Package."
    assert dict(step.parameters) == {
        "Octopus.Action.SubstituteInFiles.TargetFiles": "wwwroot/*.js\n*.conf",
        p + "AdditionalXmlConfigurationTransforms": "A.config => B.config",
        p + "JsonConfigurationVariablesTargets": "appsettings.json",
        p + "CustomInstallationDirectoryPurgeExclusions": "logs/**",
        p + "AutomaticallyRunConfigurationTransformationFiles": "True",
        p + "AutomaticallyUpdateAppSettingsAndConnectionStrings": "True",
        p + "CustomInstallationDirectoryShouldBePurgedBeforeDeployment": "True",
        p + "RunScripts": "False",
        "Octopus.Action.SubstituteInFiles.OutputEncoding": "utf-8",
        p + "CustomInstallationDirectory": "/srv/override",  # the raw variable wins
        "Steps.Package.KeepDeployments": "2",
        "Octopus.Action.CustomScripts.PreDeploy.sh": "echo pre",
        "Octopus.Action.CustomScripts.AfterSubstituteInFiles.py": "print('checked')\n",
        "Octopus.Action.EnabledFeatures": "Octopus.Features.SubstituteInFiles,"
        "Octopus.Features.ConfigurationTransforms,Octopus.Features.JsonConfigurationVariables,"
        "Octopus.Features.CustomDirectory,Octopus.Features.ConfigurationVariables,"
        "Octopus.Features.CustomScripts",
    }
    assert loaded.packages["site"].source == PathRequirement(
        "site", (tmp_path / "site").resolve(), "3.1.0"
    )
    assert loaded.packages["web"].kind == "package"


def test_hook_stages_cover_every_stage() -> None:
    assert "BeforePreDeploy" in HOOK_STAGES and "DeployFailed" in HOOK_STAGES
    assert "AfterStructuredConfigurationVariables" in HOOK_STAGES
    assert "BeforeSubstituteInFiles" in HOOK_STAGES
    assert "BeforeBeforeDeploy" not in HOOK_STAGES


def test_errors_name_the_line_and_what_to_do(tmp_path: Path) -> None:
    step = '[[steps]]\nname = "web"\n'
    assert error_of(tmp_path, PACKAGES + step + 'package = "nope"\n') == (
        "steps.toml:9: step 'web' deploys package 'nope', which is not in [packages]; "
        "add it under [packages.nope] (known: site, web)"
    )
    assert "needs exactly one of 'template'" in error_of(
        tmp_path, PACKAGES + step + 'package = "web"\ntemplate = "x"\n'
    )
    assert "needs exactly one of 'template'" in error_of(tmp_path, PACKAGES + step)
    message = error_of(
        tmp_path, PACKAGES + step + 'package = "web"\n[steps.scripts.Deploi]\nbash = "x"\n'
    )
    assert "'Deploi' is not a stage scripts can be attached to; use one of BeforePreDeploy" in message
    message = error_of(tmp_path, PACKAGES + step + 'package = "web"\n[steps.scripts.Deploy]\n')
    assert "scripts.Deploy gives no script" in message
    message = error_of(
        tmp_path, PACKAGES + step + 'package = "web"\n[steps.deploy]\nkeep-deployments = -1\n'
    )
    assert "keep-deployments must be a whole number" in message
    message = error_of(
        tmp_path, PACKAGES + step + 'package = "web"\n[steps.deploy]\ntransform = true\n'
    )
    assert "unknown key 'transform'" in message
    assert "belongs to package steps" in error_of(
        tmp_path,
        '[templates.t]\npath = "t"\n' + step + 'template = "t"\n[steps.deploy]\npurge = true\n',
    )
    message = error_of(
        tmp_path, PACKAGES + step + 'package = "web"\n[steps.scripts.Deploy]\nfile = "x.rb"\n'
    )
    assert "cannot tell the language of x.rb" in message
    message = error_of(
        tmp_path, PACKAGES + step + 'package = "web"\n[steps.scripts.Deploy]\nfile = "no.sh"\n'
    )
    assert "cannot read no.sh" in message
