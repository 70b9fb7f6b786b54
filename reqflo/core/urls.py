"""URLs of the core app: home, workspaces, members and invitations."""

from __future__ import annotations

from django.urls import path

from reqflo.core.views import invitations, members, workspaces

app_name = "core"

urlpatterns = [
    path("", workspaces.home, name="home"),
    # /workspaces/
    path("workspaces/", workspaces.workspace_list, name="workspace_list"),
    path("workspaces/new/", workspaces.workspace_create, name="workspace_create"),
    path(
        "workspaces/<uuid:workspace_id>/switch/",
        workspaces.workspace_switch,
        name="workspace_switch",
    ),
    # /members/ (always the current workspace's)
    path("members/", members.member_list, name="member_list"),
    path("members/add/", members.member_add, name="member_add"),
    path("members/<uuid:membership_id>/role/", members.member_role, name="member_role"),
    path("members/<uuid:membership_id>/remove/", members.member_remove, name="member_remove"),
    path(
        "members/invitations/<uuid:invitation_id>/revoke/",
        members.invitation_revoke,
        name="invitation_revoke",
    ),
    # /invitations/<token>/ (the link an invited person opens, signed in or not)
    path("invitations/<str:token>/", invitations.invitation_accept, name="invitation_accept"),
]
