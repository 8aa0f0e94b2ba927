"""Configuration features applied to a deployed package: substitution, XML transforms and
variables, structured variables, the custom installation folder."""
