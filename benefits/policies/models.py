"""Policies and the people on them, and the health episodes services key off."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedCharField

from portal.kernel.identity import (
    RESIDENT_ID,
    IdNumberError,
    id_number_digest,
    mask_id_number,
    validate_id_number,
)


class Person(models.Model):
    """A holder, insured member or family member. The ID number is encrypted at rest and
    matched through ``id_digest``; only its masked form is ever displayed."""

    class IdType(models.TextChoices):
        RESIDENT_ID = RESIDENT_ID, _("居民身份证")
        PASSPORT = "passport", _("护照")
        HK_MACAO_PERMIT = "hk_macao_permit", _("港澳居民来往内地通行证")
        TAIWAN_PERMIT = "taiwan_permit", _("台湾居民来往大陆通行证")
        FOREIGN_RESIDENT = "foreign_resident", _("外国人永久居留身份证")
        OTHER = "other", _("其他")

    name = models.CharField(_("姓名"), max_length=60)
    id_type = models.CharField(
        _("证件类型"), max_length=20, choices=IdType.choices, default=IdType.RESIDENT_ID
    )
    id_number = EncryptedCharField(_("证件号码"), max_length=40)
    id_digest = models.CharField(max_length=64, unique=True, editable=False)
    id_masked = models.CharField(_("证件号码"), max_length=40, editable=False)
    birth_date = models.DateField(_("出生日期"))
    phone = models.CharField(_("手机号"), max_length=20, blank=True, db_index=True)
    mainland_citizen = models.BooleanField(_("中国大陆居民"), default=True)
    home_city = models.ForeignKey(
        "coverage.Region",
        verbose_name=_("常住城市"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hukou_city = models.ForeignKey(
        "coverage.Region",
        verbose_name=_("户籍城市"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("人员")
        verbose_name_plural = _("人员")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.id_masked}）"

    def save(self, *args: object, **kwargs: object) -> None:
        # The digest and mask always follow the number, whatever path saved it.
        self.id_digest = id_number_digest(self.id_type, self.id_number)
        self.id_masked = mask_id_number(self.id_number)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def clean(self) -> None:
        try:
            self.id_number = validate_id_number(self.id_type, self.id_number or "")
        except IdNumberError as exc:
            raise ValidationError({"id_number": str(exc)}) from None

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        # A person belongs to every insurer they hold or are insured on a policy of.
        return Q(
            models.Exists(
                PolicyMember.objects.filter(
                    person=models.OuterRef("pk"), policy__product__insurer__in=ids
                )
            )
        ) | Q(
            models.Exists(
                Policy.objects.filter(holder=models.OuterRef("pk"), product__insurer__in=ids)
            )
        )


class Policy(models.Model):
    class Status(models.TextChoices):
        IN_FORCE = "in_force", _("有效")
        LAPSED = "lapsed", _("失效")
        TERMINATED = "terminated", _("终止")
        EXPIRED = "expired", _("满期")

    number = models.CharField(_("保单号"), max_length=40, unique=True)
    product = models.ForeignKey(
        "benefits.Product",
        verbose_name=_("产品"),
        on_delete=models.PROTECT,
        related_name="policies",
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.IN_FORCE
    )
    signed_on = models.DateField(_("签收日期"), help_text=_("犹豫期自签收次日起算"))
    effective_on = models.DateField(_("生效日期"))
    expires_on = models.DateField(_("满期日期"))
    renewal_of = models.ForeignKey(
        "self",
        verbose_name=_("续保自"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewals",
    )
    transferred = models.BooleanField(_("转保"), default=False, help_text=_("转保无等待期"))
    family = models.BooleanField(_("家庭保单"), default=False)
    group = models.BooleanField(_("团体保单"), default=False)
    # The contract's own periods; a handbook rule without days ("与保险合同一致") uses these.
    waiting_days = models.PositiveSmallIntegerField(_("等待期（天）"), null=True, blank=True)
    cooling_off_days = models.PositiveSmallIntegerField(_("犹豫期（天）"), default=15)
    # What the services hang on (issue 14): the sum insured now, the standard the plan sets
    # for its services ("降低保额无法达到相应标准" ends them), the plan level (计划) and the
    # riders (附加险) the policy carries, by code. Blank: not recorded by the core system yet,
    # and a rule that needs it is answered unchecked.
    sum_insured = models.DecimalField(
        _("保额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    standard_sum_insured = models.DecimalField(
        _("服务保额标准（元）"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("保额低于此标准时健康管理服务终止"),
    )
    plan_level = models.CharField(_("计划档次"), max_length=40, blank=True)
    riders = models.JSONField(_("附加险"), default=list, blank=True, help_text=_("附加险代码列表"))
    holder = models.ForeignKey(
        Person, verbose_name=_("投保人"), on_delete=models.PROTECT, related_name="held_policies"
    )
    # month * 100 + day of ``effective_on`` (0229 stays 229): the anniversary job finds the
    # day's policies through an index instead of reading every policy. ``save()`` keeps it in
    # step; code that writes policies without save() (bulk_create, QuerySet.update of
    # effective_on, raw SQL) must set it too — the column has no default, so a bulk insert
    # that forgets it fails instead of silently never renewing.
    anniversary_md = models.PositiveSmallIntegerField(_("周年日（月日）"), editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    insurer_lookup = "product__insurer"

    class Meta:
        verbose_name = _("保单")
        verbose_name_plural = _("保单")
        ordering = ["-effective_on", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__gt=models.F("effective_on")),
                name="policy_expires_after_effective",
            ),
        ]
        indexes = [
            # The anniversary job: today's month-day among the policies in force.
            models.Index(fields=["anniversary_md", "status"], name="policy_anniversary"),
            # The status sweep: policies in force whose term has ended.
            models.Index(fields=["status", "expires_on"], name="policy_status_expiry"),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.anniversary_md = anniversary_md(self.effective_on)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "effective_on" in update_fields:
            kwargs["update_fields"] = {*update_fields, "anniversary_md"}
        super().save(*args, **kwargs)


def anniversary_md(effective_on: date) -> int:
    """The month-day key of a policy's anniversaries: 2 January → 102, 29 February → 229."""
    return effective_on.month * 100 + effective_on.day


class PolicyMember(models.Model):
    """An insured person on a policy, with the insurer's member reference."""

    class Relation(models.TextChoices):
        SELF = "self", _("本人")
        SPOUSE = "spouse", _("配偶")
        CHILD = "child", _("子女")
        PARENT = "parent", _("父母")
        OTHER = "other", _("其他")

    policy = models.ForeignKey(
        Policy, verbose_name=_("保单"), on_delete=models.CASCADE, related_name="members"
    )
    person = models.ForeignKey(
        Person, verbose_name=_("被保险人"), on_delete=models.PROTECT, related_name="memberships"
    )
    ref = models.CharField(_("被保险人编号"), max_length=40)
    relation = models.CharField(_("与投保人关系"), max_length=10, choices=Relation.choices)

    insurer_lookup = "policy__product__insurer"

    class Meta:
        verbose_name = _("被保险人")
        verbose_name_plural = _("被保险人")
        ordering = ["policy", "id"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "ref"], name="unique_member_ref"),
            models.UniqueConstraint(fields=["policy", "person"], name="unique_member_person"),
        ]

    def __str__(self) -> str:
        return f"{self.policy.number}/{self.ref}"


class Hospitalisation(models.Model):
    class Ward(models.TextChoices):
        ORDINARY = "ordinary", _("普通病房")
        ICU = "icu", _("ICU")
        VIP = "vip", _("VIP病房")
        SPECIAL_NEEDS = "special_needs", _("特需病房")
        REHAB_SANATORIUM = "rehab_sanatorium", _("康复疗养病房")

    person = models.ForeignKey(
        Person, verbose_name=_("患者"), on_delete=models.CASCADE, related_name="hospitalisations"
    )
    hospital = models.CharField(_("医院"), max_length=200)
    region = models.ForeignKey(
        "coverage.Region",
        verbose_name=_("医院所在地"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    admitted_on = models.DateField(_("入院日期"))
    discharged_on = models.DateField(_("出院日期"), null=True, blank=True)
    day_surgery = models.BooleanField(_("日间手术"), default=False)
    ward = models.CharField(
        _("病房类型"), max_length=20, choices=Ward.choices, default=Ward.ORDINARY
    )
    pregnancy_related = models.BooleanField(_("妊娠相关"), default=False)

    class Meta:
        verbose_name = _("住院记录")
        verbose_name_plural = _("住院记录")
        ordering = ["-admitted_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=models.F("admitted_on")),
                name="discharge_not_before_admission",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hospital} {self.admitted_on:%Y-%m-%d}"

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        return Q(person__in=Person.objects.filter(Person.insurer_q(ids)))


class Diagnosis(models.Model):
    person = models.ForeignKey(
        Person, verbose_name=_("患者"), on_delete=models.CASCADE, related_name="diagnoses"
    )
    disease = models.ForeignKey(
        "coverage.ListEntry",
        verbose_name=_("疾病（名单）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    disease_text = models.CharField(_("疾病（文字）"), max_length=200, blank=True)
    confirmed = models.BooleanField(_("已确诊"), default=False, help_text=_("否则为疑似"))
    diagnosed_on = models.DateField(_("诊断日期"))
    first_diagnosed_on = models.DateField(_("初次确诊日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("诊断")
        verbose_name_plural = _("诊断")
        ordering = ["-diagnosed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(disease__isnull=False) | ~Q(disease_text=""),
                name="diagnosis_names_a_disease",
            ),
        ]

    def __str__(self) -> str:
        return self.disease_text or str(self.disease)

    @classmethod
    def insurer_q(cls, ids: frozenset[int]) -> Q:
        return Q(person__in=Person.objects.filter(Person.insurer_q(ids)))
