"""micromall's development-only tools, in their own distribution (`micromall-dev`, see dev/pyproject.toml) that a
production install does not contain: the in-process WeChat sandbox mount, development WeChat Pay keys and the
`demo`, `sandbox` and development `serve` commands."""
