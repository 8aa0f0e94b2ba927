"""Running step scripts: bootstraps per syntax, the process, and what its output means."""
