"""Policyholder login by SMS code: the whole flow through the pages, codes that expire and
are used once, rate limits and lockout, binding to a person by ID number and phone, and the
outbox an admin reads."""

import logging
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from benefits.demo import family_policy, resident_id
from benefits.models import Person
from portal.kernel.errors import DomainError
from portal.kernel.sms import send_sms
from portal.models import OneTimeCode, PolicyholderAccount, SmsMessage
from portal.pages.accounts import account_bind, account_for_phone
from portal.pages.otp import normalise_phone, otp_request, otp_verify

PHONE = "13800138000"
IP = "203.0.113.7"
T0 = timezone.make_aware(timezone.datetime(2026, 11, 21, 9, 0))


def code_from_outbox(phone: str = PHONE) -> str:
    body = SmsMessage.objects.filter(phone=phone).latest("created_at", "id").body
    return re.search(r"验证码为(\d{6})", body).group(1)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def refusal(function, *args, **kwargs) -> DomainError:
    """The DomainError that ``function(*args, **kwargs)`` raises."""
    with pytest.raises(DomainError) as caught:
        function(*args, **kwargs)
    return caught.value


@pytest.fixture
def holder() -> Person:
    """The holder of a 平安 family policy, registered with PHONE."""
    person = family_policy(number="P-LOGIN-1", size=2, birth_year=1980).holder
    person.phone = "138 0013 8000"  # as an insurer's system may send it
    person.save()
    return person


def holder_id() -> str:
    # family_policy's first person: 110105 + birth year + 01 + 01 + 001 and its check digit.
    return resident_id("11010519800101001")


# --- the pages ------------------------------------------------------------------------


@pytest.mark.django_db
def test_first_login_sends_a_code_logs_in_binds_and_lands_on_my_policies(client, holder):
    # given a policyholder who has never logged in
    # when they ask for a code
    response = client.post(reverse("portal:login"), {"phone": "+86 138-0013-8000"})
    assert response["Location"] == reverse("portal:login_code")
    page = client.get(reverse("portal:login_code")).content.decode()
    assert "138****8000" in page
    # and type the code from the SMS
    response = client.post(reverse("portal:login_code"), {"code": code_from_outbox()})
    # then they are logged in and asked to prove who they are
    assert response["Location"] == reverse("portal:login_bind")
    account = PolicyholderAccount.objects.get(phone=PHONE)
    assert int(client.session[SESSION_KEY]) == account.user_id
    assert not account.user.has_usable_password()
    # when they give their ID number
    response = client.post(
        reverse("portal:login_bind"), {"id_type": "resident_id", "id_number": holder_id()}
    )
    # then the account is bound and they are asked, separately, to consent to the processing
    # of health information before landing on "my policies"
    assert response["Location"] == reverse("portal:consent") + "?next=%2F"
    account.refresh_from_db()
    assert account.person == holder
    assert account.bound_at is not None


@pytest.mark.django_db
def test_a_bound_policyholder_goes_straight_to_where_they_were_going(client, holder):
    account_bind(account=account_for_phone(PHONE), id_type="resident_id", id_number=holder_id())
    client.post(reverse("portal:login") + "?next=/requests/7/", {"phone": PHONE})
    response = client.post(reverse("portal:login_code"), {"code": code_from_outbox()})
    assert response["Location"] == "/requests/7/"


@pytest.mark.django_db
def test_an_offsite_next_address_is_ignored(client, holder):
    account_bind(account=account_for_phone(PHONE), id_type="resident_id", id_number=holder_id())
    client.post(reverse("portal:login"), {"phone": PHONE, "next": "https://evil.example/"})
    response = client.post(reverse("portal:login_code"), {"code": code_from_outbox()})
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_the_session_key_changes_at_login(client, holder):
    client.post(reverse("portal:login"), {"phone": PHONE})
    before = client.session.session_key
    client.post(reverse("portal:login_code"), {"code": code_from_outbox()})
    assert client.session.session_key != before
    assert SESSION_KEY in client.session


@pytest.mark.django_db
def test_a_wrong_code_rerenders_with_the_reason_and_an_empty_code_field(client):
    client.post(reverse("portal:login"), {"phone": PHONE})
    typed = wrong(code_from_outbox())
    response = client.post(reverse("portal:login_code"), {"code": typed})
    page = response.content.decode()
    assert response.status_code == 200
    assert "验证码不正确，还可尝试4次" in page
    assert typed not in page
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_a_malformed_phone_rerenders_with_the_reason_and_what_was_typed(client):
    response = client.post(reverse("portal:login"), {"phone": "1380013"})
    page = response.content.decode()
    assert "请输入正确的11位中国大陆手机号码" in page
    assert 'value="1380013"' in page
    assert not SmsMessage.objects.exists()


@pytest.mark.django_db
def test_asking_again_within_a_minute_says_how_long_to_wait(client):
    client.post(reverse("portal:login"), {"phone": PHONE})
    page = client.post(reverse("portal:login"), {"phone": PHONE}).content.decode()
    assert re.search(r"验证码发送过于频繁，请在(60|59)秒后重试", page)
    assert f'value="{PHONE}"' in page


@pytest.mark.django_db
def test_the_resend_button_reports_the_wait_on_the_code_page(client):
    client.post(reverse("portal:login"), {"phone": PHONE})
    response = client.post(reverse("portal:login_code"), {"resend": "1"}, follow=True)
    assert "秒后重试" in response.content.decode()
    assert SmsMessage.objects.count() == 1


@pytest.mark.django_db
def test_an_unknown_phone_gets_the_same_answer_as_a_policyholders(client, holder):
    known = client.post(reverse("portal:login"), {"phone": PHONE})
    other = client.post(reverse("portal:login"), {"phone": "13912345678"}, REMOTE_ADDR="10.0.0.2")
    assert known.status_code == other.status_code == 302
    assert known["Location"] == other["Location"]
    assert SmsMessage.objects.filter(phone="13912345678").exists()


@pytest.mark.django_db
def test_binding_with_a_mismatch_does_not_say_which_part_failed(client, holder):
    stranger = Person(name="路人", id_number=resident_id("11010519750101009"))
    stranger.birth_date = date(1975, 1, 1)
    stranger.save()
    client.post(reverse("portal:login"), {"phone": PHONE})
    client.post(reverse("portal:login_code"), {"code": code_from_outbox()})
    # a real person, but registered with no phone / another phone
    response = client.post(
        reverse("portal:login_bind"),
        {"id_type": "resident_id", "id_number": stranger.id_number},
    )
    page = response.content.decode()
    assert "证件信息与本手机号登记的保单信息不一致" in page
    # a valid number that belongs to nobody gives the same words
    nobody = resident_id("11010519750101017")
    page_nobody = client.post(
        reverse("portal:login_bind"), {"id_type": "resident_id", "id_number": nobody}
    ).content.decode()
    assert "证件信息与本手机号登记的保单信息不一致" in page_nobody
    assert PolicyholderAccount.objects.get(phone=PHONE).person is None


@pytest.mark.django_db
def test_a_mistyped_id_number_is_explained_and_kept_in_the_form(client, holder):
    client.post(reverse("portal:login"), {"phone": PHONE})
    client.post(reverse("portal:login_code"), {"code": code_from_outbox()})
    typed = holder_id()[:-1] + ("0" if holder_id()[-1] != "0" else "1")
    page = client.post(
        reverse("portal:login_bind"), {"id_type": "resident_id", "id_number": typed}
    ).content.decode()
    assert "校验位不正确" in page
    assert f'value="{typed}"' in page
    assert PolicyholderAccount.objects.get(phone=PHONE).bind_failures == 0


@pytest.mark.django_db
def test_logout_is_a_post_that_ends_the_session(client, holder):
    client.post(reverse("portal:login"), {"phone": PHONE})
    client.post(reverse("portal:login_code"), {"code": code_from_outbox()})
    assert client.get(reverse("portal:logout")).status_code == 405
    response = client.post(reverse("portal:logout"))
    assert response["Location"] == reverse("portal:login")
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_each_login_page_answers_get(client, holder):
    assert client.get(reverse("portal:login")).status_code == 200
    # the code page needs a phone, else it starts over
    assert client.get(reverse("portal:login_code"))["Location"] == reverse("portal:login")
    client.post(reverse("portal:login"), {"phone": PHONE})
    assert client.get(reverse("portal:login_code")).status_code == 200
    # the bind page needs a login
    client.logout()
    assert client.get(reverse("portal:login_bind"))["Location"].startswith(reverse("portal:login"))
    client.force_login(account_for_phone(PHONE).user)
    assert client.get(reverse("portal:login_bind")).status_code == 200


@pytest.mark.django_db
def test_the_page_shell_is_chinese_mobile_first_and_shows_who_is_logged_in(client):
    page = client.get(reverse("portal:login")).content.decode()
    assert '<html lang="zh-Hans">' in page
    assert 'name="viewport"' in page
    assert "/static/portal/portal.css" in page
    assert "退出登录" not in page
    client.force_login(account_for_phone(PHONE).user)
    page = client.get(reverse("portal:login_bind")).content.decode()
    assert "138****8000" in page
    assert "退出登录" in page
    assert PHONE not in page


@pytest.mark.django_db
def test_the_code_field_invites_the_phones_sms_autofill(client):
    client.post(reverse("portal:login"), {"phone": PHONE})
    page = client.get(reverse("portal:login_code")).content.decode()
    field = re.search(r'<input[^>]*name="code"[^>]*>', page).group(0)
    assert 'autocomplete="one-time-code"' in field
    assert 'inputmode="numeric"' in field


def test_the_stylesheet_uses_system_fonts_only():
    from django.contrib.staticfiles import finders

    css = open(finders.find("portal/portal.css"), encoding="utf-8").read()
    assert '"PingFang SC"' in css and '"Microsoft YaHei"' in css
    assert "@import" not in css and "url(" not in css


# --- codes: expiry, single use, limits, lockout ----------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["13800138000", "+86 138 0013 8000", "+8613800138000", "0086-138-0013-8000", "138-0013-8000"],
)
def test_mainland_mobile_numbers_are_accepted_in_common_spellings(raw):
    assert normalise_phone(raw) == PHONE


@pytest.mark.parametrize(
    "raw", ["", "1380013800", "138001380001", "23800138000", "12800138000", "+85291234567", "abc"]
)
def test_other_numbers_are_refused_as_phone_invalid(raw):
    assert refusal(normalise_phone, raw).code == "phone_invalid"


@pytest.mark.django_db
def test_the_code_is_six_digits_stored_only_as_a_digest():
    otp_request(PHONE, IP, now=T0)
    code = code_from_outbox()
    row = OneTimeCode.objects.get(phone=PHONE)
    assert re.fullmatch(r"\d{6}", code)
    assert code not in row.digest
    assert row.expires_at == T0 + timedelta(minutes=5)


@pytest.mark.django_db
def test_a_code_works_until_five_minutes_and_then_expires():
    otp_request(PHONE, IP, now=T0)
    code = code_from_outbox()
    late = T0 + timedelta(minutes=5)
    error = refusal(otp_verify, PHONE, code, IP, now=late)
    assert (error.code, error.message) == ("otp_expired", "验证码已失效，请重新获取")
    otp_request(PHONE, IP, now=late)
    result = otp_verify(PHONE, code_from_outbox(), IP, now=late + timedelta(seconds=299))
    assert result.phone == PHONE


@pytest.mark.django_db
def test_a_code_is_used_once():
    otp_request(PHONE, IP, now=T0)
    code = code_from_outbox()
    otp_verify(PHONE, code, IP, now=T0 + timedelta(seconds=10))
    error = refusal(otp_verify, PHONE, code, IP, now=T0 + timedelta(seconds=20))
    assert error.code == "otp_expired"


@pytest.mark.django_db
def test_a_new_code_retires_the_previous_one(monkeypatch):
    # two distinct codes, so the old one cannot match the new by chance
    draws = iter([111111, 222222])
    monkeypatch.setattr("portal.pages.otp.secrets.randbelow", lambda _: next(draws))
    otp_request(PHONE, IP, now=T0)
    otp_request(PHONE, IP, now=T0 + timedelta(seconds=60))
    error = refusal(otp_verify, PHONE, "111111", IP, now=T0 + timedelta(seconds=70))
    assert error.code == "otp_invalid"
    assert otp_verify(PHONE, "222222", IP, now=T0 + timedelta(seconds=80)).phone == PHONE


@pytest.mark.django_db
def test_one_send_per_minute_with_the_wait_in_seconds():
    otp_request(PHONE, IP, now=T0)
    error = refusal(otp_request, PHONE, IP, now=T0 + timedelta(seconds=15))
    assert error.code == "otp_too_soon"
    assert error.message == "验证码发送过于频繁，请在45秒后重试"
    assert error.status == 429
    assert otp_request(PHONE, IP, now=T0 + timedelta(seconds=60)).phone == PHONE


@pytest.mark.django_db
def test_at_most_five_sends_per_phone_per_hour():
    for minute in range(0, 50, 10):
        otp_request(PHONE, IP, now=T0 + timedelta(minutes=minute))
    error = refusal(otp_request, PHONE, IP, now=T0 + timedelta(minutes=55))
    assert error.code == "otp_rate_limited"
    assert error.message == "验证码获取次数过多，请在5分钟后重试"
    # the first send leaves the hour's window
    otp_request(PHONE, IP, now=T0 + timedelta(minutes=60, seconds=1))


@pytest.mark.django_db
def test_at_most_twenty_sends_per_ip_per_hour():
    for index in range(20):
        otp_request(f"139{index:08d}", IP, now=T0 + timedelta(minutes=index))
    error = refusal(otp_request, PHONE, IP, now=T0 + timedelta(minutes=30))
    assert error.code == "otp_rate_limited"
    assert error.message == "验证码获取次数过多，请在30分钟后重试"
    otp_request(PHONE, "198.51.100.1", now=T0 + timedelta(minutes=30))


@pytest.mark.django_db
def test_five_wrong_codes_lock_the_phone_for_fifteen_minutes():
    otp_request(PHONE, IP, now=T0)
    code = code_from_outbox()
    messages = [
        refusal(otp_verify, PHONE, wrong(code), IP, now=T0 + timedelta(seconds=s)).message
        for s in range(1, 6)
    ]
    assert messages[:4] == [f"验证码不正确，还可尝试{n}次" for n in (4, 3, 2, 1)]
    assert messages[4] == "验证码错误次数过多，请在15分钟后重试"
    # the right code is refused too, and so is a new one
    locked = refusal(otp_verify, PHONE, code, IP, now=T0 + timedelta(seconds=10))
    assert locked.code == "otp_locked"
    resend = refusal(otp_request, PHONE, IP, now=T0 + timedelta(minutes=14, seconds=5))
    assert resend.code == "otp_locked"
    assert resend.message == "验证码错误次数过多，请在60秒后重试"
    # after 15 minutes a new code works
    later = T0 + timedelta(minutes=15, seconds=5)
    otp_request(PHONE, IP, now=later)
    assert otp_verify(PHONE, code_from_outbox(), IP, now=later).phone == PHONE


@pytest.mark.django_db
def test_wrong_codes_spread_over_more_than_fifteen_minutes_do_not_lock():
    for round_start in (T0, T0 + timedelta(minutes=20)):
        otp_request(PHONE, IP, now=round_start)
        code = code_from_outbox()
        for second in range(1, 4):
            at = round_start + timedelta(seconds=second)
            refusal(otp_verify, PHONE, wrong(code), IP, now=at)
    error = refusal(otp_verify, PHONE, wrong(code), IP, now=T0 + timedelta(minutes=20, seconds=9))
    assert error.code == "otp_invalid"


# --- binding -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_binding_needs_the_id_number_and_the_login_phone_of_one_person(holder):
    other_phone = account_for_phone("13912345678")
    error = refusal(account_bind, account=other_phone, id_type="resident_id", id_number=holder_id())
    assert error.code == "bind_mismatch"
    account = account_bind(
        account=account_for_phone(PHONE), id_type="resident_id", id_number=holder_id().lower()
    )
    assert account.person == holder


@pytest.mark.django_db
def test_five_failed_bindings_lock_the_account_until_the_next_day(holder):
    account = account_for_phone(PHONE)
    nobody = resident_id("11010519750101017")
    day = timezone.make_aware(timezone.datetime(2026, 11, 21, 23, 0))
    attempt = {"account": account, "id_type": "resident_id", "id_number": nobody, "now": day}
    codes = [refusal(account_bind, **attempt).code for _ in range(5)]
    assert codes == ["bind_mismatch"] * 4 + ["bind_locked"]
    # even the right number waits for tomorrow (Asia/Shanghai)
    error = refusal(
        account_bind, account=account, id_type="resident_id", id_number=holder_id(), now=day
    )
    assert error.message == "今日身份验证失败次数过多，请明天再试，或致电客服协助处理"
    tomorrow = day + timedelta(hours=1, minutes=1)
    bound = account_bind(
        account=account, id_type="resident_id", id_number=holder_id(), now=tomorrow
    )
    assert bound.person == holder


@pytest.mark.django_db
def test_a_second_login_from_the_same_phone_reuses_the_account():
    first = account_for_phone(PHONE)
    assert account_for_phone("+86 13800138000").pk == first.pk
    assert PHONE not in first.user.username


# --- SMS backends and admin ---------------------------------------------------------------


@pytest.mark.django_db
def test_the_logging_backend_logs_the_masked_phone_and_template_not_the_text(settings, caplog):
    settings.SMS_BACKEND = "portal.kernel.sms.LoggingBackend"
    with caplog.at_level(logging.INFO, logger="portal.kernel.sms"):
        send_sms(PHONE, "login_code", {"code": "123456", "minutes": 5})
    assert "138****8000" in caplog.text
    assert "login_code" in caplog.text
    assert PHONE not in caplog.text and "123456" not in caplog.text
    assert not SmsMessage.objects.exists()


@pytest.mark.django_db
def test_admin_outbox_masks_phones_in_the_list_and_shows_the_code_in_the_detail(client, superuser):
    otp_request(PHONE, IP)
    message = SmsMessage.objects.get()
    client.force_login(superuser)
    listing = client.get(reverse("admin:portal_smsmessage_changelist")).content.decode()
    assert "138****8000" in listing and PHONE not in listing
    detail = client.get(reverse("admin:portal_smsmessage_change", args=[message.pk]))
    assert PHONE in detail.content.decode()
    assert code_from_outbox() in detail.content.decode()
    assert client.get(reverse("admin:portal_smsmessage_add")).status_code == 403


@pytest.mark.django_db
def test_admin_accounts_show_masked_phone_and_masked_id_only(client, superuser, holder):
    account_bind(account=account_for_phone(PHONE), id_type="resident_id", id_number=holder_id())
    client.force_login(superuser)
    listing = client.get(reverse("admin:portal_policyholderaccount_changelist")).content.decode()
    assert "138****8000" in listing
    assert holder.id_masked in listing
    assert PHONE not in listing and holder_id() not in listing
