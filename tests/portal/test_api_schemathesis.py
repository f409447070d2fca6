"""Schemathesis against both API schemas with a valid token: generated requests (valid
and invalid) never get a 500, and every answer matches what the schema declares (status
code, content type, body). Bounded: a fixed number of examples per operation, derandomized
(the same cases on every run), so it takes well under a few minutes."""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from benefits.models import Vendor
from bookings.vendors.services import vendor_token_issue
from portal.kernel.staff_auth import staff_token_issue
from portal.site.api import api, vendor_api
from tests.bookings.test_vendor_api import assigned_request
from tests.factories import staff_member

pytestmark = pytest.mark.django_db
MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def wsgi_app(settings, tmp_path):
    """Django's WSGI app in this test's transaction: the test client's trick of not closing
    the connection at the end of each request (it would end the transaction)."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    cache.clear()  # the vendor rate limit's counts
    yield WSGIHandler()
    cache.clear()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def staff_schema(wsgi_app):
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = wsgi_app
    return schema


@pytest.fixture
def vendor_schema(wsgi_app):
    schema = schemathesis.openapi.from_dict(vendor_api.get_openapi_schema())
    schema.app = wsgi_app
    return schema


@pytest.fixture
def staff_headers():
    # An administrator of every insurer: every endpoint is allowed, so answers are the
    # data's, not a 403.
    _token, raw = staff_token_issue(user=staff_member("admin"), name="schemathesis")
    return {"Authorization": f"Bearer {raw}"}


@pytest.fixture
def vendor_headers():
    vendor = Vendor.objects.get(code="pingan_team")
    assigned_request("PA-SCHEMA-1", vendor)  # something to list
    return {"Authorization": f"Bearer {vendor_token_issue(vendor=vendor, name='schemathesis')[1]}"}


def failures(schema, headers: dict[str, str]) -> list[str]:
    """Run every operation with valid and with invalid data; the failures, one line each."""
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @BOUNDED
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # a check failed: keep going, report them all
                lines = [line.strip() for line in str(exc).splitlines() if line.strip()][:8]
                found.append(f"{operation.label} ({mode}): " + " | ".join(lines))
    return found


def test_the_staff_api_answers_as_its_schema_says(staff_schema, staff_headers):
    assert failures(staff_schema, staff_headers) == []


def test_the_vendor_api_answers_as_its_schema_says(vendor_schema, vendor_headers):
    assert failures(vendor_schema, vendor_headers) == []
