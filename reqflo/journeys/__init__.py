"""Journeys, their immutable versions, cases, environments and build artifacts."""
