import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benefits.catalogue.files import CATALOGUE_DIR, CatalogueError, read_catalogue
from benefits.catalogue.report import catalogue_report, report_text


class Command(BaseCommand):
    help = "按产品列出每项权益使用的规则类型、审核节点及其余说明（--json 输出 JSON）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="输出 JSON")
        parser.add_argument("--product", help="只列出该产品（产品代码）")
        parser.add_argument("--source", type=Path, default=CATALOGUE_DIR, help="目录文件所在文件夹")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            catalogue = read_catalogue(options["source"])
        except CatalogueError as exc:
            raise CommandError("目录文件有误：" + "；".join(exc.problems)) from None
        products = catalogue_report(catalogue, options.get("product"))
        if options.get("product") and not products:
            raise CommandError(f"产品“{options['product']}”不存在")
        if options["json"]:
            data = [p.as_dict() for p in products]
            self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(report_text(products))
