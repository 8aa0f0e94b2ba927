"""steps: versioned, parameterised deployment step templates, resolved like code packages."""

__version__ = "0.1.0"
