"""Builders for the access tests (tests/portal/test_access_matrix.py): one world with an
object of insurer 1 (平安) behind every URL, one client per kind of caller, and every URL of
the site — URL patterns and API operations — enumerated from the URL conf and the OpenAPI
schema, each with the arguments that name insurer 1's objects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from benefits.models import (
    Benefit,
    CalendarDay,
    CalendarYear,
    ConsentRecord,
    Diagnosis,
    Hospitalisation,
    Insurer,
    PhoneChange,
    Policy,
    Product,
    Service,
    Vendor,
)
from benefits.policies.consent import consent_grant
from bookings.documents.services import document_add, document_open
from bookings.lifecycle.services import request_transition
from bookings.models import (
    Document,
    DocumentAccess,
    Notification,
    ServiceRequest,
    VendorAccount,
    VendorToken,
    VendorWebhook,
    WebhookDelivery,
)
from bookings.vendors.services import vendor_token_issue
from coverage.models import (
    CoverageList,
    CoverageListMember,
    ListEntry,
    Region,
    RegionAlias,
    UnresolvedName,
)
from portal.kernel.actor import Actor
from portal.kernel.staff_auth import staff_token_issue
from portal.models import PolicyholderAccount, SmsMessage, StaffToken
from portal.site.api import api, vendor_api
from tests.factories import (
    MINIMAL_PDF,
    OUTPATIENT_ASSIST,
    POLICYHOLDER,
    StaffFactory,
    policyholder_login,
    staff_member,
)
from tests.portal.test_portal_pages import family, submit

# The callers of the matrix, in the order of the table's columns.
ROLES = (
    "anonymous",
    "holder_a",  # policyholder A: holds insurer 1's policy behind every object URL
    "holder_b",  # policyholder B: holds another policy of insurer 1
    "vendor_x",  # the vendor insurer 1's request is assigned to (平安健康服务团队)
    "vendor_y",  # another vendor (安盛天平特约服务商)
    "staff_no_role",
    "operator_1",  # 坐席/运营 of insurer 1 (pingan)
    "operator_2",  # 坐席/运营 of insurer 2 (axa)
    "auditor_1",  # 审计 of insurer 1
    "superuser",
)
INSURER_1, INSURER_2 = "pingan", "axa"
VENDOR_X, VENDOR_Y = "pingan_team", "axa_team"
OPS = Actor(label="insurer:ops")
CITY_LIST = "pingan.health.escort_cities"  # a city list of insurer 1
HOSPITAL_LIST = "pingan.health.mdt_hospitals"  # a list with entries (not members)


@dataclass
class World:
    """Insurer 1's objects behind the URLs, and a logged-in client per role."""

    policy: Policy
    other_policy: Policy  # policyholder B's
    request: ServiceRequest  # on ``policy``, approved and assigned to vendor X
    document: Document
    users: dict[str, Any]
    vendor_tokens: dict[str, str]  # raw tokens of vendor X and Y
    admin_objects: dict[type[Model], Model]
    clients: dict[str, Client] = field(default_factory=dict)


def build_world() -> World:
    """Everything once: the matrix reads it from every role. Needs PRIVATE_MEDIA_ROOT set."""
    user_model = get_user_model()
    policy = family("ACCESS-A", "13800000101")
    other_policy = family("ACCESS-B", "13800000102")
    request = submit(policy)
    request_transition(request, "approved", actor=OPS)
    request_transition(request, "assigned", actor=OPS, vendor=Vendor.objects.get(code=VENDOR_X))
    request.refresh_from_db()
    document = document_add(request, name="门诊病历.pdf", data=MINIMAL_PDF, actor=POLICYHOLDER)
    document_open(document, actor=POLICYHOLDER, purpose="portal_view")
    holder = policy.holder

    users = {
        "staff_no_role": StaffFactory(),
        "operator_1": staff_member("operator", [INSURER_1]),
        "operator_2": staff_member("operator", [INSURER_2]),
        "auditor_1": staff_member("auditor", [INSURER_1]),
        "superuser": user_model.objects.create_superuser(
            username="matrix-root", password="root-password-1"
        ),
    }
    vendor_x = Vendor.objects.get(code=VENDOR_X)
    vendor_tokens = {
        "vendor_x": vendor_token_issue(vendor=vendor_x, name="平安团队系统")[1],
        "vendor_y": vendor_token_issue(vendor=Vendor.objects.get(code=VENDOR_Y), name="安盛")[1],
    }
    webhook = VendorWebhook.objects.create(
        vendor=vendor_x, url="https://example.com/hook", secret="s"
    )
    WebhookDelivery.objects.create(webhook=webhook, event="request.assigned", payload={})
    workbench_user = user_model.objects.create_user(username="matrix-vendor-x", password="v-pass-1")
    vendor_account = VendorAccount.objects.create(
        user=workbench_user, vendor=vendor_x, phone="13900000109"
    )
    staff_token_issue(user=users["operator_1"], name="operator 1's integration")
    SmsMessage.objects.create(phone=holder.phone, template="login_code", body="验证码为123456")
    Hospitalisation.objects.create(
        person=holder, hospital="复旦大学附属华山医院", admitted_on=date(2026, 3, 1)
    )
    Diagnosis.objects.create(person=holder, disease_text="肺炎", diagnosed_on=date(2026, 3, 2))
    PhoneChange.objects.create(
        person=holder, new_masked="138****0101", actor_label="test", channel="admin"
    )
    consent_grant(holder, channel="portal")
    city_list = CoverageList.objects.get(code=CITY_LIST)
    UnresolvedName.objects.create(name="不存在市", province="湖北", coverage_list=city_list)
    CalendarDay.objects.create(date=date(2027, 1, 1), kind="holiday", name="元旦", source="test")
    CalendarYear.objects.create(year=2027)
    admin_objects: dict[type[Model], Model] = {
        Group: Group.objects.order_by("pk").first(),
        user_model: users["operator_1"],
        Insurer: Insurer.objects.get(code=INSURER_1),
        Vendor: vendor_x,
        Service: request.benefit.service,
        Product: policy.product,
        Benefit: request.benefit,
        Policy: policy,
        PhoneChange: PhoneChange.objects.get(person=holder),
        ConsentRecord: ConsentRecord.objects.get(person=holder),
        Hospitalisation: Hospitalisation.objects.get(person=holder),
        Diagnosis: Diagnosis.objects.get(person=holder),
        ServiceRequest: request,
        DocumentAccess: DocumentAccess.objects.get(document=document),
        Notification: Notification.objects.filter(request=request).first(),
        VendorToken: VendorToken.objects.get(vendor=vendor_x),
        VendorAccount: vendor_account,
        VendorWebhook: webhook,
        WebhookDelivery: webhook.deliveries.get(),
        CoverageList: city_list,
        CoverageListMember: city_list.members.order_by("pk").first(),
        ListEntry: ListEntry.objects.filter(coverage_list__code=HOSPITAL_LIST).first(),
        Region: Region.objects.get(code="310000"),
        RegionAlias: RegionAlias.objects.order_by("pk").first(),
        UnresolvedName: UnresolvedName.objects.get(),
        CalendarDay: CalendarDay.objects.get(),
        CalendarYear: CalendarYear.objects.get(),
        StaffToken: StaffToken.objects.get(user=users["operator_1"]),
        SmsMessage: SmsMessage.objects.get(),
        **_library_rows(policy),
        **_settlement_rows(request),
        **_complaint_rows(request),
    }
    world = World(
        policy=policy,
        other_policy=other_policy,
        request=request,
        document=document,
        users=users,
        vendor_tokens=vendor_tokens,
        admin_objects=admin_objects,
    )
    world.clients = {role: role_client(world, role) for role in ROLES}
    admin_objects[PolicyholderAccount] = PolicyholderAccount.objects.get(person=holder)
    return world


def _complaint_rows(request: ServiceRequest) -> dict[type[Model], Model]:
    """Policyholder A's complaint about ``request`` (insurer 1, vendor X)."""
    from bookings.complaints.services import complaint_file
    from bookings.models import Complaint

    complaint = complaint_file(
        policy=request.policy,
        person=request.policy.holder,
        request=request,
        category="delay",
        description="服务商迟迟没有联系我",
        channel="portal",
        actor=POLICYHOLDER,
    )
    return {Complaint: complaint}


def _settlement_rows(request: ServiceRequest) -> dict[type[Model], Model]:
    """Insurer 1's contract price, net premium, statement and line (vendor X, March). The
    statement is confirmed: reading the month through the staff API re-prices a draft."""
    from bookings.models import ContractPrice, ProductPremium, StatementLine, VendorStatement

    benefit = request.benefit
    statement = VendorStatement.objects.create(
        insurer=benefit.product.insurer,
        vendor=request.vendor,
        month=date(2026, 3, 1),
        state=VendorStatement.State.CONFIRMED,
    )
    return {
        ContractPrice: ContractPrice.objects.create(
            vendor=request.vendor, benefit=benefit, basis="times", effective_from=date(2026, 1, 1)
        ),
        ProductPremium: ProductPremium.objects.create(
            product=benefit.product, year=2026, net_premium=1000000
        ),
        VendorStatement: statement,
        StatementLine: StatementLine.objects.create(
            statement=statement,
            request=request,
            request_ref=request.ref,
            benefit=benefit,
            completed_on=date(2026, 3, 2),
            outcome="completed",
        ),
    }


def _library_rows(policy: Policy) -> dict[type[Model], Model]:
    """A row for each admin page of the libraries: login attempts, Celery beat schedules,
    and the change history entry of insurer 1's policy."""
    from auditlog.models import LogEntry
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_celery_beat.models import (
        ClockedSchedule,
        CrontabSchedule,
        IntervalSchedule,
        PeriodicTask,
        SolarSchedule,
    )

    seen = {"user_agent": "test", "ip_address": "203.0.113.9", "username": "x", "path_info": "/"}
    interval = IntervalSchedule.objects.create(every=10, period="seconds")
    history = LogEntry.objects.get_for_object(policy).first() or LogEntry.objects.log_create(
        policy, action=LogEntry.Action.CREATE, changes={"number": [None, policy.number]}
    )
    return {
        LogEntry: history,
        AccessAttempt: AccessAttempt.objects.create(
            **seen, get_data="", post_data="", failures_since_start=1
        ),
        AccessLog: AccessLog.objects.create(**seen),
        AccessFailureLog: AccessFailureLog.objects.create(**seen),
        IntervalSchedule: interval,
        CrontabSchedule: CrontabSchedule.objects.create(),
        SolarSchedule: SolarSchedule.objects.create(
            event="sunrise", latitude="31.23", longitude="121.47"
        ),
        ClockedSchedule: ClockedSchedule.objects.create(clocked_time=timezone.now()),
        PeriodicTask: PeriodicTask.objects.create(
            name="matrix", task="bookings.tasks.nothing", interval=interval
        ),
    }


def role_client(world: World, role: str) -> Client:
    """A client acting as ``role``: a session for people, a Bearer token for vendors.
    Exceptions become 500 answers, so the matrix reports them like any other status."""
    if role in world.vendor_tokens:
        return Client(
            raise_request_exception=False,
            headers={"authorization": f"Bearer {world.vendor_tokens[role]}"},
        )
    client = Client(raise_request_exception=False)
    if role == "holder_a":
        policyholder_login(client, world.policy.holder)
    elif role == "holder_b":
        policyholder_login(client, world.other_policy.holder)
    elif role in world.users:
        client.force_login(world.users[role])
    return client


def staff_bearer(user: Any) -> dict[str, str]:
    """Headers for the staff API with a new token of ``user``."""
    return {"authorization": f"Bearer {staff_token_issue(user=user, name='tests')[1]}"}


# --- the URLs ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    key: str  # the URL name ("admin:benefits_policy_change"), else the route itself
    route: str
    name: str | None
    params: tuple[str, ...]


def url_routes() -> Iterator[Route]:
    """Every URL pattern of the URL conf, resolvers walked recursively."""

    def params_of(pattern: Any) -> tuple[str, ...]:
        converters = getattr(pattern, "converters", None)
        if converters:
            return tuple(converters)
        return tuple(pattern.regex.groupindex)

    def walk(patterns: list, prefix: str, namespace: str, params: tuple[str, ...]):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            here = params + params_of(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                yield from walk(entry.url_patterns, route, inner, here)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if entry.name and namespace else entry.name
                yield Route(key=name or route, route=route, name=name, params=here)

    yield from walk(get_resolver().url_patterns, "", "", ())


def api_operations() -> dict[str, tuple[str, str]]:
    """``"GET /api/staff/v1/me"`` → (method, path template) for every operation of the
    OpenAPI schema (staff and vendor API)."""
    return {
        f"{method.upper()} {path}": (method.upper(), path)
        for schema in (api.get_openapi_schema(), vendor_api.get_openapi_schema())
        for path, operations in schema["paths"].items()
        for method in operations
    }


def _django_route(path_template: str) -> str:
    return re.sub(r"\{(\w+)\}", r"<\1>", path_template.lstrip("/"))


@dataclass(frozen=True)
class Probe:
    """How the matrix calls one URL: method, address and what to send."""

    method: str
    url: str
    data: Callable[[], Any] | None = None  # built per call (an upload is read once)
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


def admin_model(route: str) -> type[Model] | None:
    """The registered model of ``admin/<app_label>/<model_name>/…``, if any."""
    match = re.match(r"admin/(\w+)/(\w+)/", route)
    if match is None:
        return None
    for model in admin.site._registry:
        if (model._meta.app_label, model._meta.model_name) == match.groups():
            return model
    return None


def probes(world: World) -> dict[str, Probe]:
    """A probe per URL pattern (named, else by route) and per API operation; the URL
    patterns that serve API operations are covered by the operations."""
    operations = api_operations()
    operation_routes = {_django_route(path) for _method, path in operations.values()}
    found: dict[str, Probe] = {}
    for route in url_routes():
        if route.route in operation_routes:
            continue
        assert route.key not in found, f"two URL patterns are both keyed {route.key}"
        found[route.key] = _url_probe(world, route)
    for key, (method, path) in operations.items():
        found[key] = _api_probe(world, method, path)
    return found


def _values(world: World, route: Route) -> dict[str, str]:
    model = admin_model(route.route)
    obj = world.admin_objects.get(model) if model is not None else None
    if obj is None and model is not None:
        # A model registered after this module was written: its first row, if it has one.
        obj = model._default_manager.order_by("pk").first()
    values = {
        "object_id": str(obj.pk) if obj is not None else "",
        "id": str(world.users["operator_1"].pk),
        "pk": str(world.document.pk),  # the admin's document file view
        "content_type_id": str(ContentType.objects.get_for_model(Policy).pk),
        "app_label": "benefits",
        "url": "no-such-page/",
        "member_id": str(world.request.member_id),
        "benefit_code": world.request.benefit.code,
        "ref": world.request.ref,
        "document_id": str(world.document.pk),
        "person_id": str(world.policy.holder_id),  # the customer page
        "file_format": "xlsx",  # the queue's and the customer page's exports
        "event": "contacted",  # a desk step the world's assigned request allows
    }
    if route.key == "admin:view_on_site":
        values["object_id"] = str(world.policy.pk)
    missing = [param for param in route.params if not values.get(param)]
    assert not missing, f"no value for {missing} of {route.key} ({route.route})"
    return {param: values[param] for param in route.params}


# Query strings that make a GET meaningful (a real autocomplete field, a city, a date).
QUERIES = {
    # Policyholder A's phone: one customer of insurer 1 (a redirect to the customer page).
    "admin:customer_search": "?q=13800000101",
    "admin:autocomplete": "?app_label=benefits&model_name=policy&field_name=holder&term=王",
    "GET /api/staff/v1/coverage/lists/{code}/covers": "?region=上海市",
    "GET /api/staff/v1/coverage/resolve": "?name=襄樊",
}


def _url_probe(world: World, route: Route) -> Probe:
    values = _values(world, route)
    if route.name is not None:
        url = reverse(route.name, kwargs=values)
    else:
        # Unnamed: the admin's object redirect (<path:object_id>/) and its catch-all.
        url = "/" + re.sub(
            r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)",
            lambda m: values[m.group(1) or m.group(2)],
            route.route,
        ).rstrip("$")
    url += QUERIES.get(route.key, "")
    if route.key == "portal:request_upload":  # POST only: the upload is what is checked
        return Probe(
            "POST",
            url,
            data=lambda: {"file": SimpleUploadedFile("补充.pdf", MINIMAL_PDF, "application/pdf")},
        )
    if route.key in ("portal:document_delete", "portal:request_rating"):  # POST only
        return Probe("POST", url, data=lambda: {"stars": "5"})
    return Probe("GET", url)


# The APIs whose every POST carries an Idempotency-Key.
IDEMPOTENT_PREFIXES = ("/api/vendor/", "/api/staff/v1/requests", "/api/staff/v1/complaints")


def _api_probe(world: World, method: str, path: str) -> Probe:
    from bookings.models import Complaint

    complaint = world.admin_objects[Complaint]
    url = path.format(
        number=world.policy.number,
        code=CITY_LIST,
        ref=complaint.ref if path.startswith("/api/staff/v1/complaints") else world.request.ref,
        document_id=world.document.pk,
        vendor=world.request.vendor.code if world.request.vendor else "",
        month="2026-03",
        product=world.policy.product.code,
        year=2026,
    )
    key = f"{method} {path}"
    url += QUERIES.get(key, "")
    if method == "GET":
        return Probe("GET", url)
    vendor = {"Idempotency-Key": f"matrix-{path}"}
    if path.endswith("/deliverables"):
        return Probe(
            "POST",
            url,
            data=lambda: {
                "file": SimpleUploadedFile("二诊报告.pdf", MINIMAL_PDF, "application/pdf"),
                "requirement": "二诊报告",
            },
            headers=vendor,
        )
    bodies: dict[str, dict[str, Any]] = {
        "/api/staff/v1/policies": _new_policy_body(),
        "/api/staff/v1/eligibility": {
            "policy": world.policy.number,
            "member": "M1",
            "benefit": OUTPATIENT_ASSIST,
            "at": timezone.now().isoformat(),
        },
        "/api/vendor/v1/requests/{ref}/events": {"event": "contacted"},
        # The staff (hotline) API: a benefit policyholder A can still use (门诊协助 is held
        # by ``request``), and an event the assigned request may take.
        "/api/staff/v1/requests": {
            "policy": world.policy.number,
            "member": "M1",
            "benefit": "pingan.health.vitality_go",
            "context": {"region": "上海市"},
            "channel": "hotline",
        },
        # No such gate on the probe's benefit: an operator gets as far as the gate's check.
        "/api/staff/v1/requests/{ref}/reviews": {"gate": "none", "passed": True, "reason": "x"},
        "/api/staff/v1/requests/{ref}/events": {
            "event": "schedule",
            "at": (timezone.now() + timedelta(days=3)).isoformat(),
        },
        "/api/vendor/v1/requests/{ref}/consumption": {"measure": "times", "amount": "1"},
        "/api/staff/v1/complaints": {
            "policy": world.policy.number,
            "request": world.request.ref,
            "category": "conduct",
            "description": "来电投诉：服务人员态度不好",
        },
    }
    body = json.dumps(bodies[path], ensure_ascii=False)
    return Probe(
        "POST",
        url,
        data=lambda: body,
        content_type="application/json",
        headers=vendor if path.startswith(IDEMPOTENT_PREFIXES) else {},
    )


def _new_policy_body() -> dict[str, Any]:
    """A valid new policy of insurer 1: whoever may write policies gets 201."""
    start = timezone.localdate() - timedelta(days=10)
    return {
        "number": "ACCESS-NEW-1",
        "product": "pingan.health",
        "signed_on": start.isoformat(),
        "effective_on": start.isoformat(),
        "expires_on": (start + timedelta(days=365)).isoformat(),
        "holder": {"name": "新客户", "id_number": "11010519491231002X"},
        "members": [
            {"name": "新客户", "id_number": "11010519491231002X", "ref": "M1", "relation": "self"}
        ],
    }


def call(client: Client, probe: Probe) -> int:
    """The status ``client`` gets for ``probe``; a streamed file is closed unread."""
    kwargs: dict[str, Any] = {"headers": probe.headers}
    if probe.data is not None:
        kwargs["data"] = probe.data()
    if probe.content_type is not None:
        kwargs["content_type"] = probe.content_type
    response = getattr(client, probe.method.lower())(probe.url, **kwargs)
    finish(response)
    return response.status_code


def finish(response: Any) -> None:
    """Read a streamed file to its end through the test client's wrapper, which closes it.
    Calling ``close()`` on it instead sends ``request_finished`` unguarded, and Django's
    ``close_old_connections`` then drops the database connection mid-transaction
    (PostgreSQL: "the connection is closed"; SQLite's in-memory database hides it)."""
    if response.streaming:
        b"".join(response.streaming_content)
