"""Console users (operators): accounts, passwords, roles, the stores they may see, and the audit log."""
