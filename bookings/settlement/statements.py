"""Monthly vendor statements: priced (and re-priced while a draft), confirmed, lines
disputed and resolved, settled; exported to Excel and reconciled with the vendor's own.

A draft is a priced view of its month: its totals are stored, its lines are read from the
pricing query whenever shown, so re-running it is idempotent and costs one aggregate. On
confirmation the lines are written once (INSERT … SELECT) and frozen: from then on,
re-running the month changes nothing. Each step locks the statement row or claims it with a
conditional ``UPDATE … WHERE state = …``, so two confirmations at once confirm it once and
the second is told so."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import tablib
from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from benefits.models import Benefit, Insurer, Vendor
from bookings.models import StatementLine, VendorStatement
from bookings.settlement.pricing import (
    PricedLine,
    insert_statement_lines,
    statement_lines,
    statement_totals,
)
from portal.kernel.errors import DomainError, ErrorCode

State = VendorStatement.State
_MONTH = re.compile(r"(\d{4})-(\d{2})")


FIRST_YEAR, LAST_YEAR = 2000, 2100  # beyond them a month is a typo (and 9999-12 has no end)


def parse_month(text: str) -> date:
    """``YYYY-MM`` → the month's first day; ``invalid_month`` otherwise."""
    found = _MONTH.fullmatch(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12:
        raise DomainError(
            ErrorCode.INVALID_MONTH, _("月份格式应为 YYYY-MM，例如 2026-03"), status=422
        )
    year = int(found.group(1))
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise DomainError(
            ErrorCode.INVALID_MONTH,
            _("月份的年份应在%(first)d至%(last)d年之间") % {"first": FIRST_YEAR, "last": LAST_YEAR},
            status=422,
        )
    return date(year, int(found.group(2)), 1)


def require_started(month: date, *, now: datetime | None = None) -> None:
    """A month that has not begun (in Shanghai) has no statement: reading it writes nothing
    and answers ``invalid_month``."""
    if month > timezone.localdate(now):
        raise DomainError(ErrorCode.INVALID_MONTH, _("该月尚未开始"), status=422)


def _require_ended(month: date, now: datetime | None) -> None:
    # Services ending later in the month would otherwise be on no statement at all.
    after = month + relativedelta(months=1)
    if timezone.localdate(now) < after:
        raise DomainError(
            ErrorCode.STATEMENT_MONTH_OPEN,
            _("%(month)s尚未结束，%(after)s起才能确认结算单")
            % {"month": f"{month:%Y-%m}", "after": after.isoformat()},
            status=409,
        )


def _refuse(statement: VendorStatement, action: str) -> DomainError:
    return DomainError(
        ErrorCode.STATEMENT_STATE,
        _("结算单当前状态为“%(state)s”，不能%(action)s")
        % {"state": State(statement.state).label, "action": action},
        status=409,
        state=statement.state,
    )


def _totals(statement: VendorStatement) -> dict[str, Any]:
    sums = StatementLine.objects.filter(statement=statement).aggregate(
        lines=Count("pk"), unpriced=Count("pk", filter=Q(amount__isnull=True)), total=Sum("amount")
    )
    return {
        "line_count": sums["lines"],
        "unpriced_count": sums["unpriced"],
        "total": (sums["total"] or Decimal(0)).quantize(Decimal("0.01")),
    }


def _scope(statement: VendorStatement) -> dict[str, Any]:
    return {
        "statement_id": statement.pk,
        "insurer_id": statement.insurer_id,
        "vendor_id": statement.vendor_id,
        "first": statement.month,
        "after": statement.month + relativedelta(months=1),
    }


@transaction.atomic
def statement_price(
    *, insurer: Insurer, vendor: Vendor, month: date, now: datetime | None = None
) -> VendorStatement:
    """The month's statement, priced now if it is still a draft; a confirmed (disputed,
    settled) statement is returned as it is. Queries: get-or-create, lock, the priced
    aggregate, save — the same for ten services or a hundred thousand. A month that has not
    begun is refused (``invalid_month``) before anything is written."""
    require_started(month, now=now)
    statement, _created = VendorStatement.objects.get_or_create(
        insurer=insurer, vendor=vendor, month=month
    )
    statement = VendorStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.state != State.DRAFT:
        return statement
    totals = statement_totals(**_scope(statement))
    priced = {
        "line_count": totals.services,
        "unpriced_count": totals.services - totals.priced,
        "total": totals.cost,
        "priced_at": now or timezone.now(),
    }
    # An UPDATE, not save(): a draft's totals moving is no change for the audit trail.
    VendorStatement.objects.filter(pk=statement.pk).update(**priced)
    for field, value in priced.items():
        setattr(statement, field, value)
    return statement


def statement_rows(statement: VendorStatement) -> list[PricedLine]:
    """The statement's lines: priced now for a draft, as frozen at confirmation otherwise
    (one query either way)."""
    if statement.state == State.DRAFT:
        return statement_lines(**_scope(statement))
    rows = (
        StatementLine.objects.filter(statement=statement)
        .order_by("completed_on", "request_ref")
        .values_list(
            "request_id",
            "request_ref",
            "benefit_id",
            "completed_on",
            "outcome",
            "basis",
            "quantity",
            "amount",
            "disputed",
            "dispute_reason",
        )
    )
    return [PricedLine(*row) for row in rows]


@transaction.atomic
def statement_confirm(
    statement: VendorStatement, *, user: Any, now: datetime | None = None
) -> VendorStatement:
    """Draft → confirmed: the lines are priced one last time and written, and from now on
    they and the total are fixed. Every line must carry a price (an unpriced service is a
    missing contract price, fixed before confirming); otherwise nothing is written. Not
    before the month has ended in Shanghai (``statement_month_open``)."""
    locked = VendorStatement.objects.select_for_update().get(pk=statement.pk)
    if locked.state != State.DRAFT:
        raise _refuse(locked, _("确认"))
    _require_ended(locked.month, now)
    insert_statement_lines(**_scope(locked))
    totals = _totals(locked)
    if totals["unpriced_count"]:
        raise DomainError(
            ErrorCode.STATEMENT_STATE,
            _("有%(count)d项服务没有适用的合同价格，请先补充价格并重新计价")
            % {"count": totals["unpriced_count"]},
            status=409,
        )
    for field, value in totals.items():
        setattr(locked, field, value)
    locked.state = State.CONFIRMED
    locked.confirmed_at = now or timezone.now()
    locked.confirmed_by = user
    locked.save()
    return locked


def line_step_check(statement: VendorStatement, *, dispute: bool) -> None:
    """Refuse (``statement_state``) marking a line of ``statement`` as disputed
    (``dispute``) or resolving one (not ``dispute``) when its state does not allow it: a
    form asks before saving, the steps below ask again under the row lock."""
    if dispute and statement.state not in (State.CONFIRMED, State.DISPUTED):
        raise _refuse(statement, _("标记争议"))
    if not dispute and statement.state != State.DISPUTED:
        raise _refuse(statement, _("处理争议"))


@transaction.atomic
def line_dispute(line: StatementLine, *, reason: str) -> StatementLine:
    """Mark a line of a confirmed statement as disputed; the statement waits for it."""
    statement = VendorStatement.objects.select_for_update().get(pk=line.statement_id)
    line_step_check(statement, dispute=True)
    StatementLine.objects.filter(pk=line.pk).update(disputed=True, dispute_reason=reason[:300])
    statement.state = State.DISPUTED
    statement.save(update_fields=["state"])
    line.refresh_from_db()
    return line


@transaction.atomic
def line_resolve(line: StatementLine, *, agreed_amount: Decimal | None = None) -> StatementLine:
    """Close a dispute, keeping the line's amount or replacing it with the agreed one; the
    statement is confirmed again once no line is disputed."""
    statement = VendorStatement.objects.select_for_update().get(pk=line.statement_id)
    line_step_check(statement, dispute=False)
    changes: dict[str, Any] = {"disputed": False}
    if agreed_amount is not None:
        changes["amount"] = agreed_amount.quantize(Decimal("0.01"))
    StatementLine.objects.filter(pk=line.pk).update(**changes)
    statement.total = _totals(statement)["total"]
    if not statement.lines.filter(disputed=True).exists():
        statement.state = State.CONFIRMED
    statement.save(update_fields=["state", "total"])
    line.refresh_from_db()
    return line


@transaction.atomic
def statement_settle(statement: VendorStatement, *, now: datetime | None = None) -> None:
    """Confirmed (no dispute open) → settled: paid. Under the row lock, so a dispute raised
    at the same moment is either before (and refuses this) or after (and is refused)."""
    locked = VendorStatement.objects.select_for_update().get(pk=statement.pk)
    if locked.state == State.DISPUTED:
        raise DomainError(
            ErrorCode.STATEMENT_HAS_DISPUTES, _("结算单仍有争议明细，处理后才能结算"), status=409
        )
    if locked.state != State.CONFIRMED:
        raise _refuse(locked, _("结算"))
    locked.state = State.SETTLED
    locked.settled_at = now or timezone.now()
    locked.save(update_fields=["state", "settled_at"])
    statement.refresh_from_db()


# --- export and reconciliation ------------------------------------------------------------

EXPORT_HEADERS = ("申请编号", "权益", "完成日期", "结果", "计价单位", "数量", "金额", "争议")


def statement_dataset(statement: VendorStatement) -> tablib.Dataset:
    """The statement's lines as a sheet (two queries: the lines, the benefits' names); write
    it with a formula-safe format."""
    rows = statement_rows(statement)
    names = dict(
        Benefit.objects.filter(pk__in={row.benefit_id for row in rows}).values_list("pk", "name")
    )
    outcomes = dict(StatementLine.Outcome.choices)
    dataset = tablib.Dataset(headers=list(EXPORT_HEADERS))
    for row in rows:
        dataset.append(
            (
                row.request_ref,
                names.get(row.benefit_id, ""),
                row.completed_on.isoformat(),
                str(outcomes.get(row.outcome, row.outcome)),
                row.basis,
                row.quantity,
                row.amount,
                row.dispute_reason,
            )
        )
    return dataset


@dataclass(frozen=True)
class Difference:
    ref: str
    kind: str  # missing: ours only; extra: the vendor's only; amount: both, amounts differ
    ours: Decimal | None
    theirs: Decimal | None

    def as_json(self) -> dict[str, str | None]:
        return {
            "ref": self.ref,
            "kind": self.kind,
            "ours": None if self.ours is None else str(self.ours),
            "theirs": None if self.theirs is None else str(self.theirs),
        }


REF_COLUMNS = ("申请编号", "ref")
AMOUNT_COLUMNS = ("金额", "amount")


def _column(headers: list[str], names: tuple[str, ...]) -> int:
    for index, header in enumerate(headers):
        if str(header).strip() in names:
            return index
    raise DomainError(
        ErrorCode.RECONCILIATION_INVALID,
        _("对账文件缺少“%(column)s”列") % {"column": names[0]},
        status=422,
    )


def vendor_claims(dataset: tablib.Dataset) -> dict[str, Decimal]:
    """The vendor's sheet as ref → amount; every unreadable row is reported at once."""
    headers = list(dataset.headers or [])
    ref_at, amount_at = _column(headers, REF_COLUMNS), _column(headers, AMOUNT_COLUMNS)
    claims: dict[str, Decimal] = {}
    problems = []
    for number, row in enumerate(dataset, start=2):
        ref = str(row[ref_at] or "").strip()
        if not ref:
            continue
        try:
            amount = Decimal(str(row[amount_at]).replace(",", "").strip()).quantize(Decimal("0.01"))
        except InvalidOperation:
            problems.append(_("第%(row)d行金额无法识别") % {"row": number})
            continue
        if ref in claims:
            problems.append(_("第%(row)d行申请编号重复：%(ref)s") % {"row": number, "ref": ref})
        claims[ref] = amount
    if problems:
        raise DomainError(
            ErrorCode.RECONCILIATION_INVALID, "；".join(problems), status=422, problems=problems
        )
    return claims


def statement_reconcile(
    statement: VendorStatement, claims: dict[str, Decimal], *, now: datetime | None = None
) -> list[Difference]:
    """Every difference between our lines and the vendor's claims, by request ref: a line
    they did not bill (missing), a ref they billed that we have not (extra), and a ref on
    both with another amount. Kept on the statement with the time of the comparison."""
    ours = {row.request_ref: row.amount for row in statement_rows(statement)}
    differences = []
    for ref in sorted(ours.keys() | claims.keys()):
        mine, theirs = ours.get(ref), claims.get(ref)
        if ref not in claims:
            differences.append(Difference(ref, "missing", mine, None))
        elif ref not in ours:
            differences.append(Difference(ref, "extra", None, theirs))
        elif mine != theirs:
            differences.append(Difference(ref, "amount", mine, theirs))
    statement.reconciliation = {
        "at": (now or timezone.now()).isoformat(),
        "claimed_lines": len(claims),
        "claimed_total": str(sum(claims.values(), Decimal(0))),
        "differences": [d.as_json() for d in differences],
    }
    statement.save(update_fields=["reconciliation"])
    return differences
