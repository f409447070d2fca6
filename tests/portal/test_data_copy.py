"""A policyholder's copy of their data (PIPL art. 45), downloaded from the privacy page:
their policies, the members they act for, those members' requests, the documents list
(names and dates, never the files), their messages and consents; as JSON and as a
formula-safe xlsx; only their own; each download in the access log; a fixed number of
queries however much there is."""

from __future__ import annotations

import json
from datetime import date
from io import BytesIO

import pytest
from auditlog.models import LogEntry
from django.urls import reverse
from openpyxl import load_workbook

from benefits.demo import policy_with_members
from benefits.policies.consent import consent_grant
from bookings.documents.services import document_add
from tests.clock import at
from tests.factories import MINIMAL_PDF, outpatient_request, policyholder_login

pytestmark = pytest.mark.django_db
OPS_NOTE = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path


def family_policy(number: str, phone: str, names=("王一", "李二")):
    return policy_with_members(
        number=number,
        product="pingan.health",
        members=[(names[0], date(1985, 1, 1), "self"), (names[1], date(1986, 2, 2), "spouse")],
        effective_on=date(2026, 1, 2),
        phones={0: phone},
    )


def with_requests(policy, count: int, documents: int = 1):
    """``count`` requests (one per member, at most two), each with ``documents`` records
    and a records consent."""
    requests = []
    for index, member_ref in enumerate(["M1", "M2"][:count]):
        request = outpatient_request(
            policy=policy,
            member_ref=member_ref,
            at=at(2026, 3, 2, 10),
            planned_at=at(2026, 3, 10 + index, 9),
            note=OPS_NOTE,
            submission_key=f"copy-{policy.number}-{index}",
            records_consent_given=True,
        )
        for number in range(documents):
            document_add(request, name=f"门诊病历{number}.pdf", data=MINIMAL_PDF, actor=OPS_ACTOR)
        requests.append(request)
    return requests


from portal.kernel.actor import Actor  # noqa: E402 - beside its only use

OPS_ACTOR = Actor(label="insurer:ops")


def download(client, file_format: str):
    return client.get(reverse("portal:data_copy", args=[file_format]))


def test_the_json_copy_holds_every_section_and_only_the_persons_own(client):
    # given a holder with a request, a record, a message and consents, and a stranger
    policy = family_policy("COPY-1", "13800000121")
    consent_grant(policy.holder, channel="portal")
    (request,) = with_requests(policy, 1)
    stranger = family_policy("COPY-2", "13800000122", names=("赵四", "钱五"))
    (theirs,) = with_requests(stranger, 1)
    policyholder_login(client, policy.holder)
    # when they download the JSON copy
    response = download(client, "json")
    # then it is theirs, whole, with no file content and no one else's rows
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Cache-Control"] == "private, no-store"
    copy = json.loads(response.content)
    assert set(copy) == {"保单", "可代办的被保险人", "服务申请", "资料", "消息", "同意记录"}
    assert [p["保单号"] for p in copy["保单"]] == ["COPY-1"]
    assert {m["姓名"] for m in copy["可代办的被保险人"]} == {"王一", "李二"}
    assert [r["申请编号"] for r in copy["服务申请"]] == [request.ref]
    assert copy["资料"][0]["文件名"] == "门诊病历0.pdf"
    assert "storage_name" not in response.content.decode()
    assert request.documents.get().storage_name not in response.content.decode()
    assert any(m["申请编号"] == request.ref for m in copy["消息"])
    kinds = {c["类型"] for c in copy["同意记录"]}
    assert kinds == {"处理健康信息", "向服务商提供申请资料"}
    text = response.content.decode()
    assert theirs.ref not in text and "赵四" not in text and "COPY-2" not in text


def test_the_xlsx_copy_is_readable_and_formula_safe(client):
    policy = family_policy("COPY-X", "13800000123")
    with_requests(policy, 1)
    policyholder_login(client, policy.holder)

    response = download(client, "xlsx")

    assert response.status_code == 200
    book = load_workbook(BytesIO(response.content))
    assert book.sheetnames == ["保单", "可代办的被保险人", "服务申请", "资料", "消息", "同意记录"]
    sheet = book["服务申请"]
    headers = [cell.value for cell in sheet[1]]
    note = sheet.cell(row=2, column=headers.index("备注") + 1).value
    assert note == "'" + OPS_NOTE  # text, never a formula a spreadsheet would run
    assert book["资料"].cell(row=2, column=2).value == "门诊病历0.pdf"


def test_each_download_is_in_the_access_log(client):
    policy = family_policy("COPY-LOG", "13800000124")
    user = policyholder_login(client, policy.holder)

    download(client, "json")
    download(client, "xlsx")

    entries = LogEntry.objects.filter(
        action=LogEntry.Action.ACCESS, object_pk=str(policy.holder.pk)
    )
    assert [(e.actor_id, e.additional_data["format"]) for e in entries.order_by("id")] == [
        (user.pk, "json"),
        (user.pk, "xlsx"),
    ]


def test_an_unknown_format_is_404_and_a_visitor_is_sent_to_log_in(client):
    policy = family_policy("COPY-FMT", "13800000125")
    assert download(client, "json").status_code == 302
    policyholder_login(client, policy.holder)
    assert download(client, "csv").status_code == 404


# The family shares one 门诊协助 quota: one request, more records and messages.
@pytest.mark.parametrize(("count", "documents"), [(1, 1), (1, 6)])
def test_the_copy_costs_the_same_queries_however_much_there_is(
    client, count, documents, django_assert_max_num_queries
):
    policy = family_policy(f"COPY-Q{documents}", f"1380000013{documents}")
    consent_grant(policy.holder, channel="portal")
    with_requests(policy, count, documents)
    policyholder_login(client, policy.holder)
    # session, user, account; members, policies, requests, documents, messages, health
    # consents, records consents; the access log's insert (its content type is cached)
    with django_assert_max_num_queries(11):
        assert download(client, "json").status_code == 200
