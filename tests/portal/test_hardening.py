"""Staff access and security hardening: the admin login locks after ten wrong passwords,
every page carries a Content-Security-Policy, production settings are HTTPS-only with
HSTS, spreadsheet exports never contain a formula, logs never show a phone or ID number
in full, and the portal's upload form answers in Chinese for names and images it refuses."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import tablib
from axes.models import AccessAttempt, AccessFailureLog
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import dateformat, timezone

from benefits.models import Insurer
from bookings.models import Document
from portal.kernel import logmask
from portal.kernel.identity import mask_id_number, mask_phone
from portal.kernel.logmask import MaskPersonalNumbers
from portal.kernel.spreadsheet_formats import FormulaSafeCSV, FormulaSafeXLSX
from tests.bookings.test_upload_limits import png_declaring
from tests.factories import MINIMAL_PDF
from tests.portal.test_portal_pages import family, log_in, submit

ROOT = Path(__file__).resolve().parents[2]
ADMIN_LOGIN = "/admin/login/"
PASSWORD = "correct-horse-battery-9"
OFFICE_IP = "203.0.113.10"
PHONE = "13800138000"
ID_NUMBER = "110101199003071234"


# --- admin login lockout (django-axes) ---------------------------------------------------


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user(
        username="ops-wang", password=PASSWORD, is_staff=True
    )


def admin_login(client, username: str, password: str, ip: str = OFFICE_IP):
    return client.post(
        ADMIN_LOGIN,
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def fail_logins(client, username: str, times: int, ip: str = OFFICE_IP):
    return [admin_login(client, username, "wrong-password", ip) for _ in range(times)]


@pytest.mark.django_db
def test_nine_wrong_passwords_still_let_the_right_one_in(client, operator):
    responses = fail_logins(client, operator.username, 9)
    assert {r.status_code for r in responses} == {200}  # the login form with its error
    response = admin_login(client, operator.username, PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/admin/"


@pytest.mark.django_db
def test_ten_wrong_passwords_lock_the_account_from_that_client_even_for_the_right_password(
    client, operator
):
    # given ten wrong passwords from the office
    *_, tenth = fail_logins(client, operator.username, 10)
    # then the tenth answer is the lockout page, in Chinese
    assert tenth.status_code == 429
    assert "已锁定" in tenth.text and "连续输错密码已达10次" in tenth.text
    # when the right password follows from the same client
    response = admin_login(client, operator.username, PASSWORD)
    # then it is refused too, and nobody is logged in
    assert response.status_code == 429 and "即使输入正确的密码也无法登录" in response.text
    assert "_auth_user_id" not in client.session
    # and the attempts are recorded, one row per failure
    attempt = AccessAttempt.objects.get(username=operator.username)
    assert attempt.ip_address == OFFICE_IP and attempt.failures_since_start == 11
    assert AccessFailureLog.objects.filter(username=operator.username).count() == 11


@pytest.mark.django_db
def test_the_lockout_page_says_until_when_in_beijing_time(client, operator):
    *_, locked = fail_logins(client, operator.username, 10)
    attempt = AccessAttempt.objects.get(username=operator.username)
    until = timezone.localtime(attempt.attempt_time + timedelta(minutes=30))
    assert dateformat.format(until, "Y年n月j日 H:i") + "（北京时间）" in locked.text
    assert locked["Retry-After"] == str(30 * 60)


@pytest.mark.django_db
def test_a_lock_on_one_client_does_not_lock_the_account_elsewhere(client, operator):
    fail_logins(client, operator.username, 10)
    # Another office (or the real user, while someone guesses from elsewhere) still gets in.
    response = admin_login(client, operator.username, PASSWORD, ip="198.51.100.7")
    assert response.status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_after_thirty_minutes(client, operator):
    fail_logins(client, operator.username, 10)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=31))
    response = admin_login(client, operator.username, PASSWORD)
    assert response.status_code == 302


@pytest.mark.django_db
def test_a_phone_number_typed_as_admin_username_is_recorded_masked(client, superuser):
    fail_logins(client, PHONE, 2)
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "138****8000"
    assert PHONE not in attempt.post_data and PHONE not in attempt.get_data
    assert not AccessFailureLog.objects.filter(username__contains=PHONE).exists()
    # and the attempts are browsable in admin
    client.force_login(superuser)
    page = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert page.status_code == 200 and "138****8000" in page.text and PHONE not in page.text


# --- Content-Security-Policy ---------------------------------------------------------------


def csp_directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


EXPECTED_CSP = {
    "default-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def assert_policy(response) -> None:
    directives = csp_directives(response)
    for directive, value in EXPECTED_CSP.items():
        assert directives[directive] == value, directive
    # Scripts: ours, inline blocks only with this response's nonce (named only when the
    # page has such a block), and import-export's one inline handler by its hash.
    sources = directives["script-src"].split()
    nonces = [source for source in sources if source.startswith("'nonce-")]
    assert len(nonces) <= 1
    assert [s for s in sources if s not in nonces] == [
        "'self'",
        "'unsafe-hashes'",
        "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='",
    ]


@pytest.mark.django_db
def test_portal_pages_carry_the_content_security_policy(client, django_user_model):
    login_page = client.get(reverse("portal:login"))
    assert login_page.status_code == 200
    assert_policy(login_page)
    log_in(client, django_user_model, family("CSP-1", "13800000021"))
    home = client.get(reverse("portal:home"))
    assert home.status_code == 200
    assert_policy(home)


@pytest.mark.django_db
def test_admin_pages_carry_the_content_security_policy(client, superuser):
    assert_policy(client.get(ADMIN_LOGIN))
    client.force_login(superuser)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert_policy(index)


@pytest.mark.django_db
def test_the_api_docs_load_their_scripts_from_our_own_static_files(client, superuser):
    # A CDN script would be blocked by script-src 'self': the docs page would stay blank.
    client.force_login(superuser)
    docs = client.get("/api/docs")
    assert docs.status_code == 200
    assert "cdn.jsdelivr.net" not in docs.text
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in docs.text
    assert_policy(docs)


# --- HTTPS-only production settings --------------------------------------------------------


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A production environment: DEBUG unset, a long random key, the hosts, nothing else
    from this process (tests.settings sets PLAIN_HTTP in os.environ)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "portal.site.settings",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "example.com,testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **extra,
    }


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_with_only_key_and_hosts_set_warns_about_nothing(tmp_path):
    result = run_manage(production_env(tmp_path), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNINGS" not in result.stdout + result.stderr
    assert "no issues" in result.stdout


PROBE = """
import json
from django.test import Client
plain = Client().get("/login/")
secure = Client().get("/login/", secure=True)
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.get("Location"),
    "hsts": secure.get("Strict-Transport-Security"),
    "csrf_cookie_secure": bool(secure.cookies["csrftoken"]["secure"]),
}))
"""


def probe_login_page(env: dict[str, str]) -> dict:
    result = run_manage(env, "shell", "-c", PROBE)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_with_debug_off_plain_http_is_redirected_to_https_and_hsts_is_sent(tmp_path):
    answer = probe_login_page(production_env(tmp_path))
    assert answer["plain_status"] == 301
    assert answer["plain_location"] == "https://testserver/login/"
    assert answer["hsts"] == "max-age=31536000; includeSubDomains; preload"
    assert answer["csrf_cookie_secure"] is True


def test_plain_http_turns_the_https_settings_off_with_one_switch(tmp_path):
    answer = probe_login_page(production_env(tmp_path, PLAIN_HTTP="1"))
    assert answer["plain_status"] == 200
    assert answer["hsts"] is None
    assert answer["csrf_cookie_secure"] is False


# --- exports never contain a formula --------------------------------------------------------

EVIL_NAME = "=cmd|' /C calc'!A0"


@pytest.fixture
def evil_insurer():
    return Insurer.objects.create(
        code="evil", name=EVIL_NAME, short_name="+SUM(1+1)", hotline="@HYPERLINK(x)"
    )


def export_insurers(client, file_format: str) -> bytes:
    url = reverse("admin:benefits_insurer_export")
    form = client.get(url).context["form"]
    choice = next(value for value, title in form.fields["format"].choices if title == file_format)
    fields = {name: "on" for name in form.fields if name.startswith("insurerresource_")}
    response = client.post(url, {"format": choice, "resource": "0", **fields})
    assert response.status_code == 200, response.content[:500]
    return response.content


@pytest.mark.django_db
def test_a_csv_export_writes_formula_like_cells_as_text(client, superuser, evil_insurer):
    client.force_login(superuser)
    rows = list(csv.DictReader(io.StringIO(export_insurers(client, "csv").decode("utf-8-sig"))))
    row = next(r for r in rows if r["code"] == "evil")
    assert row["name"] == "'" + EVIL_NAME
    assert row["short_name"] == "'+SUM(1+1)"
    assert row["hotline"] == "'@HYPERLINK(x)"
    # Other insurers' cells are as they were.
    pingan = next(r for r in rows if r["code"] == "pingan")
    assert pingan["name"] == Insurer.objects.get(code="pingan").name


@pytest.mark.django_db
def test_an_xlsx_export_has_no_formula_cell(client, superuser, evil_insurer):
    client.force_login(superuser)
    book = openpyxl.load_workbook(io.BytesIO(export_insurers(client, "xlsx")))
    cells = [cell for row in book.active.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert "'" + EVIL_NAME in [cell.value for cell in cells]


ROUND_TRIP = [EVIL_NAME, "-cmd", "\tx", "＝1+1", "'=already quoted", "'plain", "-12.5", "普通"]


def test_an_exported_csv_imports_back_unchanged():
    dataset = tablib.Dataset(*[(value,) for value in ROUND_TRIP], headers=["v"])
    exported = FormulaSafeCSV().export_data(dataset)
    assert exported.splitlines()[1:3] == ["'" + EVIL_NAME, "'-cmd"]
    assert [row[0] for row in FormulaSafeCSV().create_dataset(exported)] == ROUND_TRIP


def test_an_exported_xlsx_imports_back_unchanged():
    dataset = tablib.Dataset(*[(value,) for value in [*ROUND_TRIP, None, 7]], headers=["v"])
    exported = FormulaSafeXLSX().export_data(dataset)
    back = FormulaSafeXLSX().create_dataset(exported)
    assert [row[0] for row in back] == [*ROUND_TRIP, None, 7]


# --- logs: no phone or ID number in full ---------------------------------------------------


@pytest.fixture
def console():
    """What the configured console handler (settings.LOGGING) writes, for this test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, MaskPersonalNumbers) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_request_log_line_shows_the_phone_masked(console):
    logging.getLogger("django.request").warning("Not Found: %s", f"/admin/?q={PHONE}")
    assert "Not Found: /admin/?q=138****8000" in console.getvalue()
    assert PHONE not in console.getvalue()


def test_a_runserver_request_line_shows_phone_and_id_number_masked(console):
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /x/{ID_NUMBER}/?phone=%2B86{PHONE} HTTP/1.1", "404", "179"
    )
    line = console.getvalue()
    assert "/x/110101********1234/?phone=%2B86138****8000" in line
    assert ID_NUMBER not in line and PHONE not in line


def test_tracebacks_and_grouped_numbers_are_masked_too(console):
    try:
        raise ValueError(f"no policy for {ID_NUMBER} / 138 0013 8000 / 11010519491231002X")
    except ValueError:
        logging.getLogger("portal").exception("lookup failed for %s", "+86 13800138000")
    text = console.getvalue()
    assert "lookup failed for +86 138****8000" in text
    assert "110101********1234" in text and "110105********002X" in text
    assert ID_NUMBER not in text and "11010519491231002X" not in text
    assert "0013 8000" not in text and "Traceback" in text


@pytest.mark.django_db
def test_a_404_with_an_id_number_in_the_path_is_logged_masked(client, console):
    response = client.get(f"/x/{ID_NUMBER}/")
    assert response.status_code == 404
    text = console.getvalue()
    assert "Not Found: /x/110101********1234/" in text and ID_NUMBER not in text


@pytest.mark.parametrize("number", [ID_NUMBER, "11010519491231002X", "110105491231002"])
def test_masks_read_like_everywhere_else_in_the_product(number):
    assert logmask.mask_personal_numbers(f"[{number}]") == f"[{mask_id_number(number)}]"
    assert logmask.mask_personal_numbers(PHONE) == mask_phone(PHONE)


def test_other_numbers_are_left_alone():
    text = "SR8C9CTGEQEY 2026-12-02 1716000000000 P-0001 203.0.113.7 12345678901"
    assert logmask.mask_personal_numbers(text) == text


# --- the portal's upload form --------------------------------------------------------------


@pytest.fixture
def open_request(client, django_user_model, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    policy = family("UPLOAD-LIMITS-1", "13800000031")
    log_in(client, django_user_model, policy)
    return submit(policy)


def upload(client, service_request, name: str, content: bytes):
    url = reverse("portal:request_upload", args=[service_request.ref])
    file = SimpleUploadedFile("placeholder", content)
    file._name = name  # as a browser sends it: Django's file objects would cut it to 255
    return client.post(url, {"file": file}, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.django_db
def test_an_image_declaring_400_million_pixels_is_refused_and_nothing_is_stored(
    client, open_request, tmp_path
):
    response = upload(client, open_request, "病历.png", png_declaring(20_000, 20_000))
    assert response.status_code == 200
    assert any("图片像素过高（20000×20000" in m for m in messages_of(response))
    assert not Document.objects.filter(request=open_request).exists()
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


@pytest.mark.django_db
@pytest.mark.parametrize("memory_limit", [None, 0], ids=["in memory", "streamed to disk"])
def test_a_300_character_file_name_gets_a_chinese_message(
    client, open_request, settings, tmp_path, memory_limit
):
    if memory_limit is not None:
        settings.FILE_UPLOAD_MAX_MEMORY_SIZE = memory_limit
    response = upload(client, open_request, "门" * 296 + ".pdf", MINIMAL_PDF)
    assert response.status_code == 200
    # the file named (shortened) before the reason: several files may be sent at once
    (message,) = messages_of(response)
    assert message.startswith("门" * 10) and len(message) < 100
    assert message.endswith("：文件名太长（超过255个字），请把文件改成短一些的名字后再上传。")
    assert not Document.objects.filter(request=open_request).exists()
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


@pytest.mark.django_db
def test_a_large_file_with_an_overlong_extension_is_accepted_not_a_server_error(
    client, open_request, settings
):
    # Django names its temporary file after the extension: 200 Chinese characters are
    # 600 bytes, more than a file system allows in a name.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    response = upload(client, open_request, "病历." + "病" * 200, MINIMAL_PDF)
    assert response.status_code == 200
    assert "已上传1个文件" in messages_of(response)
    assert Document.objects.get(request=open_request).content_type == "application/pdf"
