"""``manage.py vendor_statement --vendor CODE --month YYYY-MM [--json]``: price (a draft) or
show (a confirmed one) the month's statement of the vendor for each insurer it bills, every
line and the total. Without ``--vendor``, every vendor. ``--reconcile FILE`` compares the
vendor's own sheet (columns 申请编号, 金额; xlsx or csv) with the statement."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benefits.models import Vendor
from bookings.settlement.selectors import billed_insurers, statement_data
from bookings.settlement.statements import (
    parse_month,
    require_started,
    statement_price,
    statement_reconcile,
    vendor_claims,
)
from portal.kernel.errors import DomainError
from portal.kernel.spreadsheet_formats import FormulaSafeCSV, FormulaSafeXLSX


class Command(BaseCommand):
    help = "服务商月度结算单：按合同价格计价（草稿）或显示已确认的结算单"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vendor", help="服务商代码（省略则全部服务商）")
        parser.add_argument("--month", required=True, help="结算月份 YYYY-MM")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出")
        parser.add_argument("--reconcile", help="服务商的对账单文件（.xlsx 或 .csv）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            month = parse_month(options["month"])
            require_started(month)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        vendors = Vendor.objects.order_by("code")
        if options["vendor"]:
            vendors = vendors.filter(code=options["vendor"])
            if not vendors.exists():
                raise CommandError(f"服务商不存在：{options['vendor']}")
        claims = _claims(Path(options["reconcile"])) if options["reconcile"] else None
        shown = []
        for vendor in vendors:
            for insurer in billed_insurers(vendor):
                statement = statement_price(insurer=insurer, vendor=vendor, month=month)
                if claims is not None:
                    statement_reconcile(statement, claims)
                shown.append(statement_data(statement))
        if options["json"]:
            self.stdout.write(json.dumps(shown, ensure_ascii=False, indent=1))
            return
        for data in shown:
            self._print(data)

    def _print(self, data: dict[str, Any]) -> None:
        self.stdout.write(
            f"{data['vendor_name']}（{data['vendor']}）· {data['insurer']} · {data['month']}"
            f" · {data['state_label']}"
        )
        for line in data["lines"]:
            amount = line["amount"] if line["amount"] is not None else "未定价"
            self.stdout.write(
                f"  {line['ref']}  {line['completed_on']}  {line['benefit']}"
                f"  {line['quantity']} {line['basis'] or '-'}  {amount}"
            )
        priced = sum(
            (Decimal(x["amount"]) for x in data["lines"] if x["amount"] is not None),
            Decimal("0.00"),
        )
        self.stdout.write(
            f"  服务 {data['line_count']} 项（未定价 {data['unpriced_count']} 项）"
            f"  合计 {data['total']} 元（明细之和 {priced} 元）"
        )
        for difference in (data["reconciliation"] or {}).get("differences", []):
            self.stdout.write(
                f"  对账差异 {difference['kind']}: {difference['ref']}"
                f" 我方 {difference['ours']} 服务商 {difference['theirs']}"
            )


def _claims(path: Path) -> dict[str, Decimal]:
    if not path.is_file():
        raise CommandError(f"文件不存在：{path}")
    fmt = FormulaSafeXLSX() if path.suffix.lower() == ".xlsx" else FormulaSafeCSV()
    content = path.read_bytes() if fmt.is_binary() else path.read_text(encoding="utf-8-sig")
    try:
        return vendor_claims(fmt.create_dataset(content))
    except DomainError as exc:
        raise CommandError(exc.message) from exc
