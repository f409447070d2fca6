"""我的投诉: a policyholder files a complaint about one of their requests or in general, and
follows it — status, the date it is due by (15 natural days, or as extended), the replies
and the outcome. Only their own complaints are listed; filing names only requests and
policies they may act for (``actable_members``), anything else is refused by the form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from benefits.models import Person, Policy
from bookings.complaints.selectors import complaints_for
from bookings.complaints.services import DESCRIPTION_MAX_CHARS, complaint_file
from bookings.models import Complaint, ServiceRequest
from portal.kernel.actor import Actor
from portal.kernel.errors import DomainError
from portal.kernel.tenancy import request_user
from portal.pages.access import actable_members, policyholder_required, portal_person
from portal.pages.selectors import requests_for

# How many of the person's requests the form offers to complain about (newest first).
SUBJECT_REQUESTS = 50


class ComplaintForm(forms.Form):
    subject = forms.ChoiceField(
        label=gettext_lazy("投诉事项"),
        error_messages={
            "required": gettext_lazy("请选择投诉涉及的服务申请或保单"),
            "invalid_choice": gettext_lazy("请从列表中选择投诉涉及的服务申请或保单"),
        },
    )
    category = forms.ChoiceField(
        label=gettext_lazy("投诉类别"),
        choices=Complaint.Category.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": gettext_lazy("请选择投诉类别"),
            "invalid_choice": gettext_lazy("请选择投诉类别"),
        },
    )
    description = forms.CharField(
        label=gettext_lazy("投诉内容"),
        max_length=DESCRIPTION_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("请写明经过与您的诉求，我们将在15日内处理并答复"),
        error_messages={
            "required": gettext_lazy("请填写投诉内容"),
            "max_length": gettext_lazy("投诉内容最多%(limit_value)d个字"),
        },
    )

    def __init__(self, *args: Any, person: Person, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.requests = {
            r.ref: r
            for r in requests_for(person, today).select_related("vendor")[:SUBJECT_REQUESTS]
        }
        self.policies: dict[str, Policy] = {}
        for member in actable_members(person, today):
            self.policies.setdefault(member.policy.number, member.policy)
        choices = [
            (
                f"request:{ref}",
                _("服务申请 %(ref)s %(benefit)s") % {"ref": ref, "benefit": r.benefit.name},
            )
            for ref, r in self.requests.items()
        ]
        choices += [
            (
                f"policy:{number}",
                _("一般投诉：保单 %(number)s %(product)s")
                % {"number": number, "product": p.product.name},
            )
            for number, p in self.policies.items()
        ]
        subject = self.fields["subject"]
        assert isinstance(subject, forms.ChoiceField)
        subject.choices = [("", _("请选择")), *choices]

    def about(self) -> tuple[Policy, ServiceRequest | None]:
        kind, _colon, key = self.cleaned_data["subject"].partition(":")
        if kind == "request":
            request = self.requests[key]
            return request.policy, request
        return self.policies[key], None


@policyholder_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    person = portal_person(request)
    complaints = list(complaints_for(person)[:100])
    return render(request, "portal/complaint_list.html", {"complaints": complaints})


@policyholder_required
@require_http_methods(["GET", "POST"])
def complaint_new(request: HttpRequest) -> HttpResponse:
    person = portal_person(request)
    form = ComplaintForm(request.POST or None, person=person)
    if request.method == "POST" and form.is_valid():
        policy, about = form.about()
        try:
            complaint = complaint_file(
                policy=policy,
                person=person,
                request=about,
                category=form.cleaned_data["category"],
                description=form.cleaned_data["description"],
                channel=Complaint.Channel.PORTAL,
                actor=Actor(user=request_user(request), label="policyholder"),
            )
        except DomainError as exc:
            form.add_error(exc.details.get("field") or None, exc.message)
        else:
            messages.success(
                request,
                _("投诉已受理，编号 %(ref)s，我们将于%(due)s前处理并答复您。")
                % {"ref": complaint.ref, "due": f"{complaint.due_on:%Y年%m月%d日}"},
            )
            return redirect("portal:complaint_list")
    return render(request, "portal/complaint_form.html", {"form": form})
