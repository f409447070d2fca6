"""Reads of settlement shared by the commands, the staff API and admin: which insurers a
vendor bills, a statement with its lines as plain data."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from benefits.models import Benefit, Insurer, Vendor
from bookings.models import VendorStatement
from bookings.settlement.statements import statement_rows


def billed_insurers(vendor: Vendor, visible: QuerySet[Insurer] | None = None) -> list[Insurer]:
    """The insurers whose products the vendor serves (its own insurer for an own team),
    among ``visible`` (the caller's insurers; default all)."""
    serves = Q(products__benefits__vendor=vendor) | Q(products__benefits__backup_vendors=vendor)
    if vendor.insurer_id:
        serves |= Q(pk=vendor.insurer_id)
    base = visible if visible is not None else Insurer.objects.all()
    return list(base.filter(pk__in=Insurer.objects.filter(serves).values("pk")).order_by("code"))


def statement_data(statement: VendorStatement, *, with_lines: bool = True) -> dict[str, Any]:
    """The statement as the command's JSON and the API answer show it (one query for the
    lines, whatever their number)."""
    data: dict[str, Any] = {
        "insurer": statement.insurer.code,
        "vendor": statement.vendor.code,
        "vendor_name": statement.vendor.name,
        "month": f"{statement.month:%Y-%m}",
        "state": statement.state,
        "state_label": str(VendorStatement.State(statement.state).label),
        "line_count": statement.line_count,
        "unpriced_count": statement.unpriced_count,
        "total": str(statement.total),
        "reconciliation": statement.reconciliation or None,
    }
    if with_lines:
        rows = statement_rows(statement)
        codes = dict(
            Benefit.objects.filter(pk__in={row.benefit_id for row in rows}).values_list(
                "pk", "code"
            )
        )
        data["lines"] = [
            {
                "ref": row.request_ref,
                "benefit": codes.get(row.benefit_id, ""),
                "completed_on": row.completed_on.isoformat(),
                "outcome": row.outcome,
                "basis": row.basis,
                "quantity": str(row.quantity),
                "amount": None if row.amount is None else str(row.amount),
                "disputed": row.disputed,
            }
            for row in rows
        ]
    return data
