"""Octopus's "Configuration variables" for .NET ``*.config`` files.

Three kinds of setting take the value of the variable with the same name (compared without
regard to case), wherever they are in the document, ``<location>`` elements included, and
whatever namespace the file uses:

- ``<appSettings><add key="K" value="..."/>``: the ``value`` attribute;
- ``<connectionStrings><add name="N" connectionString="..."/>``: ``connectionString``;
- ``<applicationSettings>`` … ``<setting name="N"><value>...</value></setting>``: the text of
  ``<value>``.

As in Calamari, a missing ``value``/``connectionString`` attribute or ``<value>`` element is
added (the element in the setting's namespace). Settings without a variable stay as they are,
and the file is rewritten only when its bytes change.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from lxml import etree

from steptemplates import fsutil
from steptemplates.errors import StepsError
from steptemplates.execution.config import xmlfiles

# Where the settings are, the attribute naming each, and the attribute taking the value
# (None: the text of the setting's <value> child).
_SETTINGS = (
    ("//*[local-name()='appSettings']/*[local-name()='add']", "key", "value"),
    ("//*[local-name()='connectionStrings']/*[local-name()='add']", "name", "connectionString"),
    ("//*[local-name()='applicationSettings']//*[local-name()='setting']", "name", None),
)


def replace_config_variables(path: Path, variables: Mapping[str, str]) -> list[str]:
    """Set the settings in ``path`` that have a variable; the names set, in document order."""
    try:
        original = path.read_bytes()
    except OSError as error:
        raise StepsError(f"cannot read {path}: {error.strerror or error}") from None
    document = xmlfiles.parse_xml(original, name=str(path))
    values = {name.casefold(): value for name, value in variables.items()}
    replaced = []
    for element, name, attribute in _settings(document.root):
        value = values.get(name.casefold())
        if value is None:
            continue
        if attribute is None:
            _set_value_element(element, value)
        else:
            element.set(attribute, value)
        replaced.append(name)
    data = xmlfiles.to_bytes(document)
    if data != original:
        fsutil.write_bytes_atomic(path, data)
    return replaced


def _settings(root: etree._Element) -> list[tuple[etree._Element, str, str | None]]:
    """Each setting element with its name and where its value goes, in document order."""
    found = []
    for xpath, key, attribute in _SETTINGS:
        selected = root.xpath(xpath)
        for element in selected if isinstance(selected, list) else []:
            if isinstance(element, etree._Element) and element.get(key) is not None:
                found.append((element, str(element.get(key)), attribute))
    order = {element: index for index, element in enumerate(root.iter())}
    return sorted(found, key=lambda setting: order[setting[0]])


def _set_value_element(setting: etree._Element, value: str) -> None:
    existing = [
        child
        for child in setting
        if isinstance(child.tag, str) and etree.QName(child).localname == "value"
    ]
    if existing:
        target = existing[0]
    else:
        namespace = etree.QName(setting).namespace
        target = etree.Element(f"{{{namespace}}}value" if namespace else "value")
        xmlfiles.append_child(setting, target)
    for child in list(target):
        target.remove(child)
    target.text = value
