"""Scheduled cloud runs and their alerts: journeys as monitors (docs/schedules.md)."""
