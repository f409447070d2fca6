from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from benefits.catalogue.files import CATALOGUE_DIR, CatalogueError, read_catalogue
from benefits.catalogue.loading import catalogue_load
from coverage.services import ImportOutcome, regions_and_aliases_load, seed_annexes_load


class Command(BaseCommand):
    help = (
        "载入仓库中的产品目录（benefits/catalogue/）。"
        "重复运行不改变数据；管理员改过的记录只报告差异，不覆盖。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--source",
            type=Path,
            default=CATALOGUE_DIR,
            help="目录文件所在文件夹（默认为仓库中的 benefits/catalogue/）",
        )
        parser.add_argument(
            "--overwrite-edited",
            action="store_true",
            help="连同管理员在后台修改过的记录一并按文件覆盖",
        )

    def handle(
        self,
        *args: Any,
        source: Path = CATALOGUE_DIR,
        overwrite_edited: bool = False,
        **options: Any,
    ) -> None:
        try:
            catalogue = read_catalogue(source)
        except CatalogueError as exc:
            raise CommandError(
                "目录文件有误，未写入任何数据：\n" + "\n".join(f"  - {p}" for p in exc.problems)
            ) from None
        report = catalogue_load(catalogue=catalogue, overwrite_edited=overwrite_edited)
        for change in report.changes:
            style = (
                self.style.WARNING
                if change.action in ("edited_kept", "not_in_files")
                else self.style.SUCCESS
            )
            self.stdout.write(style(change.describe()))
        self.stdout.write(
            f"产品 {len(catalogue.products)} 个，权益 {len(catalogue.benefits)} 项，"
            f"名单 {len(catalogue.coverage_lists)} 份；新建 {report.count('created')}，"
            f"更新 {report.count('updated') + report.count('overwritten')}，"
            f"未变 {report.unchanged}，保留管理员修改 {report.count('edited_kept')}。"
        )
        regions, aliases = regions_and_aliases_load()
        self.stdout.write(f"行政区划：写入 {regions} 条；区划别名：新增 {aliases} 条。")
        for code, outcome in seed_annexes_load():
            self._report_annex(code, outcome)
        self.stdout.write(
            "逐行报告：python manage.py import_annex coverage/annexes/<名单代码>.csv "
            "--list <名单代码> --dry-run --json"
        )
        if report.count("edited_kept"):
            self.stdout.write(
                self.style.WARNING(
                    "有记录被管理员修改过，未覆盖；如需以文件为准，请加 --overwrite-edited。"
                )
            )

    def _report_annex(self, code: str, outcome: ImportOutcome | str) -> None:
        if isinstance(outcome, str):
            self.stdout.write(self.style.ERROR(f"附件 {code}：{outcome}"))
            return
        counts = outcome.plan.counts()
        reinterpreted = sum(counts.get(k, 0) for k in ("alias", "historical", "duplicate"))
        message = outcome.result.message if outcome.result else ""
        style = self.style.ERROR if outcome.plan.has_unresolved else self.style.SUCCESS
        self.stdout.write(
            style(
                f"附件 {code}：{message}；改读 {reinterpreted} 行"
                + (f"，合计不符 {len(outcome.plan.totals)} 处" if outcome.plan.totals else "")
            )
        )
