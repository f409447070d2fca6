import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coverage.annex import AnnexFileError
from coverage.models import CoverageList
from coverage.services import annex_import


class Command(BaseCommand):
    help = "导入附件名单（CSV/XLSX，UTF-8 或 GBK）。任何一行无法识别时不导入任何数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--list", dest="list_code", required=True, help="名单代码")
        parser.add_argument("--dry-run", action="store_true", help="只检查并报告，不写入")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出逐行报告")

    def handle(self, *args: Any, file: Path, list_code: str, dry_run: bool, **options: Any) -> None:
        coverage_list = CoverageList.objects.filter(code=list_code).first()
        if coverage_list is None:
            raise CommandError(f"没有代码为“{list_code}”的名单")
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{exc.strerror}") from None
        try:
            outcome = annex_import(
                coverage_list=coverage_list, content=content, filename=file.name, dry_run=dry_run
            )
        except AnnexFileError as exc:
            if options["json"]:
                self.stdout.write(
                    json.dumps({"list": list_code, "error": str(exc)}, ensure_ascii=False)
                )
            raise CommandError(str(exc)) from None
        report = outcome.report()
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
        else:
            for row in report["rows"]:
                if row["status"] not in ("ok", "heading", "total"):
                    target = f"{row['canonical_name'] or '—'}（{row['region_code'] or '—'}）"
                    self.stdout.write(
                        f"第{row['line']}行 [{row['status']}] {row['input_name']} → {target}"
                        f"{row['message']}"
                    )
            for line in report["totals"]:
                self.stdout.write(self.style.WARNING(f"合计不符：{line}"))
            counts = "，".join(f"{k} {v}" for k, v in report["summary"].items())
            self.stdout.write(f"{list_code}：{counts}")
            if outcome.result:
                self.stdout.write(outcome.result.message)
        if outcome.plan.has_unresolved:
            raise CommandError("有无法识别的行，未导入任何数据；请在后台添加别名或修改文件后重试")
