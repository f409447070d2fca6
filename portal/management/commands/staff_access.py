"""``manage.py staff_access USERNAME --insurer CODE [--insurer CODE …] --role ROLE``: give a
staff user their insurers and their role (the same records admin edits on the user page)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.site.roles import ROLE_CODES, StaffAccessError, role_table, staff_access_set


class Command(BaseCommand):
    help = "设置员工所属保险公司与角色（用户不存在时创建，无密码，需另行 changepassword）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--insurer",
            action="append",
            dest="insurers",
            default=[],
            metavar="CODE",
            help="保险公司代码，可重复（替换原有的所属保险公司）",
        )
        parser.add_argument("--role", required=True, choices=ROLE_CODES, help="角色")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = staff_access_set(
                username=options["username"],
                insurer_codes=options["insurers"],
                role_code=options["role"],
            )
        except StaffAccessError as exc:
            raise CommandError(str(exc)) from None
        insurers = "、".join(
            str(m.insurer) for m in user.staff_memberships.select_related("insurer")
        )
        role = role_table()[options["role"]].group_name
        self.stdout.write(f"{user.get_username()}：{role}，所属保险公司：{insurers}")
        if not user.has_usable_password():
            self.stdout.write(
                f"该用户尚无密码：python manage.py changepassword {user.get_username()}"
            )
