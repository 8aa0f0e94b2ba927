"""NuGet packages of step templates: ``pack`` a template into a .nupkg, ``publish`` it to a
static NuGet v3 feed (a directory any web server can host; see docs/publishing.md)."""
