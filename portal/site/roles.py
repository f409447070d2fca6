"""Staff roles as Django groups, kept in step with this table after every migrate.

A role is a set of permissions; which insurers' data a user sees is the separate question of
``portal.kernel.tenancy``. The groups are rewritten from this table on every ``migrate`` (and by
``manage.py staff_access``), so a permission added here reaches every installation; a
permission an admin added to a group by hand is removed at the next migrate — roles are
code-reviewed, not clicked together.

- 坐席/运营 (operator): reads policies, people, the catalogue and coverage; acts on requests
  (approve, ask for records) and opens their records.
- 主管 (supervisor): also assigns vendors and rejects requests, edits the catalogue and the
  coverage lists, imports policies, issues vendor tokens.
- 审计 (auditor): reads everything, access logs and the change history included; changes
  nothing and opens no medical record (the access log says who did).
- 管理员 (administrator): every permission of the product's apps, shared reference data
  (regions, aliases, the working calendar, schedules) included; the only role that exports
  ID numbers and phones unmasked (``bookings.see_identity_servicerequest``, each export
  logged). Not user management: users
  and their insurers are managed by superusers (admin, or ``manage.py staff_access``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PRODUCT_APPS = ("portal", "coverage", "benefits", "bookings")
# Apps of libraries whose records staff read (the change history, login attempts) or run.
LIBRARY_APPS = ("auditlog", "axes", "django_celery_beat")

POLICY_DATA = ("person", "policy", "policymember", "hospitalisation", "diagnosis")
# Read-only records of what happened to policy data (phone changes, consents given).
POLICY_HISTORY = ("phonechange", "consentrecord")
LEDGER = ("quotabalance", "quotaledgerentry")
CATALOGUE = ("insurer", "vendor", "product", "service", "benefit")
COVERAGE = ("coveragelist", "coveragelistmember", "listentry", "unresolvedname")
REFERENCE = ("region", "regionalias", "calendarday", "calendaryear")
REQUEST_RECORDS = (
    "requestevent",
    "document",
    "milestone",
    "followup",
    "consumption",
    "rating",
    "recordsconsent",
)
SETTLEMENT = ("contractprice", "vendorstatement", "statementline", "productpremium")


@dataclass(frozen=True)
class Role:
    code: str
    group_name: str
    description: str
    permissions: frozenset[str]  # "app_label.codename"


def _perms(app: str, action: str, models: tuple[str, ...]) -> set[str]:
    return {f"{app}.{action}_{model}" for model in models}


def _operator() -> set[str]:
    return {
        "portal.use_staff_api",
        "portal.view_stafftoken",
        *_perms("benefits", "view", POLICY_DATA + POLICY_HISTORY + LEDGER + CATALOGUE),
        *_perms("benefits", "view", ("calendarday", "calendaryear")),
        *_perms("coverage", "view", (*COVERAGE, "region", "regionalias")),
        "bookings.view_servicerequest",
        "bookings.change_servicerequest",
        *_perms("bookings", "view", (*REQUEST_RECORDS, "notification")),
        "bookings.open_document",
        # Complaints (银保监会令2020年第3号): record, assign, reply, close, extend to 30 days.
        *_perms("bookings", "view", ("complaint", "complaintreply")),
        "bookings.add_complaint",
        "bookings.change_complaint",
        "bookings.extend_complaint",
    }


def _supervisor() -> set[str]:
    return _operator() | {
        "bookings.assign_servicerequest",
        "bookings.reject_servicerequest",
        "portal.add_stafftoken",
        "portal.change_stafftoken",
        *_perms("benefits", "add", ("policy", "policymember", "person")),
        *_perms("benefits", "change", POLICY_DATA),
        *_perms("benefits", "change", ("vendor", "product", "benefit")),
        *_perms("coverage", "add", COVERAGE),
        *_perms("coverage", "change", COVERAGE),
        *_perms("coverage", "delete", ("coveragelistmember", "listentry")),
        *_perms("bookings", "add", ("vendortoken", "vendorwebhook", "vendoraccount")),
        *_perms("bookings", "change", ("vendortoken", "vendorwebhook", "vendoraccount")),
        *_perms(
            "bookings", "view", ("vendortoken", "vendorwebhook", "vendoraccount", "webhookdelivery")
        ),
        # Vendor contracts, statements and the cost cap: read; confirming is the admin's.
        *_perms("bookings", "view", SETTLEMENT),
        # The internal approval of a further 30 days on an especially complex complaint.
        "bookings.approve_extension_complaint",
    }


ROLE_CODES = ("operator", "supervisor", "auditor", "admin")


def role_table(apps=global_apps) -> dict[str, Role]:
    """The roles, their groups and permissions (``apps``: the app registry to read)."""
    every_view = {
        f"{model._meta.app_label}.view_{model._meta.model_name}"
        for model in apps.get_models()
        if model._meta.app_label in PRODUCT_APPS + LIBRARY_APPS
    }
    # Never the SMS outbox or one-time codes: reading a login code is logging in as its owner.
    secrets = {"portal.view_onetimecode", "portal.view_smsmessage", "portal.view_otpthrottle"}
    auditor = (every_view - secrets) | {"portal.use_staff_api"}
    administrator = {
        f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        for model in apps.get_models()
        if model._meta.app_label in PRODUCT_APPS + LIBRARY_APPS
        for action in model._meta.default_permissions
    } | {
        f"{model._meta.app_label}.{codename}"
        for model in apps.get_models()
        if model._meta.app_label in PRODUCT_APPS
        for codename, _name in model._meta.permissions
    }
    administrator -= secrets | {
        f"portal.{action}_{model}"
        for action in ("add", "change", "delete")
        for model in ("staffmembership", "smsmessage", "onetimecode", "otpthrottle")
    }
    roles = [
        Role("operator", str(_("坐席/运营")), "读取保单与申请，处理申请", frozenset(_operator())),
        Role(
            "supervisor",
            str(_("主管")),
            "另可派单、驳回申请，编辑产品目录与覆盖名单",
            frozenset(_supervisor()),
        ),
        Role("auditor", str(_("审计")), "只读，含访问日志与变更记录", frozenset(auditor)),
        Role(
            "admin", str(_("管理员")), "产品全部权限（不含员工账号管理）", frozenset(administrator)
        ),
    ]
    return {role.code: role for role in roles}


def roles_sync(*, apps=global_apps, using: str = "default") -> dict[str, Group]:
    """Create or rewrite the four groups from ``role_table``; idempotent."""
    for app_config in apps.get_app_configs():
        # Permissions of apps migrated after this one may not exist yet on a fresh database.
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    groups = {}
    for code, role in role_table(apps).items():
        group, _created = Group.objects.using(using).get_or_create(name=role.group_name)
        wanted = Q()
        for perm in role.permissions:
            app_label, codename = perm.split(".", 1)
            wanted |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.using(using).filter(wanted))
        groups[code] = group
    return groups


def on_post_migrate(sender, app_config=None, using: str = "default", **kwargs) -> None:
    roles_sync(using=using)


class StaffAccessError(Exception):
    """A bad username, insurer code or role: the message is for the person typing."""


def staff_access_set(*, username: str, insurer_codes: list[str], role_code: str) -> Any:
    """Make ``username`` a staff user of exactly these insurers with exactly this role,
    creating the user (without a usable password) if needed. Returns the user."""
    from benefits.models import Insurer
    from portal.models import StaffMembership

    roles = role_table()
    if role_code not in roles:
        raise StaffAccessError(f"未知角色“{role_code}”，可选：{'、'.join(ROLE_CODES)}")
    if not insurer_codes:
        raise StaffAccessError("请至少指定一家保险公司（--insurer）")
    insurers = list(Insurer.objects.filter(code__in=insurer_codes))
    unknown = sorted(set(insurer_codes) - {i.code for i in insurers})
    if unknown:
        raise StaffAccessError(f"未知保险公司代码：{'、'.join(unknown)}")
    groups = roles_sync()
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"is_staff": True}
        )
        if created:
            user.set_unusable_password()
        user.is_staff = True
        user.save()
        user.groups.set([groups[role_code]])
        StaffMembership.objects.filter(user=user).exclude(insurer__in=insurers).delete()
        for insurer in insurers:
            StaffMembership.objects.get_or_create(user=user, insurer=insurer)
    return user
