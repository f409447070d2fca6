"""The change history of staff edits: who changed which record, when, from what to what
(django-auditlog), browsable in admin (``portal.site.admin_audit``).

What is recorded is ``AUDITED``: policies, people, the catalogue (benefit terms included),
coverage lists, the shared reference data, vendors' and staff tokens, webhooks, requests,
staff memberships and users. Not recorded: the tables that are append-only histories
themselves or arrive in bulk (annex rows and list members, the quota ledger, request events).
An annex import bulk-creates tens of thousands of rows; ``bulk_create`` sends no signals, and
leaving those models unregistered keeps the row-by-row paths silent too.

Personal data (PIPL): ID numbers and their digests are never recorded (the masked form,
``id_masked``, is); phones are recorded masked as everywhere else (138****8000, the project's
``mask_phone``, where auditlog's own mask would keep the last six digits); token digests and
webhook secrets never (a secret's change shows, as 已隐藏 → 已隐藏, without its value).

Actor: ``request.user`` read when an entry is written (``AuditActorMiddleware``), so a staff
API call whose Bearer token is checked inside the view is recorded under the token's user.
Celery tasks and management commands record no actor (the system).

Tenancy: an entry about an object of a scoped model (``portal.kernel.tenancy``) also keeps the
insurers the object belonged to when the entry was written, in ``additional_data``; that is
how a deleted policy's history stays visible to its insurer's staff (``visible_entries``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial, reduce
from operator import or_
from typing import Any

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Model, Q, QuerySet
from django.db.models.signals import pre_delete
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from portal.kernel.identity import mask_phone
from portal.kernel.tenancy import has_permission, insurer_ids, insurer_q, is_scoped, scope_to

# Bookkeeping columns: the entry's own time says when; digests of loaded files say nothing.
BOOKKEEPING = ("created_at", "updated_at", "loaded_digest")


@dataclass(frozen=True)
class Audited:
    label: str  # "app_label.ModelName"
    # Only these fields (tokens), or every field but these; never both.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = BOOKKEEPING
    mask: tuple[str, ...] = ()
    mask_callable: str | None = None  # dotted path, for every field in ``mask``
    m2m: tuple[str, ...] = ()
    # Staff access itself (users, their insurers, their tokens): superusers only.
    superuser_only: bool = False


AUDITED = (
    Audited("benefits.Insurer"),
    Audited("benefits.Vendor"),
    Audited("benefits.Product"),
    Audited("benefits.Service"),
    Audited("benefits.Benefit", m2m=("coverage_lists", "backup_vendors")),
    Audited(
        "benefits.Person",
        exclude=(*BOOKKEEPING, "id_number", "id_digest"),
        mask=("phone",),
        mask_callable="portal.site.audit.masked_phone",
    ),
    Audited("benefits.PhoneChange"),  # masked numbers only
    Audited("benefits.Policy"),
    Audited("benefits.PolicyMember"),
    Audited("benefits.CalendarDay"),
    Audited("benefits.CalendarYear"),
    Audited("coverage.CoverageList", exclude=(*BOOKKEEPING, "content_digest")),
    Audited("coverage.RegionAlias"),
    Audited("bookings.ServiceRequest", exclude=(*BOOKKEEPING, "submission_key")),
    Audited("bookings.VendorToken", include=("name", "hint", "revoked_at"), exclude=()),
    Audited(
        "bookings.VendorWebhook", mask=("secret",), mask_callable="portal.site.audit.concealed"
    ),
    # Vendor money: contract prices and net premiums as edited; a statement's state changes
    # (a draft's re-pricing, which only moves its totals, is not a change worth a row).
    Audited("bookings.ContractPrice"),
    Audited("bookings.ProductPremium"),
    Audited(
        "bookings.VendorStatement",
        include=("state", "confirmed_at", "confirmed_by", "settled_at"),
        exclude=(),
    ),
    Audited(
        "portal.StaffToken",
        include=("name", "hint", "revoked_at"),
        exclude=(),
        superuser_only=True,
    ),
    Audited("portal.StaffMembership", superuser_only=True),
    Audited(
        "auth.User",
        exclude=("password", "last_login"),
        m2m=("groups", "user_permissions"),
        superuser_only=True,
    ),
)


def masked_phone(value: str) -> str:
    # auditlog passes "None" for the side of a creation or deletion that has no value.
    return "" if value in ("", "None") else mask_phone(value)


def concealed(value: str) -> str:
    return "（已隐藏）"


def register_audited_models() -> None:
    """Register ``AUDITED`` with auditlog (idempotent); called from PortalConfig.ready()."""
    for spec in AUDITED:
        model = apps.get_model(spec.label)
        auditlog.register(
            model,
            include_fields=list(spec.include),
            exclude_fields=list(spec.exclude),
            mask_fields=list(spec.mask),
            mask_callable=spec.mask_callable,
            m2m_fields=set(spec.m2m),
        )
        if is_scoped(model):
            pre_delete.connect(_remember_insurers, sender=model, dispatch_uid="audit:insurers")
    pre_log.connect(_skip_policyholder_signup, sender=get_user_model(), dispatch_uid="audit:signup")
    post_log.connect(_record_insurers, dispatch_uid="audit:insurers")


def audited_models() -> list[tuple[type[Model], Audited]]:
    return [(apps.get_model(spec.label), spec) for spec in AUDITED]


def visible_entries(queryset: QuerySet[LogEntry], user: Any) -> QuerySet[LogEntry]:
    """The entries ``user`` may read: a superuser all; other staff those about the models
    they may view, of their insurers for scoped models (the object's insurers now, or when
    the entry was written, so a deleted object's history stays with its insurer)."""
    if user.is_active and user.is_superuser:
        return queryset
    ids = insurer_ids(user)
    keys = sorted(str(i) for i in ids or ())
    parts = []
    for model, spec in audited_models():
        if spec.superuser_only or not has_permission(user, _view_permission(model)):
            continue
        about_model = Q(content_type=ContentType.objects.get_for_model(model))
        if not is_scoped(model):
            parts.append(about_model)
        elif keys:
            live = scope_to(model._default_manager.all(), ids).values("pk")
            parts.append(
                about_model
                & (Q(object_id__in=live) | Q(additional_data__insurers__has_any_keys=keys))
            )
    if not parts:
        return queryset.none()
    return queryset.filter(reduce(or_, parts))


def visible_models(user: Any) -> list[type[Model]]:
    """The audited models whose entries ``user`` may read (the admin's model filter)."""
    return [
        model
        for model, spec in audited_models()
        if user.is_superuser
        or (not spec.superuser_only and has_permission(user, _view_permission(model)))
    ]


def _view_permission(model: type[Model]) -> str:
    return f"{model._meta.app_label}.view_{model._meta.model_name}"


def insurers_of(model: type[Model], pk: Any) -> list[int]:
    """The ids of the insurers the object ``pk`` of ``model`` belongs to (one or two queries)."""
    rows = model._base_manager.filter(pk=pk)
    lookup = getattr(model, "insurer_lookup", None)
    if lookup is not None:
        return sorted({i for i in rows.values_list(lookup, flat=True) if i is not None})
    every = apps.get_model("benefits", "Insurer").objects.values_list("pk", flat=True)
    counts = rows.aggregate(
        **{f"i{i}": Count("pk", filter=insurer_q(model, frozenset({i}))) for i in every}
    )
    return sorted(int(key[1:]) for key, count in counts.items() if count)


def _remember_insurers(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    # After the delete the object cannot be asked; its entry is written in post_delete.
    instance._audit_insurers = insurers_of(sender, instance.pk)  # type: ignore[attr-defined]


def _record_insurers(
    sender: type[Model],
    instance: Model,
    action: int,
    log_entry: LogEntry | None = None,
    **kwargs: Any,
) -> None:
    if log_entry is None or not is_scoped(sender):
        return
    if action == LogEntry.Action.DELETE:
        ids = getattr(instance, "_audit_insurers", [])
    else:
        ids = insurers_of(sender, instance.pk)
    # Keys, not a list: "has any of these keys" works on SQLite and PostgreSQL alike.
    data = {**(log_entry.additional_data or {}), "insurers": {str(i): True for i in ids}}
    LogEntry.objects.filter(pk=log_entry.pk).update(additional_data=data)
    log_entry.additional_data = data


def _skip_policyholder_signup(sender: type[Model], instance: Any, action: int, **kwargs: Any):
    # A policyholder's first SMS login creates their user: not a staff change. Returning
    # False vetoes the entry; every change of a user later (made staff …) is recorded.
    if action == LogEntry.Action.CREATE and not (instance.is_staff or instance.is_superuser):
        return False
    return None


class AuditActorMiddleware(AuditlogMiddleware):
    """auditlog's middleware, with the actor read from ``request.user`` when an entry is
    written rather than when the request arrives: the staff API authenticates a Bearer
    token inside the view (``portal.site.api.StaffTokenAuth``), after every middleware ran."""

    def get_extra_data(self, request: HttpRequest) -> dict[str, Any]:
        data = super().get_extra_data(request)
        data["actor"] = SimpleLazyObject(partial(_request_actor, request))
        return data


def _request_actor(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return user
    return None
