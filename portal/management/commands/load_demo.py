"""Demo policies for a newcomer (``./dev up`` runs this): a 平安 family policy and a 中宏
group policy held by one demo policyholder, who logs in with a phone number and the SMS code
from the outbox. Idempotent: policies are upserted by number."""

from __future__ import annotations

import os
import secrets
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.utils import timezone

from benefits.demo import resident_id
from benefits.models import Benefit, Vendor
from benefits.policies.services import MemberInput, PersonInput, PolicyInput, policy_upsert
from bookings.models import VendorAccount, VendorToken
from bookings.vendors.services import vendor_token_issue, vendor_token_revoke

DEMO_PHONE = "13800138000"
DEMO_VENDOR_BENEFIT = "pingan.health.outpatient_assist"
DEMO_ISSUE_LABEL = "演示"
DEMO_VENDOR_USERNAME = "demo-vendor"
DEMO_VENDOR_DEFAULT_PASSWORD = "demo-vendor-2026"  # noqa: S105 - demo data, printed by ./dev up
DEMO_VENDOR_PHONE = "13900139000"
HOLDER = PersonInput(
    name="王小明",
    id_number=resident_id("11010519850101001"),
    birth_date=date(1985, 1, 1),
    phone=DEMO_PHONE,
    home_city="上海市",
)
SPOUSE = PersonInput(
    name="李小红",
    id_number=resident_id("11010519860202002"),
    birth_date=date(1986, 2, 2),
    home_city="上海市",
)
CHILD = PersonInput(
    name="王小宝",
    id_number=resident_id("11010520180808003"),
    birth_date=date(2018, 8, 8),
    home_city="上海市",
)


class Command(BaseCommand):
    help = "创建演示保单与演示投保人（手机号登录，验证码见短信发件箱）"

    def handle(self, *args: object, **options: object) -> None:
        # In force for four months: past every waiting and cooling-off period.
        effective = timezone.localdate() - relativedelta(months=4)
        members = [
            MemberInput(ref="M1", relation="self", person=HOLDER),
            MemberInput(ref="M2", relation="spouse", person=SPOUSE),
            MemberInput(ref="M3", relation="child", person=CHILD),
        ]
        for number, product, group in (
            ("DEMO-PA-0001", "pingan.health", False),
            ("DEMO-HYWJ-0001", "manulife.hywj", True),
        ):
            policy_upsert(
                PolicyInput(
                    number=number,
                    product=product,
                    status="in_force",
                    signed_on=effective - relativedelta(days=1),
                    effective_on=effective,
                    expires_on=effective + relativedelta(years=1, days=-1),
                    holder=HOLDER,
                    members=members,
                    family=True,
                    group=group,
                    waiting_days=30,
                )
            )
        self.stdout.write(
            f"演示投保人：手机号 {DEMO_PHONE}，首次登录绑定身份证号 {HOLDER.id_number}（演示数据）"
        )
        # A fresh vendor token each run (only digests are stored, so an old one cannot be
        # shown again): the vendor that delivers 平安 门诊协助.
        vendor = Benefit.objects.select_related("vendor").get(code=DEMO_VENDOR_BENEFIT).vendor
        for token in VendorToken.objects.filter(
            vendor=vendor, name=DEMO_ISSUE_LABEL, revoked_at=None
        ):
            vendor_token_revoke(token=token)
        _token, raw = vendor_token_issue(vendor=vendor, name=DEMO_ISSUE_LABEL)
        self.stdout.write(f"演示服务商（{vendor.name}）接口令牌：{raw}")
        self._workbench_account(vendor)

    def _workbench_account(self, vendor: Vendor) -> None:
        """A login to the vendor workbench (/vendor/) for the same vendor; the SMS code goes
        to the outbox like the policyholder's."""
        # The well-known password only on a developer's machine (DEBUG): anywhere else the
        # login gets a random one, printed here once, like the token above.
        default = DEMO_VENDOR_DEFAULT_PASSWORD if settings.DEBUG else secrets.token_urlsafe(12)
        password = os.environ.get("DEMO_VENDOR_PASSWORD") or default
        user, _created = get_user_model().objects.get_or_create(username=DEMO_VENDOR_USERNAME)
        user.set_password(password)
        user.save(update_fields=["password"])
        VendorAccount.objects.update_or_create(
            user=user, defaults={"vendor": vendor, "phone": DEMO_VENDOR_PHONE, "active": True}
        )
        self.stdout.write(
            f"演示服务商工作台 /vendor/：登录名 {DEMO_VENDOR_USERNAME}，密码 {password}，"
            f"验证码发往 {DEMO_VENDOR_PHONE}（见短信发件箱）"
        )
