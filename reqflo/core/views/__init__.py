"""Views of the core app, one module per area; URLs live in ``reqflo/core/urls.py``."""
