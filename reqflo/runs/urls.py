"""Run pages, mounted at ``runs/`` under the ``runs`` namespace (reads and downloads).

Dispatch, re-run and cancel are in ``reqflo.runners`` (``runners:`` URLs): they call the
dispatch services, which sit above runs.
"""

from __future__ import annotations

from django.urls import path

from reqflo.runs.views import batches, compare, history, runs

app_name = "runs"

urlpatterns = [
    path("", history.run_list, name="list"),
    path("compare/", compare.run_compare, name="compare"),
    path("journeys/<uuid:journey_id>/", history.journey_runs, name="journey_runs"),
    path("<uuid:run_id>/", runs.run_detail, name="detail"),
    path("<uuid:run_id>/live/", runs.run_live, name="live"),
    path("<uuid:run_id>/report.json", runs.run_report_json, name="report_json"),
    path("<uuid:run_id>/junit.xml", runs.run_report_junit, name="report_junit"),
    path("<uuid:run_id>/evidence.json", runs.run_evidence, name="evidence"),
    path("<uuid:run_id>/steps/<int:index>/body/", runs.run_body, name="body"),
    path("batches/<uuid:batch_id>/", batches.batch_detail, name="batch"),
    path("batches/<uuid:batch_id>/live/", batches.batch_live, name="batch_live"),
    path("batches/<uuid:batch_id>/junit.xml", batches.batch_junit, name="batch_junit"),
]
