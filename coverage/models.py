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
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("覆盖名单")
        verbose_name_plural = _("覆盖名单")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.title}（{self.code}）"
