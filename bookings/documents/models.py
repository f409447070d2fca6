"""The records policyholders upload (and vendors' reports), and who opened them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Document(models.Model):
    """A record the policyholder uploaded (or a vendor's report). The file lives in private
    storage under a random name; ``display_name`` is only ever shown."""

    request = models.ForeignKey(
        "bookings.ServiceRequest",
        verbose_name=_("服务申请"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    requirement = models.CharField(_("资料类型"), max_length=60, blank=True)
    display_name = models.CharField(_("文件名"), max_length=120)
    storage_name = models.CharField(max_length=200, unique=True, editable=False)
    content_type = models.CharField(_("类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64, editable=False)
    # e.g. "pdf_javascript": shown to reviewers, never served inline.
    flags = models.JSONField(_("风险标记"), default=list, blank=True)
    from_vendor = models.BooleanField(_("服务商上传"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    # Set when the retention job deleted the stored file (bookings.documents.retention):
    # the row stays, so the request's list and timeline still say what was there.
    purged_at = models.DateTimeField(_("文件已按保存期限删除"), null=True, blank=True)

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("资料")
        verbose_name_plural = _("资料")
        ordering = ["uploaded_at", "id"]
        # Opening a record's file is more than seeing that it exists (auditors see the
        # list and the access log, not the records).
        permissions = [("open_document", _("打开客户资料文件"))]

    def __str__(self) -> str:
        return self.display_name


class DocumentAccess(models.Model):
    """Who opened which record, when, from where (PIPL access log). Never deleted with the
    user who read it."""

    document = models.ForeignKey(
        Document, verbose_name=_("资料"), on_delete=models.CASCADE, related_name="accesses"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("访问人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("访问方"), max_length=60)
    purpose = models.CharField(_("用途"), max_length=30)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    insurer_lookup = "document__request__policy__product__insurer"

    class Meta:
        verbose_name = _("资料访问记录")
        verbose_name_plural = _("资料访问记录")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.document_id}@{self.at:%Y-%m-%d %H:%M}"


class RecordsConsent(models.Model):
    """A person's consent to provide one request's records to the vendor that serves it
    (PIPL art. 23: a separate consent to provide personal information to another handler),
    as it was asked: the text's version, the purpose and the vendors named, when, through
    which channel, and (hotline) that the agent read it out. ``given`` False: asked and
    declined. Never edited otherwise than withdrawn; a new answer is a new row."""

    request = models.ForeignKey(
        "bookings.ServiceRequest",
        verbose_name=_("服务申请"),
        on_delete=models.CASCADE,
        related_name="records_consents",
    )
    person = models.ForeignKey(
        "benefits.Person", verbose_name=_("同意人"), on_delete=models.CASCADE, related_name="+"
    )
    version = models.CharField(_("文本版本"), max_length=40)
    purpose = models.TextField(_("提供目的（同意时展示的文本）"))
    recipients = models.JSONField(_("接收方（同意时展示）"), default=list, blank=True)
    channel = models.CharField(_("渠道"), max_length=20)
    read_out = models.BooleanField(_("坐席已宣读"), default=False)
    given = models.BooleanField(_("已同意"), default=True)
    answered_at = models.DateTimeField(_("答复时间"))
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("记录人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    insurer_lookup = "request__policy__product__insurer"

    class Meta:
        verbose_name = _("资料提供同意")
        verbose_name_plural = _("资料提供同意")
        ordering = ["-answered_at", "-id"]
        indexes = [models.Index(fields=["request", "-answered_at"])]

    def __str__(self) -> str:
        return f"{self.request_id} {self.version}"

    @property
    def standing(self) -> bool:
        return self.given and self.withdrawn_at is None
