"""Importing policies from the insurer's core system: a flat file with one row per insured
member, rows grouped by policy number, each policy written by ``policy_upsert`` (the service
behind POST /api/staff/v1/policies). The rows are read by ``benefits.policies.import_rows``
and matched with what is stored by ``benefits.policies.import_matching``.

All or nothing per file: every row is checked first and every bad row is reported (in
Chinese, per column); only a file without errors is written, and a policy whose rows match
what is stored is not written at all, so importing the same file twice changes nothing.
ID numbers and phone numbers only ever leave the import masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from benefits.models import PhoneChange, Policy, Product
from benefits.policies.import_matching import (
    blame_row,
    group_by_policy,
    mark_actions,
    policy_input,
    refuse_other_insurers,
)
from benefits.policies.import_rows import COLUMNS, HEADER, REQUIRED, RowOutcome, read_row
from benefits.policies.services import InsurerIds, policy_upsert
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError


class ImportFileError(ValueError):
    """The file as a whole cannot be read as a policy list (missing columns)."""


@dataclass
class PolicyImportReport:
    rows: list[RowOutcome]
    created: list[Policy] = field(default_factory=list)
    updated: list[Policy] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # policy numbers

    @property
    def ok(self) -> bool:
        return not any(row.errors for row in self.rows)


def header_keys(headers: list[str]) -> list[str | None]:
    """The column key of each header (Chinese or English), None for columns we ignore."""
    by_name = {header: key for key, header in COLUMNS} | {key: key for key, _ in COLUMNS}
    keys = [by_name.get((h or "").strip()) for h in headers]
    missing = [HEADER[key] for key in REQUIRED if key not in keys]
    if missing:
        raise ImportFileError(_("缺少列：%(columns)s") % {"columns": "、".join(missing)})
    return keys


def import_actor(user: Any) -> Actor:
    """Who an import's changes are recorded as: ``import:<username>`` (``import`` alone
    when no user is known)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Actor(label="import")
    return Actor(user=user, label=f"import:{user.get_username()}")


def policies_import(
    *,
    rows: list[dict[str, Any]],
    first_line: int = 2,
    dry_run: bool,
    actor: Actor | None = None,
    allowed_insurer_ids: InsurerIds = None,
) -> PolicyImportReport:
    """Check every row, then (when none is bad, and not ``dry_run``) write each changed
    policy through ``policy_upsert``, in one transaction. ``rows`` are cells by column key
    (``header_keys``); ``first_line`` is the file line of the first row. ``actor``
    (``import_actor(user)``) is who phone changes are recorded as; ``allowed_insurer_ids``
    the importing user's insurers (``portal.kernel.tenancy.insurer_ids``, None: unrestricted) —
    a person also on another insurer's policy keeps name and phone, and the row says so."""
    actor = actor or import_actor(None)
    products = set(Product.objects.values_list("code", flat=True))
    report = PolicyImportReport(
        [read_row(first_line + i, cells, products) for i, cells in enumerate(rows)]
    )
    if allowed_insurer_ids is not None:
        refuse_other_insurers(report.rows, allowed_insurer_ids)
    groups = group_by_policy(report.rows)
    if not report.ok:
        return report
    with transaction.atomic():
        for number, group in groups.items():
            data = policy_input(group)
            if not mark_actions(group, data):
                report.unchanged.append(number)
                continue
            try:
                with transaction.atomic():
                    policy, created = policy_upsert(
                        data,
                        actor=actor,
                        channel=PhoneChange.Channel.IMPORT,
                        allowed_insurer_ids=allowed_insurer_ids,
                    )
            except DomainError as exc:
                blame_row(group, exc)
                continue
            (report.created if created else report.updated).append(policy)
        if dry_run or not report.ok:
            # The preview ran every write the confirm will run, and undoes them.
            transaction.set_rollback(True)
            if not report.ok:
                report.created, report.updated = [], []
    return report
