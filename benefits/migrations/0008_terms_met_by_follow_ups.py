"""Terms stored before SLA milestones and follow-ups became terms data.

Until now the SLA engine derived what meets a milestone from its code (tables in
``bookings/sla.py``) and follow-up plans were listed by benefit code in
``bookings/followups.py``. The terms now say it themselves (``met_by``, ``tracked``,
``alternative``, ``follow_ups``) and refuse a milestone that says neither ``met_by`` nor
``tracked: false``. This migration writes those fields into the terms already in the database
from a frozen copy of the old tables, so every stored benefit keeps behaving as before and
still validates, including ones an admin edited (which ``load_catalogue`` keeps).

A record that was unedited since the last load keeps counting as unedited: its
``loaded_digest`` is moved along with the change, so the next ``load_catalogue`` updates it
from the files instead of reporting an admin edit.
"""

import hashlib
import json

from django.db import migrations

# Frozen from bookings/sla.py MET_BY / MET_BY_WHEN_STARTED_ON (before this migration).
_MET_BY = {
    **dict.fromkeys(("records_collected", "records"), "records_complete"),
    **dict.fromkeys(("review", "review_special", "pre_review", "advance_decision"), "approved"),
    **dict.fromkeys(
        (
            "contact",
            "response",
            "agent_response",
            "callback",
            "doctor_callback_day",
            "doctor_callback_night",
            "assessment_response",
            "application_guidance",
        ),
        "contacted",
    ),
    **dict.fromkeys(("feedback", "progress_feedback"), "plan_confirmed"),
    **dict.fromkeys(
        (
            "booked",
            "expert_booked",
            "booking_domestic",
            "booking_overseas",
            "arranged",
            "hospital_arranged",
            "expert_scheduled",
            "escort_assigned",
            "bed_arranged",
            "confirmed",
            "assessment_arranged",
            "carer_arranged",
            "specialist_visit",
            "outpatient_channel",
            "inpatient_channel",
            "drug_purchase",
            "fulfil",
        ),
        "scheduled",
    ),
    **dict.fromkeys(
        (
            "carer_on_duty",
            "home_visit",
            "consultation",
            "phone_consultation",
            "admission",
            "advance_visit",
            "advance_paid",
            "payment",
        ),
        "in_service",
    ),
    **dict.fromkeys(
        (
            "completion",
            "outpatient_completion",
            "inpatient_completion",
            "opinion_report",
            "report",
            "report_domestic",
            "report_overseas",
            "guide_issued",
            "delivery_local",
            "delivery_remote",
            "delivery_cross_province",
            "discharge_settlement",
        ),
        "completed",
    ),
}
_MET_BY_WHEN_STARTED_ON = {("progress_feedback", "plan_confirmed"): "scheduled"}
# Frozen from bookings/sla.py ALTERNATIVES, with the group names the catalogue now uses.
_ALTERNATIVES = (
    ("callback", ("doctor_callback_day", "doctor_callback_night"), "inside_hours"),
    ("review", ("review", "review_special"), "ordinary"),
    ("delivery", ("delivery_local", "delivery_remote"), "most_lenient"),
    ("delivery", ("delivery_local", "delivery_cross_province"), "most_lenient"),
    ("booking", ("booking_domestic", "booking_overseas"), "most_lenient"),
    ("report", ("report_domestic", "report_overseas"), "most_lenient"),
    ("channel", ("outpatient_channel", "inpatient_channel"), "most_lenient"),
    ("completion", ("outpatient_completion", "inpatient_completion"), "most_lenient"),
    ("response", ("response", "assessment_response"), "most_lenient"),
    ("arrangement", ("confirmed", "assessment_arranged"), "most_lenient"),
)
# Frozen from bookings/followups.py FOLLOW_UP_PLANS.
_FOLLOW_UPS = {
    "pingan.health.rehab_followup": [
        {
            "code": "rehab_check_in",
            "label": "院后主动随访：康复团队致电跟踪康复状况",
            "starts_on": "completed",
            "every": {"amount": "1", "unit": "months"},
            "count": 3,
            "clause": "10.3 6.2）主动跟踪周期最长持续 3 个月，且共计完成 3次",
        }
    ],
    "axa.zysh.charity_drug": [
        {
            "code": "disease_management",
            "label": "每月回访被保险人进行病程管理",
            "starts_on": "completed",
            "every": {"amount": "1", "unit": "months"},
            "count": 12,
            "until_policy_expiry": True,
            "clause": "慈善赠药服务·服务流程4 “提供病程管理服务 每月回访被保险人进行病程管理”",
        }
    ],
}
_UNTRACKED_NOTE = "不跟踪：此前的时效引擎不认识这个节点代码，从未跟踪过它（迁移时写明）。"


def _digest(values):
    canonical = json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _values(benefit):
    """The comparable form ``load_catalogue`` digests (frozen copy)."""
    return {
        "product": benefit.product.code,
        "service": benefit.service.code,
        "parent": benefit.parent.code if benefit.parent_id else None,
        "position": benefit.position,
        "name": benefit.name,
        "vendor": benefit.vendor.code,
        "terms": benefit.terms,
        "source_file": benefit.source_file,
        "source_section": benefit.source_section,
        "clause_text": benefit.clause_text,
    }


def _migrated_terms(code, terms):
    terms = json.loads(json.dumps(terms))
    sla = terms.get("sla") or []
    present = [m.get("code") for m in sla]
    for milestone in sla:
        if "met_by" in milestone or "tracked" in milestone:
            continue
        met_by = _MET_BY_WHEN_STARTED_ON.get(
            (milestone.get("code"), milestone.get("starts_on"))
        ) or _MET_BY.get(milestone.get("code"))
        if met_by is None:
            milestone["tracked"] = False
            milestone["note"] = (milestone.get("note", "") + _UNTRACKED_NOTE).strip()
            continue
        milestone["met_by"] = met_by
    for group, codes, choice in _ALTERNATIVES:
        if sum(c in present for c in codes) < 2:
            continue
        for milestone in sla:
            if milestone.get("code") in codes and milestone.get("met_by"):
                milestone.setdefault("alternative", {"group": group, "choice": choice})
    if code in _FOLLOW_UPS and "follow_ups" not in terms:
        terms["follow_ups"] = _FOLLOW_UPS[code]
    return terms


def forwards(apps, schema_editor):
    Benefit = apps.get_model("benefits", "Benefit")
    rows = Benefit.objects.select_related("product", "service", "parent", "vendor").order_by("pk")
    for benefit in rows:
        terms = _migrated_terms(benefit.code, benefit.terms or {})
        if terms == benefit.terms:
            continue
        unedited = _digest(_values(benefit)) == benefit.loaded_digest
        benefit.terms = terms
        fields = ["terms"]
        if unedited:
            benefit.loaded_digest = _digest(_values(benefit))
            fields.append("loaded_digest")
        benefit.save(update_fields=fields)


def backwards(apps, schema_editor):
    """Drop the fields the previous schema refuses; the engine then reads its tables again."""
    Benefit = apps.get_model("benefits", "Benefit")
    for benefit in Benefit.objects.order_by("pk"):
        terms = json.loads(json.dumps(benefit.terms or {}))
        terms.pop("follow_ups", None)
        for milestone in terms.get("sla") or []:
            for key in ("met_by", "tracked", "alternative"):
                milestone.pop(key, None)
        if terms != benefit.terms:
            benefit.terms = terms
            benefit.save(update_fields=["terms"])


class Migration(migrations.Migration):
    dependencies = [("benefits", "0007_phone_changes_backup_vendors")]

    operations = [migrations.RunPython(forwards, backwards)]
