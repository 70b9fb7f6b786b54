"""Every write to journeys, versions, cases, environments and build artifacts.

Versions are append-only: saving creates v(n+1) under a row lock on the journey, and only when
the content changed. A save names the version it was based on, so a save racing another one is
refused with ``VersionConflict`` instead of silently replacing the other person's work.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from reqflo.core.models import Workspace
from reqflo.engine import Artifact, DefinitionError, Issue, compile_definition
from reqflo.engine.imports import ImportResult
from reqflo.journeys import hooks
from reqflo.journeys.documents import CheckedDocument, check_document, check_text
from reqflo.journeys.editor import EditorState, document_from_state, new_step
from reqflo.journeys.imports import version_message
from reqflo.journeys.models import (
    SECRET_NAME_MAX_LENGTH,
    BuildArtifact,
    Case,
    Environment,
    Journey,
    JourneyVersion,
    VersionImportReport,
    VersionSecret,
)
from reqflo.journeys.selectors import free_journey_slug
from reqflo.journeys.signals import archived as archived_signal
from reqflo.journeys.signals import environment_renamed

Removal = Literal["deleted", "archived"]

# The demo shop's checkout journey: "New journey → from the sample" and the demo seed create it.
SAMPLE_PATH = Path(settings.BASE_DIR) / "examples" / "checkout.yaml"


class VersionConflict(Exception):
    """Someone saved a newer version since the editor was opened; nothing was written."""

    def __init__(self, *, head: JourneyVersion, base_number: int) -> None:
        self.head = head
        self.base_number = base_number
        super().__init__(
            f"v{head.number} was saved since you opened v{base_number}; nothing was overwritten"
        )


# --- Journeys and versions ---------------------------------------------------------------------


def _slug_taken(slug: str) -> DefinitionError:
    return DefinitionError(
        [
            Issue(
                "error",
                "slug_taken",
                "slug",
                f"a journey with slug '{slug}' already exists in this workspace; "
                "choose another name",
            )
        ]
    )


def _append_version(
    *,
    journey: Journey,
    checked: CheckedDocument,
    author: User | None,
    message: str,
    restored_from: int | None = None,
    step_aliases: Mapping[str, list[str]] | None = None,
) -> JourneyVersion:
    """Write v(n+1) and move the journey's head; the caller holds the journey's row lock."""
    version = JourneyVersion.objects.create(
        journey=journey,
        number=journey.head_number + 1,
        definition=checked.to_json(),
        digest=checked.digest,
        author=author,
        message=message.strip()[:300],
        restored_from=restored_from,
        step_aliases=dict(step_aliases or {}),
    )
    definition = checked.definition
    VersionSecret.objects.bulk_create(
        VersionSecret(version=version, name=name)
        for name in sorted(definition.secret_names())
        if len(name) <= SECRET_NAME_MAX_LENGTH
    )
    journey.head = version
    journey.head_number = version.number
    journey.name = definition.name
    journey.description = definition.description
    journey.tags = list(definition.tags)
    journey.save(update_fields=["head", "head_number", "name", "description", "tags", "updated_at"])
    return version


def journey_create(
    *,
    workspace: Workspace,
    author: User | None,
    checked: CheckedDocument,
    message: str = "",
) -> Journey:
    """Create a journey and its v1 from a validated document; the slug must be free."""
    slug = checked.definition.slug
    if Journey.objects.filter(workspace=workspace, slug=slug).exists():
        raise _slug_taken(slug)
    try:
        with transaction.atomic():
            journey = Journey.objects.create(
                workspace=workspace, name=checked.definition.name, slug=slug
            )
            _append_version(
                journey=journey, checked=checked, author=author, message=message or "Created"
            )
    except IntegrityError:
        # Another request took the slug between the check and the insert.
        raise _slug_taken(slug) from None
    return journey


def journey_create_blank(*, workspace: Workspace, author: User | None, name: str) -> Journey:
    """Create a journey called ``name`` whose v1 is one GET step against the base URL."""
    state = EditorState(name=name.strip())
    state.steps.append(new_step(state))
    document, _ = document_from_state(state)
    return journey_create(
        workspace=workspace, author=author, checked=check_document(document), message="Created"
    )


def journey_create_under_free_slug(
    *, workspace: Workspace, author: User | None, checked: CheckedDocument, message: str = ""
) -> Journey:
    """Create a journey from a validated document as ``journey_create`` does, under the next
    free slug (``orders-2``) when the document's is taken, as Journeys → Import does: an
    imported file is never refused for a name the workspace already uses."""
    slug = free_journey_slug(workspace=workspace, slug=checked.definition.slug)
    if slug != checked.definition.slug:
        checked = check_document({"journey": {**checked.document["journey"], "slug": slug}})
    return journey_create(workspace=workspace, author=author, checked=checked, message=message)


def journey_create_from_sample(*, workspace: Workspace, author: User | None) -> Journey:
    """Create the demo shop's checkout sample; "Checkout flow (2)" (``checkout-2``) if taken.

    The demo workspace already holds the sample, and trying it twice is what people do.
    """
    checked = check_text(SAMPLE_PATH.read_text(encoding="utf-8"), source=SAMPLE_PATH.name)
    slug = free_journey_slug(workspace=workspace, slug=checked.definition.slug)
    if slug != checked.definition.slug:
        document = copy.deepcopy(checked.document)
        document["journey"]["name"] = f"{checked.definition.name} ({slug.rsplit('-', 1)[1]})"
        document["journey"]["slug"] = slug
        checked = check_document(document)
    return journey_create(workspace=workspace, author=author, checked=checked, message="Created")


@dataclass
class ImportOutcome:
    """What ``journeys_import`` created; `renamed` holds (wanted slug, given slug) pairs."""

    journeys: list[Journey] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)
    environments: list[Environment] = field(default_factory=list)
    environments_left: list[str] = field(default_factory=list)


@transaction.atomic
def journeys_import(
    *,
    workspace: Workspace,
    author: User | None,
    result: ImportResult,
    create_environments: bool,
) -> ImportOutcome:
    """Create every imported journey in one transaction: v1 with the report's summary as its
    message and the whole report kept with it (``VersionImportReport``).

    A slug the workspace already uses gets the next free one (``orders-2``). Environments are
    created only when asked (owners) and only under names not taken yet; the others are listed
    in ``environments_left``. Secret values never reach this function: the import carries names.
    """
    outcome = ImportOutcome()
    message = version_message(result)
    report = result.to_text()
    for imported in result.journeys:
        document = imported.document
        slug = free_journey_slug(workspace=workspace, slug=imported.slug)
        if slug != imported.slug:
            document = {"journey": {**document["journey"], "slug": slug}}
            outcome.renamed.append((imported.slug, slug))
        journey = journey_create(
            workspace=workspace, author=author, checked=check_document(document), message=message
        )
        VersionImportReport.objects.create(version=journey.versions.get(number=1), text=report)
        outcome.journeys.append(journey)
    taken = set(Environment.objects.filter(workspace=workspace).values_list("name", flat=True))
    for name, values in result.environments.items():
        base_url = values.get("base_url")
        if not create_environments or name in taken or not isinstance(base_url, str):
            outcome.environments_left.append(name)
            continue
        others = {k: str(v) for k, v in values.items() if k != "base_url" and v is not None}
        outcome.environments.append(
            environment_create(workspace=workspace, name=name, base_url=base_url, values=others)
        )
    return outcome


@transaction.atomic
def journey_version_create(
    *,
    journey: Journey,
    author: User | None,
    checked: CheckedDocument,
    base_number: int,
    message: str = "",
    restored_from: int | None = None,
    step_aliases: Mapping[str, list[str]] | None = None,
) -> JourneyVersion | None:
    """Save the document as the next version; return None when it equals the latest version.

    ``step_aliases`` ({step id: its earlier ids, newest first}, what the editor knows of
    renamed steps) is kept for the steps the document has; None (a YAML save, a restore) keeps
    the latest version's for the step ids still there. Raises ``VersionConflict`` when the
    latest version is no longer ``base_number``, and ``DefinitionError`` when the document sets
    a slug other than the journey's.
    """
    locked = Journey.objects.select_for_update().get(pk=journey.pk)
    head = JourneyVersion.objects.get(journey=locked, number=locked.head_number)
    if locked.head_number != base_number:
        raise VersionConflict(head=head, base_number=base_number)
    explicit_slug = checked.document.get("journey", {}).get("slug")
    if explicit_slug and explicit_slug != locked.slug:
        raise DefinitionError(
            [
                Issue(
                    "error",
                    "slug_fixed",
                    "slug",
                    f"the slug of an existing journey stays '{locked.slug}' "
                    "(the CLI and CI address it by slug); remove the key or set it back",
                )
            ]
        )
    if head.digest == checked.digest:
        return None
    ids = {step.id for step in checked.definition.steps}
    aliases = head.step_aliases if step_aliases is None else step_aliases
    version = _append_version(
        journey=locked,
        checked=checked,
        author=author,
        message=message,
        restored_from=restored_from,
        step_aliases={key: list(value) for key, value in aliases.items() if key in ids},
    )
    journey.refresh_from_db()
    return version


def journey_version_restore(
    *,
    journey: Journey,
    version: JourneyVersion,
    author: User | None,
    base_number: int,
) -> JourneyVersion | None:
    """Save an old version's content as a new version; None when it equals the latest."""
    checked = check_document(version.document)
    return journey_version_create(
        journey=journey,
        author=author,
        checked=checked,
        base_number=base_number,
        message=f"Restored v{version.number}",
        restored_from=version.number,
    )


def _set_archived(obj: Journey | Environment | Case, archived: bool) -> None:
    """Save ``obj.archived``; archiving sends ``signals.archived`` in the same transaction."""
    with transaction.atomic():
        obj.archived = archived
        obj.save(update_fields=["archived", "updated_at"])
        if archived:
            archived_signal.send(sender=type(obj), instance=obj)


def journey_set_archived(*, journey: Journey, archived: bool) -> Journey:
    """Archive (hide from the list by default) or restore a journey; versions stay intact.

    Archiving stops what runs it by itself: its schedules are paused, saying why.
    """
    _set_archived(journey, archived)
    return journey


def build_artifact_for_version(*, version: JourneyVersion) -> BuildArtifact:
    """Return the version's compiled artifact, compiling it on first use only.

    Raises ``DefinitionError`` when the version has context-free Run check errors.
    """
    existing = BuildArtifact.objects.filter(version=version).first()
    if existing is not None:
        return existing
    artifact = compile_definition(check_document(version.document).definition)
    workspace_id = Journey.objects.values_list("workspace_id", flat=True).get(pk=version.journey_id)
    try:
        with transaction.atomic():
            return BuildArtifact.objects.create(
                workspace_id=workspace_id,
                version=version,
                artifact_id=artifact.id,
                plan=artifact.to_json(),
                compiler_version=str(artifact.plan.get("compiler_version", "")),
            )
    except IntegrityError:
        # A concurrent compile of the same version won; its row has the same content.
        return BuildArtifact.objects.get(version=version)


def draft_artifact_create(*, workspace: Workspace, artifact: Artifact) -> BuildArtifact:
    """Store the compiled plan of unsaved editor content as a draft artifact (no version).

    Send runs drafts: a draft is write-once like any artifact; the run that sends it names the
    version the editor started from, and the draft holds exactly what was on screen.
    """
    return BuildArtifact.objects.create(
        workspace=workspace,
        version=None,
        artifact_id=artifact.id,
        plan=artifact.to_json(),
        compiler_version=str(artifact.plan.get("compiler_version", "")),
    )


# --- Cases ------------------------------------------------------------------------------------


def _case_name_taken(name: str) -> ValidationError:
    return ValidationError(
        {"name": f"This journey already has a case named '{name}'; choose another name."}
    )


def _clean_name(name: str, what: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise ValidationError({"name": f"Give the {what} a name."})
    return cleaned


def journey_secret_inputs(journey: Journey) -> frozenset[str]:
    """Return the names of the inputs the journey's latest version declares secret."""
    head = journey.head
    inputs = head.document.get("journey", {}).get("inputs", []) if head is not None else []
    return frozenset(str(i.get("name")) for i in inputs if isinstance(i, dict) and i.get("secret"))


def _refuse_secret_values(journey: Journey, values: dict[str, Any]) -> None:
    """A case is plain data every member reads: it may not keep a secret input's value."""
    secret = journey_secret_inputs(journey)
    kept = sorted(
        name for name, value in values.items() if name in secret and value not in ("", None)
    )
    if kept:
        raise ValidationError(
            {
                "values": f"{', '.join(kept)}: a secret input's value cannot be kept in a case "
                "(cases are stored and shown in clear to every member). Keep it in Admin → "
                "Secrets and use {{ secrets.NAME }}, or give it when the run starts."
            }
        )


def _save_case(case: Case, **fields: Any) -> Case:
    if "values" in fields:
        _refuse_secret_values(case.journey, fields["values"])
    for key, value in fields.items():
        setattr(case, key, value)
    try:
        with transaction.atomic():
            case.save()
    except IntegrityError:
        raise _case_name_taken(case.name) from None
    return case


def case_create(*, journey: Journey, name: str, values: dict[str, Any]) -> Case:
    """Create a case; names are unique per journey."""
    return _save_case(Case(journey=journey), name=_clean_name(name, "case"), values=values)


def case_update(*, case: Case, name: str, values: dict[str, Any]) -> Case:
    """Rename a case and replace its input values."""
    return _save_case(case, name=_clean_name(name, "case"), values=values)


def case_duplicate(*, case: Case) -> Case:
    """Copy a case under the first free name "<name> (copy)", "<name> (copy 2)"…"""
    taken = set(Case.objects.filter(journey_id=case.journey_id).values_list("name", flat=True))
    name = f"{case.name} (copy)"
    counter = 2
    while name in taken:
        name = f"{case.name} (copy {counter})"
        counter += 1
    return case_create(journey=case.journey, name=name, values=dict(case.values))


def case_set_archived(*, case: Case, archived: bool) -> Case:
    """Archive a case (hidden from run forms; schedules using it are paused) or restore it."""
    _set_archived(case, archived)
    return case


MAX_DEPENDENTS_NAMED = 3


def _delete_or_archive(obj: Case | Environment) -> Removal:
    """Delete the row, or archive it when something that must keep its meaning refers to it.

    Something that still uses it by itself (a schedule, ``hooks.dependents``) refuses the
    delete with ``ValidationError`` naming it: nothing is deleted or archived. Otherwise runs
    refer to cases and environments with ``on_delete=PROTECT``; the delete raising is how this
    module learns a run used it, without importing the runs app.
    """
    users = hooks.dependents(obj)
    if users:
        named = ", ".join(users[:MAX_DEPENDENTS_NAMED])
        if len(users) > MAX_DEPENDENTS_NAMED:
            named += f" and {len(users) - MAX_DEPENDENTS_NAMED} more"
        kind = "case" if isinstance(obj, Case) else "environment"
        raise ValidationError(
            f"{obj.name} is used by {named}: nothing was deleted. Give "
            f"{'it' if len(users) == 1 else 'them'} another {kind} or delete "
            f"{'it' if len(users) == 1 else 'them'} first."
        )
    try:
        with transaction.atomic():
            obj.delete()
    except (ProtectedError, RestrictedError):
        _set_archived(obj, True)
        return "archived"
    return "deleted"


def case_delete(*, case: Case) -> Removal:
    """Delete a case, or archive it when a run used it; refused (``ValidationError``, naming
    them) while a schedule uses it."""
    return _delete_or_archive(case)


# --- Environments -----------------------------------------------------------------------------


def _save_environment(environment: Environment, **fields: Any) -> Environment:
    for key, value in fields.items():
        setattr(environment, key, value)
    environment.full_clean(exclude=["workspace"], validate_unique=False)
    try:
        with transaction.atomic():
            environment.save()
    except IntegrityError:
        raise ValidationError(
            {"name": f"This workspace already has an environment named '{environment.name}'."}
        ) from None
    return environment


def environment_create(
    *, workspace: Workspace, name: str, base_url: str, values: dict[str, str]
) -> Environment:
    """Create an environment; ``base_url`` must be an http(s) URL and names are unique."""
    return _save_environment(
        Environment(workspace=workspace),
        name=_clean_name(name, "environment"),
        base_url=base_url.strip(),
        values=values,
    )


def environment_update(
    *, environment: Environment, name: str, base_url: str, values: dict[str, str]
) -> Environment:
    """Rename an environment or change its base URL and values.

    Whatever is keyed by the environment's name (secret values) moves with it in the same
    transaction: ``environment_renamed`` is sent inside it.
    """
    old_name = environment.name
    with transaction.atomic():
        _save_environment(
            environment,
            name=_clean_name(name, "environment"),
            base_url=base_url.strip(),
            values=values,
        )
        if old_name != environment.name:
            environment_renamed.send(
                sender=Environment,
                workspace=environment.workspace,
                old_name=old_name,
                new_name=environment.name,
            )
    return environment


def environment_set_archived(*, environment: Environment, archived: bool) -> Environment:
    """Archive an environment (kept for run history, not offered for new runs; schedules using
    it are paused) or restore it."""
    _set_archived(environment, archived)
    return environment


def environment_delete(*, environment: Environment) -> Removal:
    """Delete an environment, or archive it when runs used it so their history keeps meaning.

    Raises ``ValidationError`` naming the schedules that use it (nothing is deleted).
    """
    return _delete_or_archive(environment)
