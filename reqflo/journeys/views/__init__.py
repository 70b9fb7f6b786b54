"""Journeys pages, one module per area: list and create, editor, versions, cases, environments."""
