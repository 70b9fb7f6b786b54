"""factory_boy factories for the core models; later apps add theirs here or beside their tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.text import slugify
from factory.django import DjangoModelFactory

from reqflo.core.models import Invitation, Membership, Role, Workspace

PASSWORD = "correct-horse-battery-staple"


class UserFactory(DjangoModelFactory[User]):
    """A user who logs in with their email address (the username) and ``PASSWORD``."""

    class Meta:
        model = User
        django_get_or_create = ("username",)

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    username = factory.SelfAttribute("email")
    password = factory.django.Password(PASSWORD)


class WorkspaceFactory(DjangoModelFactory[Workspace]):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    slug = factory.LazyAttribute(lambda w: slugify(w.name))


class MembershipFactory(DjangoModelFactory[Membership]):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    workspace = factory.SubFactory(WorkspaceFactory)
    role = Role.EDITOR


class InvitationFactory(DjangoModelFactory[Invitation]):
    class Meta:
        model = Invitation

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.EDITOR
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
