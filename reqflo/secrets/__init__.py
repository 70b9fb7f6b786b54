"""The encrypted secret store: values, per-environment overrides, resolution for runs, audit.

Always import this package as ``reqflo.secrets``; a bare ``import secrets`` is the standard library.
"""
