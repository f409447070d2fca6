from django.db import models
from django.utils.translation import gettext_lazy as _


class CoverageList(models.Model):
    """A named annex list a benefit depends on (cities, hospitals, drugs, diseases …).

    The catalogue creates every list the handbooks name; the rows themselves arrive through
    the annex import.
    """

    class Kind(models.TextChoices):
        CITY = "city", _("城市")
        HOSPITAL = "hospital", _("医院")
        PHARMACY = "pharmacy", _("药房")
        DRUG = "drug", _("药品")
        DEVICE = "device", _("医疗器械")
        DISEASE = "disease", _("疾病")

    class Scope(models.TextChoices):
        URBAN_DISTRICTS = "urban_districts", _("仅市区（不含下辖县、县级市）")
        WHOLE_PREFECTURE = "whole_prefecture", _("全市（含下辖县市）")
        LISTED_COUNTIES = "listed_counties", _("市区及所列区县")

    code = models.CharField(_("代码"), max_length=80, unique=True)
    title = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    insurer = models.ForeignKey(
        "benefits.Insurer",
        verbose_name=_("保险公司"),
        on_delete=models.PROTECT,
        related_name="coverage_lists",
    )
    source = models.CharField(_("出处"), max_length=200, help_text=_("手册中的附件或条款编号"))
    scope = models.CharField(_("范围"), max_length=20, choices=Scope.choices, blank=True)
    printed = models.BooleanField(
        _("手册已印出"), default=True, help_text=_("手册只给出二维码的名单为否，待导入")
    )
    loaded_digest = models.CharField(max_length=64, blank=True, editable=False)
    # Digest of the last imported content, so re-importing an unchanged file writes nothing.
    content_digest = models.CharField(max_length=64, blank=True, editable=False)
    imported_at = models.DateTimeField(_("最近导入"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    insurer_lookup = "insurer"

    class Meta:
        verbose_name = _("覆盖名单")
        verbose_name_plural = _("覆盖名单")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.title}（{self.code}）"


class Region(models.Model):
    """A national administrative division (province, prefecture or county level)."""

    class Level(models.IntegerChoices):
        PROVINCE = 1, _("省级")
        PREFECTURE = 2, _("地级")
        COUNTY = 3, _("县级")

    code = models.CharField(_("区划代码"), max_length=6, unique=True)
    name = models.CharField(_("名称"), max_length=60, db_index=True)
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    province_code = models.CharField(_("省级代码"), max_length=6, db_index=True)
    longitude = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class RegionAlias(models.Model):
    """A name the printed annexes use that the official data does not (typo, old name …)."""

    class Kind(models.TextChoices):
        TYPO = "typo", _("笔误")
        RENAMED = "renamed", _("更名")
        MERGED = "merged", _("撤并")
        DOWNGRADED = "downgraded", _("降级")
        SHORT_NAME = "short_name", _("简称")

    alias = models.CharField(_("别名"), max_length=60, db_index=True)
    region = models.ForeignKey(
        Region, verbose_name=_("指向"), on_delete=models.PROTECT, related_name="aliases"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    valid_from = models.DateField(_("启用日期"), null=True, blank=True)
    valid_to = models.DateField(_("停用日期"), null=True, blank=True)
    source = models.CharField(_("依据"), max_length=200, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("区划别名")
        verbose_name_plural = _("区划别名")
        ordering = ["alias"]
        constraints = [
            models.UniqueConstraint(fields=["alias", "region"], name="unique_alias_per_region")
        ]

    def __str__(self) -> str:
        return f"{self.alias} → {self.region.name}"


class UnresolvedName(models.Model):
    """A printed name no rule or alias resolved: an admin adds an alias or fixes the file."""

    name = models.CharField(_("名称"), max_length=100)
    province = models.CharField(_("所在省份（文件中）"), max_length=60, blank=True)
    coverage_list = models.ForeignKey(
        CoverageList, verbose_name=_("名单"), on_delete=models.CASCADE, related_name="unresolved"
    )
    first_seen_at = models.DateTimeField(_("首次出现"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("最近出现"), auto_now=True)
    resolved = models.BooleanField(_("已处理"), default=False)

    insurer_lookup = "coverage_list__insurer"

    class Meta:
        verbose_name = _("待确认地名")
        verbose_name_plural = _("待确认地名")
        ordering = ["resolved", "-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["coverage_list", "name", "province"], name="unique_unresolved_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CoverageListMember(models.Model):
    """A region in a city list: a city, or one listed county of it."""

    coverage_list = models.ForeignKey(
        CoverageList, verbose_name=_("名单"), on_delete=models.CASCADE, related_name="members"
    )
    region = models.ForeignKey(
        Region, verbose_name=_("城市"), on_delete=models.PROTECT, related_name="+"
    )
    county = models.ForeignKey(
        Region,
        verbose_name=_("区县"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    hospital_count = models.PositiveIntegerField(_("医院数量"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    printed_name = models.CharField(_("原文名称"), max_length=100)
    line = models.PositiveIntegerField(_("文件行号"))

    insurer_lookup = "coverage_list__insurer"

    class Meta:
        verbose_name = _("名单成员")
        verbose_name_plural = _("名单成员")
        ordering = ["coverage_list", "line"]
        constraints = [
            # Partial indexes: a city once, and each of its counties once (SQLite has no
            # NULLS NOT DISTINCT).
            models.UniqueConstraint(
                fields=["coverage_list", "region"],
                condition=models.Q(county__isnull=True),
                name="unique_member_city",
            ),
            models.UniqueConstraint(
                fields=["coverage_list", "region", "county"],
                condition=models.Q(county__isnull=False),
                name="unique_member_county",
            ),
        ]

    def __str__(self) -> str:
        return self.printed_name


class ListEntry(models.Model):
    """A row of a non-city list (hospital, pharmacy, drug, device, disease), typed by the
    list's kind; ``attributes`` holds the kind's other printed columns."""

    coverage_list = models.ForeignKey(
        CoverageList, verbose_name=_("名单"), on_delete=models.CASCADE, related_name="entries"
    )
    name = models.CharField(_("名称"), max_length=200)
    code = models.CharField(_("编号"), max_length=40, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("所在地"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    attributes = models.JSONField(_("其他字段"), default=dict, blank=True)
    line = models.PositiveIntegerField(_("文件行号"))

    insurer_lookup = "coverage_list__insurer"

    class Meta:
        verbose_name = _("名单条目")
        verbose_name_plural = _("名单条目")
        ordering = ["coverage_list", "line"]

    def __str__(self) -> str:
        return self.name
