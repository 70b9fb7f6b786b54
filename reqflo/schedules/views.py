"""Schedules and alert channels pages (docs/schedules.md).

Every member reads; editors and owners create, change, pause, resume and delete schedules;
owners manage alert channels. Each action works as a plain form post and as htmx
(docs/htmx.md).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from reqflo.core.access import get_workspace_object_for_user, require_role
from reqflo.core.http import (
    FORM_ERROR_STATUS,
    AuthedHttpRequest,
    redirect_to,
    render_page,
    render_poll,
)
from reqflo.core.models import Membership, Role
from reqflo.schedules import selectors, services
from reqflo.schedules.alerts import signing_secret
from reqflo.schedules.forms import ChannelForm, ScheduleForm, refresh_initial
from reqflo.schedules.models import AlertChannel, Schedule

LIST = "schedules/schedule_list.html"
DETAIL = "schedules/schedule_detail.html"
EDIT = "schedules/schedule_form.html"
CHANNELS = "schedules/channel_list.html"


def _errors_into(form: Form, error: ValidationError) -> None:
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_GET
def schedule_list(request: AuthedHttpRequest) -> HttpResponse:
    """Every schedule of the workspace with its health; polled while the page is open."""
    membership = require_role(request, Role.VIEWER, action="see schedules")
    context = {
        "rows": selectors.schedules_with_health(workspace=membership.workspace),
        "can_edit": membership.has_role(Role.EDITOR),
    }
    return render_poll(request, LIST, context, partial="schedule-table", finished=False)


def _form_page(
    request: AuthedHttpRequest,
    membership: Membership,
    form: ScheduleForm,
    schedule: Schedule | None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "schedule": schedule, "workspace": membership.workspace}
    return render_page(request, EDIT, context, partial="schedule-form", status=status)


def _form_url(schedule: Schedule | None) -> str:
    if schedule is None:
        return reverse("schedules:create")
    return reverse("schedules:edit", args=[schedule.pk])


def _save(
    request: AuthedHttpRequest, membership: Membership, schedule: Schedule | None
) -> HttpResponse:
    form = ScheduleForm(
        request.POST,
        request.FILES,
        workspace=membership.workspace,
        refresh_url=_form_url(schedule),
        schedule=schedule,
    )
    if form.is_valid():
        try:
            saved = services.schedule_save(
                workspace=membership.workspace,
                by=request.user,
                fields=form.fields_value(),
                schedule=schedule,
            )
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, f"Schedule {saved.name} saved.")
            return redirect_to(request, reverse("schedules:detail", args=[saved.pk]))
    return _form_page(request, membership, form, schedule, status=FORM_ERROR_STATUS)


@login_required
@require_http_methods(["GET", "POST"])
def schedule_create(request: AuthedHttpRequest) -> HttpResponse:
    membership = require_role(request, Role.EDITOR, action="schedule journeys")
    if request.method == "POST":
        return _save(request, membership, None)
    form = ScheduleForm(
        workspace=membership.workspace,
        initial=refresh_initial(request.GET),
        refresh_url=_form_url(None),
    )
    return _form_page(request, membership, form, None)


def _schedule(request: AuthedHttpRequest, schedule_id: UUID, role: Role, action: str) -> Schedule:
    queryset = Schedule.objects.select_related("workspace", "journey", "environment", "case")
    return get_workspace_object_for_user(
        request, queryset, schedule_id, min_role=role, action=action
    )


@login_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: AuthedHttpRequest, schedule_id: UUID) -> HttpResponse:
    schedule = _schedule(request, schedule_id, Role.EDITOR, "change schedules")
    membership = require_role(request, Role.EDITOR, action="change schedules")
    if request.method == "POST":
        return _save(request, membership, schedule)
    form = ScheduleForm.for_schedule(
        schedule, refresh_url=_form_url(schedule), changes=refresh_initial(request.GET)
    )
    return _form_page(request, membership, form, schedule)


def _detail_context(schedule: Schedule, membership: Membership) -> dict[str, Any]:
    return {
        "schedule": schedule,
        "health": selectors.schedule_health(schedule),
        "ticks": selectors.schedule_ticks(schedule=schedule),
        "deliveries": selectors.schedule_deliveries(schedule=schedule),
        "channels": list(schedule.channels.all()),
        "can_edit": membership.has_role(Role.EDITOR),
    }


@login_required
@require_GET
def schedule_detail(request: AuthedHttpRequest, schedule_id: UUID) -> HttpResponse:
    """One schedule: its health, its ticks with their runs, and the alert delivery log."""
    schedule = _schedule(request, schedule_id, Role.VIEWER, "see schedules")
    membership = require_role(request, Role.VIEWER, action="see schedules")
    context = _detail_context(schedule, membership)
    return render_poll(request, DETAIL, context, partial="schedule-live", finished=False)


@login_required
@require_POST
def schedule_pause(request: AuthedHttpRequest, schedule_id: UUID) -> HttpResponse:
    schedule = _schedule(request, schedule_id, Role.EDITOR, "pause schedules")
    if request.POST.get("resume"):
        try:
            services.schedule_resume(schedule=schedule)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(request, f"{schedule.name} resumed.")
    else:
        services.schedule_pause(schedule=schedule)
        messages.success(request, f"{schedule.name} paused: no run starts until it is resumed.")
    return redirect_to(request, reverse("schedules:detail", args=[schedule.pk]))


@login_required
@require_POST
def schedule_delete(request: AuthedHttpRequest, schedule_id: UUID) -> HttpResponse:
    schedule = _schedule(request, schedule_id, Role.EDITOR, "delete schedules")
    services.schedule_delete(schedule=schedule)
    messages.success(request, f"Schedule {schedule.name} deleted; its runs stay in the history.")
    return redirect_to(request, reverse("schedules:list"))


def _channels_context(membership: Membership, form: ChannelForm | None = None) -> dict[str, Any]:
    channels = list(selectors.workspace_channels(workspace=membership.workspace))
    is_owner = membership.is_owner
    return {
        "channels": [
            (channel, signing_secret(channel) if is_owner and channel.kind == "webhook" else "")
            for channel in channels
        ],
        "form": form or (ChannelForm() if is_owner else None),
        "can_edit": is_owner,
    }


@login_required
@require_http_methods(["GET", "POST"])
def channel_list(request: AuthedHttpRequest) -> HttpResponse:
    """Alert channels: everyone sees them (URLs shortened); owners add, rotate and delete."""
    if request.method != "POST":
        membership = require_role(request, Role.VIEWER, action="see alert channels")
        return render_page(request, CHANNELS, _channels_context(membership), partial="channels")
    membership = require_role(request, Role.OWNER, action="add alert channels")
    form = ChannelForm(request.POST)
    if form.is_valid():
        try:
            channel = services.channel_save(
                workspace=membership.workspace, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, f"Alert channel {channel.name} added.")
            return redirect_to(request, reverse("schedules:channels"))
    context = _channels_context(membership, form)
    return render_page(request, CHANNELS, context, partial="channels", status=FORM_ERROR_STATUS)


def _channel(request: AuthedHttpRequest, channel_id: UUID, action: str) -> AlertChannel:
    return get_workspace_object_for_user(
        request, AlertChannel.objects.all(), channel_id, min_role=Role.OWNER, action=action
    )


@login_required
@require_POST
def channel_rotate(request: AuthedHttpRequest, channel_id: UUID) -> HttpResponse:
    channel = _channel(request, channel_id, "rotate signing secrets")
    services.channel_rotate_secret(channel=channel)
    messages.success(
        request, f"{channel.name} has a new signing secret; update the receiver to verify it."
    )
    return redirect_to(request, reverse("schedules:channels"))


@login_required
@require_POST
def channel_delete(request: AuthedHttpRequest, channel_id: UUID) -> HttpResponse:
    channel = _channel(request, channel_id, "delete alert channels")
    services.channel_delete(channel=channel)
    messages.success(request, f"Alert channel {channel.name} deleted.")
    return redirect_to(request, reverse("schedules:channels"))
