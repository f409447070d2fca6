"""Which insurers' data a staff user may see and change (per-insurer tenancy).

A staff user belongs to one or more insurers (``portal.StaffMembership``, edited in admin and
by ``manage.py staff_access``); a superuser sees every insurer. Every model that holds an
insurer's data says how it reaches its insurer, and every channel (admin pages, actions,
autocomplete, import, export, the staff API, staff tokens) filters through ``scope`` — one
rule, not one per view. Another insurer's object is simply not in the queryset, so it
answers 404 like an object that does not exist.

How a model declares its insurer (no import of any app here, so every app may use this):

- ``insurer_lookup = "product__insurer"``: the ORM path from the model to its ``Insurer``;
- or a classmethod ``insurer_q(cls, insurer_ids) -> Q`` when the answer is not one path
  (a person is visible through any policy they hold or are insured on);
- neither: shared reference data (regions, services, the working calendar), the same for
  every insurer.

The insurer ids and the permission codes of a user are memoised per process (``Memo`` with
its own version token), because the staff API reads them on every call; any change to
memberships, groups or permissions drops the memo everywhere.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

from django.contrib import admin
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import Http404, HttpRequest

from portal.kernel.errors import DomainError
from portal.kernel.memo import Memo, version_bumper

ACCESS_VERSION_KEY = "staff-access-version"

# None: every insurer (a superuser). Otherwise the ids of the user's insurers.
InsurerIds = frozenset[int] | None

M = TypeVar("M", bound=Model)


class StaffUser(Protocol):
    pk: Any
    is_active: bool
    is_superuser: bool
    is_authenticated: bool


_insurer_memo: Memo[frozenset[int]] = Memo("staff-insurers", version_key=ACCESS_VERSION_KEY)
_permission_memo: Memo[frozenset[str]] = Memo("staff-permissions", version_key=ACCESS_VERSION_KEY)


def insurer_ids(user: Any) -> InsurerIds:
    """The insurers ``user`` may see: None for a superuser, else a (possibly empty) set."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    if user.is_superuser:
        return None
    return _insurer_memo.get(
        user.pk,
        lambda: frozenset(user.staff_memberships.values_list("insurer_id", flat=True)),
    )


def permission_codes(user: Any) -> frozenset[str]:
    """``app_label.codename`` of every permission the user holds (own and through groups)."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    return _permission_memo.get(user.pk, lambda: frozenset(user.get_all_permissions()))


def has_permission(user: Any, *perms: str) -> bool:
    """Every one of ``perms``, from the memo (a superuser holds all)."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    held = permission_codes(user)
    return all(perm in held for perm in perms)


class PermissionMissing(DomainError):
    """403 ``permission_denied``: the caller's roles lack a permission the action needs."""

    status = 403

    def __init__(self) -> None:
        super().__init__("permission_denied", "您没有执行此操作的权限，请联系管理员分配角色")


def request_user(request: HttpRequest) -> User:
    """The logged-in user of a request its view has already made log in (admin pages and
    actions, the staff API, ``policyholder_required`` views): ``PermissionDenied`` for an
    anonymous visitor, whom those guards never let through."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def require(request: HttpRequest, *perms: str) -> None:
    """Raise ``PermissionMissing`` unless the caller holds every one of ``perms``."""
    if not has_permission(request.user, *perms):
        raise PermissionMissing


def is_scoped(model: type[Model]) -> bool:
    return hasattr(model, "insurer_q") or hasattr(model, "insurer_lookup")


def insurer_q(model: type[Model], ids: frozenset[int]) -> Q:
    """The filter that keeps ``model``'s rows of the insurers ``ids``."""
    custom = getattr(model, "insurer_q", None)
    if custom is not None:
        return custom(ids)
    return Q(**{f"{model.insurer_lookup}__in": ids})  # type: ignore[attr-defined]


def scope_to[M: Model](queryset: QuerySet[M], ids: InsurerIds) -> QuerySet[M]:
    if ids is None or not is_scoped(queryset.model):
        return queryset
    if not ids:
        return queryset.none()
    return queryset.filter(insurer_q(queryset.model, ids))


def scope[M: Model](queryset: QuerySet[M], user: Any) -> QuerySet[M]:
    """``queryset`` limited to the user's insurers (unchanged for reference data)."""
    return scope_to(queryset, insurer_ids(user))


def get_scoped_or_404[M: Model](queryset: QuerySet[M], user: Any, **lookup: Any) -> M:
    """One object of the user's insurers, else 404 — the same answer as for no object."""
    found = scope(queryset, user).filter(**lookup).first()
    if found is None:
        raise Http404
    return found


def insurer_staff_with(insurer_id: int, permission: tuple[str, str]) -> QuerySet[Any]:
    """Active staff users of the insurer holding ``permission`` (app label, codename)
    through a role or directly, by name: who may be given a request or a complaint."""
    app_label, codename = permission
    granted = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
    return (
        get_user_model()
        .objects.filter(is_active=True, is_staff=True, staff_memberships__insurer_id=insurer_id)
        .filter(Q(groups__permissions__in=granted) | Q(user_permissions__in=granted))
        .distinct()
        .order_by("username")
    )


def may_write(obj: Model, ids: InsurerIds) -> bool:
    """May a user of insurers ``ids`` save ``obj`` as it now is? Its stored row (if any) and
    its new values must both belong to those insurers. Models without a plain
    ``insurer_lookup`` (a vendor shared by insurers) only a superuser may write this way."""
    model = type(obj)
    if ids is None or not is_scoped(model):
        return True  # a superuser; shared reference data (its permissions decide)
    if obj.pk is not None and not scope_to(model._default_manager.filter(pk=obj.pk), ids).exists():
        return False
    path = getattr(model, "insurer_lookup", None)
    if path is None:
        return False
    *hops, last = path.split("__")
    target: Any = obj
    for hop in hops:
        target = getattr(target, hop, None)
        if target is None:
            return False
    return getattr(target, f"{last}_id", None) in ids


class InsurerScopedAdmin(admin.ModelAdmin):
    """A ModelAdmin that shows, edits, exports and offers as choices only the rows of the
    user's insurers. Another insurer's object id answers 404 on every object page."""

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope(super().get_queryset(request), request.user)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404
        return found

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        _limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> Any:
        # A filter on a relation ("product", "coverage_list") would offer every row of the
        # related model, another insurer's products and lists included.
        return [_scoped_filter(self.model, entry) for entry in super().get_list_filter(request)]

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        _limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class InsurerScopedInline(admin.options.InlineModelAdmin):
    """Choices offered in an inline (a policy's members …) are limited the same way."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        _limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A list filter on a relation that offers only the related rows of the user's insurers."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> list:
        visible = scope(field.related_model._default_manager.all(), request.user)
        ordering = self.field_admin_ordering(field, request, model_admin)
        return field.get_choices(
            include_blank=False, ordering=ordering, limit_choices_to=Q(pk__in=visible.values("pk"))
        )


def _scoped_filter(model: type[Model], entry: Any) -> Any:
    """``entry`` of a ``list_filter``, with a plain relation to scoped rows made scoped."""
    if not isinstance(entry, str):
        return entry
    field = get_fields_from_path(model, entry)[-1]
    if field.is_relation and field.related_model is not None and is_scoped(field.related_model):
        return (entry, ScopedRelatedFieldListFilter)
    return entry


def _limit_choices(db_field: Any, request: HttpRequest, kwargs: dict[str, Any]) -> None:
    related = db_field.related_model
    if is_scoped(related):
        base = kwargs.get("queryset", related._default_manager.all())
        kwargs["queryset"] = scope(base, request.user)


def connect_signals() -> None:
    """Drop the access memos whenever memberships, groups or permissions change."""
    bump = version_bumper(ACCESS_VERSION_KEY)  # kept alive by weak=False below
    user_model = get_user_model()
    for through in (
        user_model.groups.through,
        user_model.user_permissions.through,
        Group.permissions.through,
    ):
        m2m_changed.connect(
            bump, sender=through, dispatch_uid=f"access:{through.__name__}", weak=False
        )
    for model in (Group, Permission, user_model, _membership_model()):
        for signal in (post_save, post_delete):
            signal.connect(
                bump, sender=model, dispatch_uid=f"access:{model.__name__}:{id(signal)}", weak=False
            )


def _membership_model() -> type[Model]:
    from django.apps import apps

    return apps.get_model("portal", "StaffMembership")
