"""URLs of journeys (under /journeys/) and environments (under /admin/environments/)."""

from __future__ import annotations

from django.urls import path

from reqflo.journeys.views import cases, editor, environments, imports, journeys, versions

app_name = "journeys"

urlpatterns = [
    # /journeys/
    path("journeys/", journeys.journey_list, name="journey_list"),
    path("journeys/new/", journeys.journey_create, name="journey_create"),
    path("journeys/import/", imports.journey_import, name="journey_import"),
    path("journeys/<uuid:journey_id>/", editor.journey_editor, name="journey_editor"),
    path("journeys/<uuid:journey_id>/check/", editor.journey_check, name="journey_check"),
    path("journeys/<uuid:journey_id>/suggest/", editor.journey_suggest, name="journey_suggest"),
    path("journeys/<uuid:journey_id>/archive/", journeys.journey_archive, name="journey_archive"),
    # /journeys/<id>/versions/
    path("journeys/<uuid:journey_id>/versions/", versions.journey_history, name="journey_history"),
    path("journeys/<uuid:journey_id>/diff/", versions.version_diff, name="version_diff"),
    path(
        "journeys/<uuid:journey_id>/versions/<int:number>/",
        versions.version_detail,
        name="version_detail",
    ),
    path(
        "journeys/<uuid:journey_id>/versions/<int:number>/export/",
        versions.version_export,
        name="version_export",
    ),
    path(
        "journeys/<uuid:journey_id>/versions/<int:number>/restore/",
        versions.version_restore,
        name="version_restore",
    ),
    # /journeys/<id>/cases/ and /journeys/cases/<case id>/…
    path("journeys/<uuid:journey_id>/cases/", cases.case_list_view, name="case_list"),
    path("journeys/cases/<uuid:case_id>/", cases.case_update, name="case_update"),
    path("journeys/cases/<uuid:case_id>/duplicate/", cases.case_duplicate, name="case_duplicate"),
    path("journeys/cases/<uuid:case_id>/archive/", cases.case_archive, name="case_archive"),
    path("journeys/cases/<uuid:case_id>/delete/", cases.case_delete, name="case_delete"),
    # /admin/environments/
    path("admin/environments/", environments.environment_list, name="environment_list"),
    path(
        "admin/environments/<uuid:environment_id>/",
        environments.environment_edit,
        name="environment_edit",
    ),
    path(
        "admin/environments/<uuid:environment_id>/archive/",
        environments.environment_archive,
        name="environment_archive",
    ),
    path(
        "admin/environments/<uuid:environment_id>/delete/",
        environments.environment_delete,
        name="environment_delete",
    ),
]
