"""Who reaches what, for every URL of the site: the access matrix generated from the URL conf
and the OpenAPI schema (a URL without a row in ``EXPECTED`` fails), and the leaks no matrix
of statuses shows — another request's file, another product's benefit, another insurer's
rows in a list, an autocomplete, an export or a bulk action, a deactivated vendor's token,
a staff token's scope."""

from __future__ import annotations

import io
import json
import socket
from datetime import date, timedelta

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from benefits.demo import policy_with_members
from benefits.models import Benefit, Policy, Product, Vendor
from bookings.lifecycle.services import request_transition
from bookings.models import ServiceRequest, Status
from coverage.models import CoverageList
from portal.kernel.tenancy import is_scoped
from portal.pages.otp import MAX_FAILED_ATTEMPTS, otp_request, otp_verify
from tests.access_support import (
    INSURER_1,
    INSURER_2,
    OPS,
    ROLES,
    World,
    api_operations,
    build_world,
    call,
    finish,
    probes,
    staff_bearer,
)
from tests.bookings.test_admin_queue import act
from tests.clock import at
from tests.factories import (
    OUTPATIENT_ASSIST,
    outpatient_request,
    policyholder_login,
    staff_member,
)
from tests.portal.test_login import code_from_outbox, refusal, wrong
from tests.portal.test_portal_pages import family

pytestmark = pytest.mark.django_db

# What each caller gets, per URL name (or route, for unnamed patterns) and API operation.
# Columns, in the order of ``ROLES``: anonymous, policyholder A, policyholder B, vendor X,
# vendor Y, staff with no role, operator of insurer 1, operator of insurer 2, auditor of
# insurer 1, superuser. Every object in a URL is insurer 1's, policyholder A's and assigned
# to vendor X. Writes: the portal upload and the API POSTs, with a valid body, so the answer
# is the permission's and the insurer's (422 would be the body's).
EXPECTED_TABLE = """
#                                                           ano phA phB vnX vnY nor op1 op2 au1 su

# Staff API: 401 without staff credentials, 403 for a policyholder's session (not staff) and
# for staff without the permission; insurer 1's objects are 404 for insurer 2's operator.
GET /api/staff/v1/catalogue                                 401 403 403 401 401 403 200 200 200 200
GET /api/staff/v1/coverage/lists                            401 403 403 401 401 403 200 200 200 200
GET /api/staff/v1/coverage/lists/{code}/covers              401 403 403 401 401 403 200 404 200 200
GET /api/staff/v1/coverage/resolve                          401 403 403 401 401 403 200 200 200 200
GET /api/staff/v1/me                                        401 403 403 401 401 403 200 200 200 200
GET /api/staff/v1/policies/{number}/entitlements            401 403 403 401 401 403 200 404 200 200
GET /api/staff/v1/requests/{ref}                            401 403 403 401 401 403 200 404 200 200
POST /api/staff/v1/eligibility                              401 403 403 401 401 403 200 404 200 200
POST /api/staff/v1/policies                                 401 403 403 401 401 403 403 403 403 201
# The hotline's request API: operators act (bookings.change_servicerequest), an auditor reads.
POST /api/staff/v1/requests                                 401 403 403 401 401 403 201 404 403 201
POST /api/staff/v1/requests/{ref}/events                    401 403 403 401 401 403 200 404 403 200
# Settlement reads: 主管, 审计 and 管理员 (bookings.view_vendorstatement / view_productpremium);
# another insurer's vendor or product is 404 (tests/bookings/test_settlement_api.py).
# Complaints from the hotline: operators record (bookings.add_complaint), an auditor reads.
GET /api/staff/v1/complaints/{ref}                          401 403 403 401 401 403 200 404 200 200
POST /api/staff/v1/complaints                               401 403 403 401 401 403 201 404 403 201
GET /api/staff/v1/cost-ratio/{product}/{year}               401 403 403 401 401 403 403 403 200 200
GET /api/staff/v1/vendor-statements/{vendor}/{month}        401 403 403 401 401 403 403 403 200 200
POST /api/staff/v1/requests/{ref}/reviews                   401 403 403 401 401 403 422 404 403 422

# Vendor API: a vendor's token and nothing else (a session is no token); a request assigned
# to another vendor is 404.
GET /api/vendor/v1/requests                                 401 401 401 200 200 401 401 401 401 401
GET /api/vendor/v1/requests/{ref}                           401 401 401 200 404 401 401 401 401 401
GET /api/vendor/v1/requests/{ref}/documents/{document_id}   401 401 401 200 404 401 401 401 401 401
POST /api/vendor/v1/requests/{ref}/consumption              401 401 401 201 404 401 401 401 401 401
POST /api/vendor/v1/requests/{ref}/deliverables             401 401 401 201 404 401 401 401 401 401
POST /api/vendor/v1/requests/{ref}/events                   401 401 401 200 404 401 401 401 401 401

# Admin, for everyone who is not staff: the login page. Unnamed patterns: the redirects from
# <path:object_id>/ to …/change/, and the catch-all (an unknown admin URL).
admin/(?P<url>.*)$                                          302 302 302 302 302 403 404 404 404 404
admin/auditlog/logentry/<path:object_id>/                   302 302 302 302 302 403 302 302 302 302
admin/auth/group/<path:object_id>/                          302 302 302 302 302 403 302 302 302 302
admin/auth/user/<path:object_id>/                           302 302 302 302 302 403 302 302 302 302
admin/axes/accessattempt/<path:object_id>/                  302 302 302 302 302 403 302 302 302 302
admin/axes/accessfailurelog/<path:object_id>/               302 302 302 302 302 403 302 302 302 302
admin/axes/accesslog/<path:object_id>/                      302 302 302 302 302 403 302 302 302 302
admin/benefits/benefit/<path:object_id>/                    302 302 302 302 302 403 302 302 302 302
admin/benefits/calendarday/<path:object_id>/                302 302 302 302 302 403 302 302 302 302
admin/benefits/calendaryear/<path:object_id>/               302 302 302 302 302 403 302 302 302 302
admin/benefits/diagnosis/<path:object_id>/                  302 302 302 302 302 403 302 302 302 302
admin/benefits/hospitalisation/<path:object_id>/            302 302 302 302 302 403 302 302 302 302
admin/benefits/insurer/<path:object_id>/                    302 302 302 302 302 403 302 302 302 302
admin/benefits/person/<path:object_id>/                     302 302 302 302 302 403 302 302 302 302
admin/benefits/consentrecord/<path:object_id>/              302 302 302 302 302 403 302 302 302 302
admin/benefits/phonechange/<path:object_id>/                302 302 302 302 302 403 302 302 302 302
admin/benefits/policy/<path:object_id>/                     302 302 302 302 302 403 302 302 302 302
admin/benefits/product/<path:object_id>/                    302 302 302 302 302 403 302 302 302 302
admin/benefits/service/<path:object_id>/                    302 302 302 302 302 403 302 302 302 302
admin/benefits/vendor/<path:object_id>/                     302 302 302 302 302 403 302 302 302 302
admin/bookings/complaint/<path:object_id>/                  302 302 302 302 302 403 302 302 302 302
admin/bookings/contractprice/<path:object_id>/              302 302 302 302 302 403 302 302 302 302
admin/bookings/documentaccess/<path:object_id>/             302 302 302 302 302 403 302 302 302 302
admin/bookings/notification/<path:object_id>/               302 302 302 302 302 403 302 302 302 302
admin/bookings/productpremium/<path:object_id>/             302 302 302 302 302 403 302 302 302 302
admin/bookings/servicerequest/<path:object_id>/             302 302 302 302 302 403 302 302 302 302
admin/bookings/statementline/<path:object_id>/              302 302 302 302 302 403 302 302 302 302
admin/bookings/vendorstatement/<path:object_id>/            302 302 302 302 302 403 302 302 302 302
admin/bookings/vendortoken/<path:object_id>/                302 302 302 302 302 403 302 302 302 302
admin/bookings/vendoraccount/<path:object_id>/               302 302 302 302 302 403 302 302 302 302
admin/bookings/vendorwebhook/<path:object_id>/              302 302 302 302 302 403 302 302 302 302
admin/bookings/webhookdelivery/<path:object_id>/            302 302 302 302 302 403 302 302 302 302
admin/coverage/coveragelist/<path:object_id>/               302 302 302 302 302 403 302 302 302 302
admin/coverage/coveragelistmember/<path:object_id>/         302 302 302 302 302 403 302 302 302 302
admin/coverage/listentry/<path:object_id>/                  302 302 302 302 302 403 302 302 302 302
admin/coverage/region/<path:object_id>/                     302 302 302 302 302 403 302 302 302 302
admin/coverage/regionalias/<path:object_id>/                302 302 302 302 302 403 302 302 302 302
admin/coverage/unresolvedname/<path:object_id>/             302 302 302 302 302 403 302 302 302 302
admin/django_celery_beat/clockedschedule/<path:object_id>/  302 302 302 302 302 403 302 302 302 302
admin/django_celery_beat/crontabschedule/<path:object_id>/  302 302 302 302 302 403 302 302 302 302
admin/django_celery_beat/intervalschedule/<path:object_id>/ 302 302 302 302 302 403 302 302 302 302
admin/django_celery_beat/periodictask/<path:object_id>/     302 302 302 302 302 403 302 302 302 302
admin/django_celery_beat/solarschedule/<path:object_id>/    302 302 302 302 302 403 302 302 302 302
admin/portal/policyholderaccount/<path:object_id>/          302 302 302 302 302 403 302 302 302 302
admin/portal/smsmessage/<path:object_id>/                   302 302 302 302 302 403 302 302 302 302
admin/portal/stafftoken/<path:object_id>/                   302 302 302 302 302 403 302 302 302 302

# Admin pages: 403 without the model's permission (and everywhere without a role), 404 for
# another insurer's object; POST-only import steps are 405 to a GET; the login page sends
# staff to the index.
admin:app_list                                              302 302 302 302 302 403 200 200 200 200
admin:auditlog_logentry_add                                 302 302 302 302 302 403 403 403 403 403
admin:auditlog_logentry_change                              302 302 302 302 302 403 403 404 200 200
admin:auditlog_logentry_changelist                          302 302 302 302 302 403 403 403 200 200
admin:auditlog_logentry_delete                              302 302 302 302 302 403 403 404 403 403
admin:auditlog_logentry_history                             302 302 302 302 302 403 403 404 200 200
admin:auth_group_add                                        302 302 302 302 302 403 403 403 403 200
admin:auth_group_change                                     302 302 302 302 302 403 403 403 403 200
admin:auth_group_changelist                                 302 302 302 302 302 403 403 403 403 200
admin:auth_group_delete                                     302 302 302 302 302 403 403 403 403 200
admin:auth_group_history                                    302 302 302 302 302 403 403 403 403 200
admin:auth_user_add                                         302 302 302 302 302 403 403 403 403 200
admin:auth_user_change                                      302 302 302 302 302 403 403 403 403 200
admin:auth_user_changelist                                  302 302 302 302 302 403 403 403 403 200
admin:auth_user_delete                                      302 302 302 302 302 403 403 403 403 200
admin:auth_user_history                                     302 302 302 302 302 403 403 403 403 200
admin:auth_user_password_change                             302 302 302 302 302 403 403 403 403 200
admin:autocomplete                                          302 302 302 302 302 403 200 200 200 200
admin:axes_accessattempt_add                                302 302 302 302 302 403 403 403 403 403
admin:axes_accessattempt_change                             302 302 302 302 302 403 403 403 200 200
admin:axes_accessattempt_changelist                         302 302 302 302 302 403 403 403 200 200
admin:axes_accessattempt_delete                             302 302 302 302 302 403 403 403 403 200
admin:axes_accessattempt_history                            302 302 302 302 302 403 403 403 200 200
admin:axes_accessfailurelog_add                             302 302 302 302 302 403 403 403 403 403
admin:axes_accessfailurelog_change                          302 302 302 302 302 403 403 403 200 200
admin:axes_accessfailurelog_changelist                      302 302 302 302 302 403 403 403 200 200
admin:axes_accessfailurelog_delete                          302 302 302 302 302 403 403 403 403 200
admin:axes_accessfailurelog_history                         302 302 302 302 302 403 403 403 200 200
admin:axes_accesslog_add                                    302 302 302 302 302 403 403 403 403 403
admin:axes_accesslog_change                                 302 302 302 302 302 403 403 403 200 200
admin:axes_accesslog_changelist                             302 302 302 302 302 403 403 403 200 200
admin:axes_accesslog_delete                                 302 302 302 302 302 403 403 403 403 200
admin:axes_accesslog_history                                302 302 302 302 302 403 403 403 200 200
admin:benefits_benefit_add                                  302 302 302 302 302 403 403 403 403 200
admin:benefits_benefit_change                               302 302 302 302 302 403 200 404 200 200
admin:benefits_benefit_changelist                           302 302 302 302 302 403 200 200 200 200
admin:benefits_benefit_delete                               302 302 302 302 302 403 403 404 403 200
admin:benefits_benefit_export                               302 302 302 302 302 403 200 200 200 200
admin:benefits_benefit_history                              302 302 302 302 302 403 200 404 200 200
admin:benefits_benefit_import                               302 302 302 302 302 403 403 403 403 200
admin:benefits_benefit_process_import                       302 302 302 302 302 403 405 405 405 405
admin:benefits_calendarday_add                              302 302 302 302 302 403 403 403 403 200
admin:benefits_calendarday_change                           302 302 302 302 302 403 200 200 200 200
admin:benefits_calendarday_changelist                       302 302 302 302 302 403 200 200 200 200
admin:benefits_calendarday_delete                           302 302 302 302 302 403 403 403 403 200
admin:benefits_calendarday_history                          302 302 302 302 302 403 200 200 200 200
admin:benefits_calendaryear_add                             302 302 302 302 302 403 403 403 403 200
admin:benefits_calendaryear_change                          302 302 302 302 302 403 200 200 200 200
admin:benefits_calendaryear_changelist                      302 302 302 302 302 403 200 200 200 200
admin:benefits_calendaryear_delete                          302 302 302 302 302 403 403 403 403 200
admin:benefits_calendaryear_history                         302 302 302 302 302 403 200 200 200 200
admin:benefits_diagnosis_add                                302 302 302 302 302 403 403 403 403 200
admin:benefits_diagnosis_change                             302 302 302 302 302 403 200 404 200 200
admin:benefits_diagnosis_changelist                         302 302 302 302 302 403 200 200 200 200
admin:benefits_diagnosis_delete                             302 302 302 302 302 403 403 404 403 200
admin:benefits_diagnosis_history                            302 302 302 302 302 403 200 404 200 200
admin:benefits_hospitalisation_add                          302 302 302 302 302 403 403 403 403 200
admin:benefits_hospitalisation_change                       302 302 302 302 302 403 200 404 200 200
admin:benefits_hospitalisation_changelist                   302 302 302 302 302 403 200 200 200 200
admin:benefits_hospitalisation_delete                       302 302 302 302 302 403 403 404 403 200
admin:benefits_hospitalisation_history                      302 302 302 302 302 403 200 404 200 200
admin:benefits_insurer_add                                  302 302 302 302 302 403 403 403 403 200
admin:benefits_insurer_change                               302 302 302 302 302 403 200 404 200 200
admin:benefits_insurer_changelist                           302 302 302 302 302 403 200 200 200 200
admin:benefits_insurer_delete                               302 302 302 302 302 403 403 404 403 200
admin:benefits_insurer_export                               302 302 302 302 302 403 200 200 200 200
admin:benefits_insurer_history                              302 302 302 302 302 403 200 404 200 200
admin:benefits_insurer_import                               302 302 302 302 302 403 403 403 403 200
admin:benefits_insurer_process_import                       302 302 302 302 302 403 405 405 405 405
admin:benefits_person_add                                   302 302 302 302 302 403 403 403 403 200
admin:benefits_person_change                                302 302 302 302 302 403 200 404 200 200
admin:benefits_person_changelist                            302 302 302 302 302 403 200 200 200 200
admin:benefits_person_delete                                302 302 302 302 302 403 403 404 403 200
admin:benefits_person_history                               302 302 302 302 302 403 200 404 200 200
admin:benefits_consentrecord_add                            302 302 302 302 302 403 403 403 403 403
admin:benefits_phonechange_add                              302 302 302 302 302 403 403 403 403 403
admin:benefits_consentrecord_change                         302 302 302 302 302 403 200 404 200 200
admin:benefits_phonechange_change                           302 302 302 302 302 403 200 404 200 200
admin:benefits_consentrecord_changelist                     302 302 302 302 302 403 200 200 200 200
admin:benefits_phonechange_changelist                       302 302 302 302 302 403 200 200 200 200
admin:benefits_consentrecord_delete                         302 302 302 302 302 403 403 404 403 403
admin:benefits_phonechange_delete                           302 302 302 302 302 403 403 404 403 403
admin:benefits_consentrecord_history                        302 302 302 302 302 403 200 404 200 200
admin:benefits_phonechange_history                          302 302 302 302 302 403 200 404 200 200
admin:benefits_policy_add                                   302 302 302 302 302 403 403 403 403 200
admin:benefits_policy_change                                302 302 302 302 302 403 200 404 200 200
admin:benefits_policy_changelist                            302 302 302 302 302 403 200 200 200 200
admin:benefits_policy_delete                                302 302 302 302 302 403 403 404 403 200
admin:benefits_policy_history                               302 302 302 302 302 403 200 404 200 200
admin:benefits_policy_import                                302 302 302 302 302 403 403 403 403 200
admin:benefits_policy_process_import                        302 302 302 302 302 403 405 405 405 405
admin:benefits_product_add                                  302 302 302 302 302 403 403 403 403 200
admin:benefits_product_change                               302 302 302 302 302 403 200 404 200 200
admin:benefits_product_changelist                           302 302 302 302 302 403 200 200 200 200
admin:benefits_product_delete                               302 302 302 302 302 403 403 404 403 200
admin:benefits_product_export                               302 302 302 302 302 403 200 200 200 200
admin:benefits_product_history                              302 302 302 302 302 403 200 404 200 200
admin:benefits_product_import                               302 302 302 302 302 403 403 403 403 200
admin:benefits_product_process_import                       302 302 302 302 302 403 405 405 405 405
admin:benefits_service_add                                  302 302 302 302 302 403 403 403 403 200
admin:benefits_service_change                               302 302 302 302 302 403 200 200 200 200
admin:benefits_service_changelist                           302 302 302 302 302 403 200 200 200 200
admin:benefits_service_delete                               302 302 302 302 302 403 403 403 403 200
admin:benefits_service_export                               302 302 302 302 302 403 200 200 200 200
admin:benefits_service_history                              302 302 302 302 302 403 200 200 200 200
admin:benefits_service_import                               302 302 302 302 302 403 403 403 403 200
admin:benefits_service_process_import                       302 302 302 302 302 403 405 405 405 405
admin:benefits_vendor_add                                   302 302 302 302 302 403 403 403 403 200
admin:benefits_vendor_change                                302 302 302 302 302 403 200 404 200 200
admin:benefits_vendor_changelist                            302 302 302 302 302 403 200 200 200 200
admin:benefits_vendor_delete                                302 302 302 302 302 403 403 404 403 200
admin:benefits_vendor_export                                302 302 302 302 302 403 200 200 200 200
admin:benefits_vendor_history                               302 302 302 302 302 403 200 404 200 200
admin:benefits_vendor_import                                302 302 302 302 302 403 403 403 403 200
admin:benefits_vendor_process_import                        302 302 302 302 302 403 405 405 405 405
# Complaints: operators record and handle them; nobody deletes one (a regulatory record).
admin:bookings_complaint_add                                302 302 302 302 302 403 200 200 403 200
admin:bookings_complaint_change                             302 302 302 302 302 403 200 404 200 200
admin:bookings_complaint_changelist                         302 302 302 302 302 403 200 200 200 200
admin:bookings_complaint_delete                             302 302 302 302 302 403 403 404 403 403
admin:bookings_complaint_history                            302 302 302 302 302 403 200 404 200 200
admin:bookings_complaint_report                             302 302 302 302 302 403 200 200 200 200
admin:bookings_contractprice_add                            302 302 302 302 302 403 403 403 403 200
admin:bookings_contractprice_change                         302 302 302 302 302 403 403 404 200 200
admin:bookings_contractprice_changelist                     302 302 302 302 302 403 403 403 200 200
admin:bookings_contractprice_delete                         302 302 302 302 302 403 403 404 403 200
admin:bookings_contractprice_export                         302 302 302 302 302 403 403 403 200 200
admin:bookings_contractprice_history                        302 302 302 302 302 403 403 404 200 200
admin:bookings_contractprice_import                         302 302 302 302 302 403 403 403 403 200
admin:bookings_contractprice_process_import                 302 302 302 302 302 403 405 405 405 405
admin:bookings_dashboard                                    302 302 302 302 302 403 200 200 200 200
admin:bookings_workload                                     302 302 302 302 302 403 200 200 200 200
admin:bookings_document_file                                302 302 302 302 302 403 200 404 403 200
admin:bookings_documentaccess_add                           302 302 302 302 302 403 403 403 403 403
admin:bookings_documentaccess_change                        302 302 302 302 302 403 403 404 200 200
admin:bookings_documentaccess_changelist                    302 302 302 302 302 403 403 403 200 200
admin:bookings_documentaccess_delete                        302 302 302 302 302 403 403 404 403 403
admin:bookings_documentaccess_history                       302 302 302 302 302 403 403 404 200 200
admin:bookings_notification_add                             302 302 302 302 302 403 403 403 403 403
admin:bookings_notification_change                          302 302 302 302 302 403 200 404 200 200
admin:bookings_notification_changelist                      302 302 302 302 302 403 200 200 200 200
admin:bookings_notification_delete                          302 302 302 302 302 403 403 404 403 200
admin:bookings_notification_history                         302 302 302 302 302 403 200 404 200 200
admin:bookings_productpremium_add                           302 302 302 302 302 403 403 403 403 200
admin:bookings_productpremium_change                        302 302 302 302 302 403 403 404 200 200
admin:bookings_productpremium_changelist                    302 302 302 302 302 403 403 403 200 200
admin:bookings_productpremium_delete                        302 302 302 302 302 403 403 404 403 200
admin:bookings_productpremium_history                       302 302 302 302 302 403 403 404 200 200
admin:bookings_servicerequest_add                           302 302 302 302 302 403 403 403 403 403
admin:bookings_servicerequest_change                        302 302 302 302 302 403 200 404 200 200
admin:bookings_servicerequest_changelist                    302 302 302 302 302 403 200 200 200 200
admin:bookings_servicerequest_delete                        302 302 302 302 302 403 403 404 403 403
# A request's desk (its page's buttons and forms): who may act on requests, of its insurer.
admin:bookings_servicerequest_step                          302 302 302 302 302 403 200 404 403 200
# A review gate's decision: the 主管's (bookings.reject_servicerequest). The world's request
# has no gate, so the superuser is sent back to its page.
admin:bookings_servicerequest_review                        302 302 302 302 302 403 403 404 403 302
admin:bookings_servicerequest_assignee                      302 302 302 302 302 403 200 404 403 200
admin:bookings_servicerequest_note                          302 302 302 302 302 403 200 404 403 200
admin:bookings_servicerequest_call                          302 302 302 302 302 403 200 404 403 200
# The queue's export: every role that reads requests, each of its insurers' rows only.
admin:bookings_servicerequest_export                        302 302 302 302 302 403 200 200 200 200
admin:bookings_servicerequest_history                       302 302 302 302 302 403 200 404 200 200
admin:bookings_statementline_add                            302 302 302 302 302 403 403 403 403 403
admin:bookings_statementline_change                         302 302 302 302 302 403 403 404 200 200
admin:bookings_statementline_changelist                     302 302 302 302 302 403 403 403 200 200
admin:bookings_statementline_delete                         302 302 302 302 302 403 403 404 403 403
admin:bookings_statementline_history                        302 302 302 302 302 403 403 404 200 200
admin:bookings_vendorstatement_add                          302 302 302 302 302 403 403 403 403 403
admin:bookings_vendorstatement_change                       302 302 302 302 302 403 403 404 200 200
admin:bookings_vendorstatement_changelist                   302 302 302 302 302 403 403 403 200 200
admin:bookings_vendorstatement_delete                       302 302 302 302 302 403 403 404 403 403
admin:bookings_vendorstatement_history                      302 302 302 302 302 403 403 404 200 200
admin:bookings_vendortoken_add                              302 302 302 302 302 403 403 403 403 200
admin:bookings_vendortoken_change                           302 302 302 302 302 403 403 404 200 200
admin:bookings_vendortoken_changelist                       302 302 302 302 302 403 403 403 200 200
admin:bookings_vendortoken_delete                           302 302 302 302 302 403 403 404 403 200
admin:bookings_vendortoken_history                          302 302 302 302 302 403 403 404 200 200
admin:bookings_vendoraccount_add                            302 302 302 302 302 403 403 403 403 200
admin:bookings_vendoraccount_change                         302 302 302 302 302 403 403 404 200 200
admin:bookings_vendoraccount_changelist                     302 302 302 302 302 403 403 403 200 200
admin:bookings_vendoraccount_delete                         302 302 302 302 302 403 403 404 403 200
admin:bookings_vendoraccount_history                        302 302 302 302 302 403 403 404 200 200
admin:bookings_vendorwebhook_add                            302 302 302 302 302 403 403 403 403 200
admin:bookings_vendorwebhook_change                         302 302 302 302 302 403 403 404 200 200
admin:bookings_vendorwebhook_changelist                     302 302 302 302 302 403 403 403 200 200
admin:bookings_vendorwebhook_delete                         302 302 302 302 302 403 403 404 403 200
admin:bookings_vendorwebhook_history                        302 302 302 302 302 403 403 404 200 200
admin:bookings_webhookdelivery_add                          302 302 302 302 302 403 403 403 403 403
admin:bookings_webhookdelivery_change                       302 302 302 302 302 403 403 404 200 200
admin:bookings_webhookdelivery_changelist                   302 302 302 302 302 403 403 403 200 200
admin:bookings_webhookdelivery_delete                       302 302 302 302 302 403 403 404 403 200
admin:bookings_webhookdelivery_history                      302 302 302 302 302 403 403 404 200 200
admin:coverage_coveragelist_add                             302 302 302 302 302 403 403 403 403 200
admin:coverage_coveragelist_change                          302 302 302 302 302 403 200 404 200 200
admin:coverage_coveragelist_changelist                      302 302 302 302 302 403 200 200 200 200
admin:coverage_coveragelist_delete                          302 302 302 302 302 403 403 404 403 200
admin:coverage_coveragelist_history                         302 302 302 302 302 403 200 404 200 200
admin:coverage_coveragelist_import                          302 302 302 302 302 403 403 403 403 200
admin:coverage_coveragelist_import_template                 302 302 302 302 302 403 403 403 403 200
admin:coverage_coveragelist_process_import                  302 302 302 302 302 403 405 405 405 405
admin:coverage_coveragelistmember_add                       302 302 302 302 302 403 403 403 403 403
admin:coverage_coveragelistmember_change                    302 302 302 302 302 403 200 404 200 200
admin:coverage_coveragelistmember_changelist                302 302 302 302 302 403 200 200 200 200
admin:coverage_coveragelistmember_delete                    302 302 302 302 302 403 403 404 403 200
admin:coverage_coveragelistmember_history                   302 302 302 302 302 403 200 404 200 200
admin:coverage_listentry_add                                302 302 302 302 302 403 403 403 403 403
admin:coverage_listentry_change                             302 302 302 302 302 403 200 404 200 200
admin:coverage_listentry_changelist                         302 302 302 302 302 403 200 200 200 200
admin:coverage_listentry_delete                             302 302 302 302 302 403 403 404 403 200
admin:coverage_listentry_history                            302 302 302 302 302 403 200 404 200 200
admin:coverage_region_add                                   302 302 302 302 302 403 403 403 403 403
admin:coverage_region_change                                302 302 302 302 302 403 200 200 200 200
admin:coverage_region_changelist                            302 302 302 302 302 403 200 200 200 200
admin:coverage_region_delete                                302 302 302 302 302 403 403 403 403 200
admin:coverage_region_history                               302 302 302 302 302 403 200 200 200 200
admin:coverage_regionalias_add                              302 302 302 302 302 403 403 403 403 200
admin:coverage_regionalias_change                           302 302 302 302 302 403 200 200 200 200
admin:coverage_regionalias_changelist                       302 302 302 302 302 403 200 200 200 200
admin:coverage_regionalias_delete                           302 302 302 302 302 403 403 403 403 200
admin:coverage_regionalias_history                          302 302 302 302 302 403 200 200 200 200
admin:coverage_unresolvedname_add                           302 302 302 302 302 403 403 403 403 200
admin:coverage_unresolvedname_change                        302 302 302 302 302 403 200 404 200 200
admin:coverage_unresolvedname_changelist                    302 302 302 302 302 403 200 200 200 200
admin:coverage_unresolvedname_delete                        302 302 302 302 302 403 403 404 403 200
admin:coverage_unresolvedname_history                       302 302 302 302 302 403 200 404 200 200
# Find the customer: a single hit (policyholder A's phone) redirects to the customer page;
# insurer 2's operator finds nobody (200, empty list) and gets 404 for the customer page.
admin:customer                                              302 302 302 302 302 403 200 404 200 200
admin:customer_requests_export                              302 302 302 302 302 403 200 404 200 200
admin:customer_search                                       302 302 302 302 302 403 302 200 302 302
admin:django_celery_beat_clockedschedule_add                302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_clockedschedule_change             302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_clockedschedule_changelist         302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_clockedschedule_delete             302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_clockedschedule_history            302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_crontabschedule_add                302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_crontabschedule_change             302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_crontabschedule_changelist         302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_crontabschedule_delete             302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_crontabschedule_history            302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_intervalschedule_add               302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_intervalschedule_change            302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_intervalschedule_changelist        302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_intervalschedule_delete            302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_intervalschedule_history           302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_periodictask_add                   302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_periodictask_change                302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_periodictask_changelist            302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_periodictask_delete                302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_periodictask_history               302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_solarschedule_add                  302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_solarschedule_change               302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_solarschedule_changelist           302 302 302 302 302 403 403 403 200 200
admin:django_celery_beat_solarschedule_delete               302 302 302 302 302 403 403 403 403 200
admin:django_celery_beat_solarschedule_history              302 302 302 302 302 403 403 403 200 200
admin:index                                                 302 302 302 302 302 403 200 200 200 200
admin:jsi18n                                                302 302 302 302 302 403 200 200 200 200
admin:login                                                 200 200 200 200 200 302 302 302 302 302
admin:logout                                                302 302 302 302 302 405 405 405 405 405
admin:password_change                                       302 302 302 302 302 200 200 200 200 200
admin:password_change_done                                  302 302 302 302 302 200 200 200 200 200
admin:portal_policyholderaccount_add                        302 302 302 302 302 403 403 403 403 403
admin:portal_policyholderaccount_change                     302 302 302 302 302 403 403 404 200 200
admin:portal_policyholderaccount_changelist                 302 302 302 302 302 403 403 403 200 200
admin:portal_policyholderaccount_delete                     302 302 302 302 302 403 403 404 403 403
admin:portal_policyholderaccount_history                    302 302 302 302 302 403 403 404 200 200
admin:portal_smsmessage_add                                 302 302 302 302 302 403 403 403 403 403
admin:portal_smsmessage_change                              302 302 302 302 302 403 403 403 403 200
admin:portal_smsmessage_changelist                          302 302 302 302 302 403 403 403 403 200
admin:portal_smsmessage_delete                              302 302 302 302 302 403 403 403 403 403
admin:portal_smsmessage_history                             302 302 302 302 302 403 403 403 403 200
admin:portal_stafftoken_add                                 302 302 302 302 302 403 403 403 403 200
admin:portal_stafftoken_change                              302 302 302 302 302 403 200 404 404 200
admin:portal_stafftoken_changelist                          302 302 302 302 302 403 200 200 200 200
admin:portal_stafftoken_delete                              302 302 302 302 302 403 403 404 404 200
admin:portal_stafftoken_history                             302 302 302 302 302 403 200 404 404 200
admin:view_on_site                                          302 302 302 302 302 403 404 404 404 404

# API documentation: the staff API's behind the staff login (admin's login page); the
# vendor API's public (it describes the API, it holds no data).
api:api-root                                                404 404 404 404 404 404 404 404 404 404
api:openapi-json                                            302 302 302 302 302 200 200 200 200 200
api:openapi-view                                            302 302 302 302 302 200 200 200 200 200
vendor_api:api-root                                         404 404 404 404 404 404 404 404 404 404
vendor_api:openapi-json                                     200 200 200 200 200 200 200 200 200 200
vendor_api:openapi-view                                     200 200 200 200 200 200 200 200 200 200

# The browser's icon request: a redirect to the static SVG, for everyone.
favicon                                                     301 301 301 301 301 301 301 301 301 301

# Health checks: public, for the load balancer (portal.site.health). /readyz runs with the
# broker on a closed port (``broker_down`` below), so its row is 503 whether or not a Redis
# answers here; tests/ops/test_health.py proves its 200.
healthz                                                     200 200 200 200 200 200 200 200 200 200
readyz                                                      503 503 503 503 503 503 503 503 503 503

# Portal: visitors (vendors too: a token is no login) go to the SMS login; another person's
# request, member or file is 404; staff have no policyholder account (404).
portal:benefit_detail                                       302 200 404 302 302 404 404 404 404 404
portal:document_delete                                      302 302 404 302 302 404 404 404 404 404
portal:complaint_list                                       302 200 200 302 302 404 404 404 404 404
portal:complaint_new                                        302 200 200 302 302 404 404 404 404 404
portal:consent                                              302 200 200 302 302 404 404 404 404 404
portal:data_copy                                            302 200 200 302 302 404 404 404 404 404
portal:document_file                                        302 200 404 302 302 404 404 404 404 404
portal:home                                                 302 200 200 302 302 404 404 404 404 404
portal:login                                                200 200 200 200 200 200 200 200 200 200
portal:login_bind                                           302 302 302 302 302 404 404 404 404 404
portal:login_code                                           302 302 302 302 302 302 302 302 302 302
portal:logout                                               405 405 405 405 405 405 405 405 405 405
portal:notifications                                        302 200 200 302 302 404 404 404 404 404
portal:place_picker                                         302 200 404 302 302 404 404 404 404 404
portal:request_cancel                                       302 200 404 302 302 404 404 404 404 404
portal:request_detail                                       302 200 404 302 302 404 404 404 404 404
portal:request_list                                         302 200 200 302 302 404 404 404 404 404
portal:request_new                                          302 200 404 302 302 404 404 404 404 404
portal:request_rating                                       302 302 404 302 302 404 404 404 404 404
portal:request_upload                                       302 302 404 302 302 404 404 404 404 404
portal:where                                                302 200 200 302 302 404 404 404 404 404
portal:where_benefit                                        302 200 200 302 302 404 404 404 404 404

# Vendor workbench (portal.vendor): its own login (password + SMS code), no token; without a
# workbench session every page goes to that login. The actions are POST only. Isolation
# between vendors: tests/portal/test_vendor_workbench.py.
vendor:document_file                                        302 302 302 302 302 302 302 302 302 302
vendor:home                                                 302 302 302 302 302 302 302 302 302 302
vendor:login                                                200 200 200 200 200 200 200 200 200 200
vendor:login_code                                           302 302 302 302 302 302 302 302 302 302
vendor:logout                                               405 405 405 405 405 405 405 405 405 405
vendor:request_consumption                                  405 405 405 405 405 405 405 405 405 405
vendor:request_deliverable                                  405 405 405 405 405 405 405 405 405 405
vendor:request_detail                                       302 302 302 302 302 302 302 302 302 302
vendor:request_event                                        405 405 405 405 405 405 405 405 405 405
"""


def table(text: str) -> dict[str, tuple[str, ...]]:
    """``EXPECTED_TABLE`` as {key: one status per role}; "#" lines are comments."""
    rows: dict[str, tuple[str, ...]] = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        words = line.split()
        name, row = " ".join(words[: -len(ROLES)]), tuple(words[-len(ROLES) :])
        assert name not in rows, f"two rows for {name}"
        rows[name] = row
    return rows


EXPECTED = table(EXPECTED_TABLE)

# The staff user's own account: reachable without a role (to log out, to set a password).
OWN_ACCOUNT_PAGES = {
    "admin:login",
    "admin:logout",
    "admin:password_change",
    "admin:password_change_done",
}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at its end; each test runs
    in a savepoint of it, so what a test changes is undone before the next."""
    media = tmp_path_factory.mktemp("private-media")
    with django_db_blocker.unblock(), override_settings(PRIVATE_MEDIA_ROOT=media):
        with transaction.atomic():
            built = build_world()
            yield built
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def broker_down(settings):
    """/readyz's broker check against a port nothing listens on: a fixed answer (503)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"


def statuses(world: World, role: str, keys: list[str]) -> dict[str, int]:
    """The status ``role`` gets for each key: GETs first, then the writes."""
    found = probes(world)
    ordered = sorted(keys, key=lambda key: (found[key].method != "GET", key))
    return {key: call(world.clients[role], found[key]) for key in ordered}


# --- the matrix -----------------------------------------------------------------------


def test_every_url_and_api_operation_has_a_row_in_the_table(world):
    enumerated = set(probes(world))
    missing = sorted(enumerated - set(EXPECTED))
    stale = sorted(set(EXPECTED) - enumerated)
    assert not missing, f"URLs without a row in EXPECTED (add what each role gets): {missing}"
    assert not stale, f"rows in EXPECTED for URLs that no longer exist: {stale}"
    assert all(len(row) == len(ROLES) for row in EXPECTED.values())


@pytest.mark.parametrize("role", ROLES)
def test_access_matrix(world, role):
    column = ROLES.index(role)
    keys = sorted(set(probes(world)) & set(EXPECTED))
    got = statuses(world, role, keys)
    wrong_answers = [
        f"{key}: expected {EXPECTED[key][column]}, got {status}"
        for key, status in got.items()
        if str(status) != EXPECTED[key][column]
    ]
    assert not wrong_answers, f"{role}:\n" + "\n".join(wrong_answers)


def test_acceptance_staff_without_a_role_get_403_from_every_admin_page_and_staff_api_call(
    world,
):
    found = probes(world)
    staff_api = {key for key in api_operations() if " /api/staff/" in key}
    admin_pages = {key for key in found if key.startswith("admin") and key not in OWN_ACCOUNT_PAGES}
    got = statuses(world, "staff_no_role", sorted(staff_api | admin_pages))
    assert len(admin_pages) > 200 and len(staff_api) >= 7  # the enumeration found the site
    assert {key: status for key, status in got.items() if status != 403} == {}


def test_no_admin_list_shows_operator_2_an_object_of_insurer_1(world):
    # given the change link of insurer 1's object on each scoped model's list
    shown_to_superuser, leaked = [], []
    for model, obj in world.admin_objects.items():
        if not is_scoped(model) or model not in admin.site._registry:
            continue
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        link = reverse(
            f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[obj.pk]
        )
        # when the superuser and operator 2 open the list
        if link in world.clients["superuser"].get(changelist).text:
            shown_to_superuser.append(model._meta.label)
            page = world.clients["operator_2"].get(changelist)
            # then operator 2 sees no link to it (or may not open the list at all)
            if page.status_code == 200 and link in page.text:
                leaked.append(model._meta.label)
    assert len(shown_to_superuser) >= 15  # the check is not vacuous
    assert leaked == []


def test_no_admin_list_filter_offers_operator_2_insurer_1s_catalogue(world):
    # given the names of insurer 1's products, own team and coverage lists (not insurer 2's)
    theirs = {
        *Product.objects.filter(insurer__code=INSURER_2).values_list("name", flat=True),
        *CoverageList.objects.filter(insurer__code=INSURER_2).values_list("title", flat=True),
    }
    names = {
        *Product.objects.filter(insurer__code=INSURER_1).values_list("name", flat=True),
        *Vendor.objects.filter(insurer__code=INSURER_1).values_list("name", flat=True),
        *CoverageList.objects.filter(insurer__code=INSURER_1).values_list("title", flat=True),
    } - theirs
    # when operator 2 opens every list of admin
    shown = {}
    for model in admin.site._registry:
        opts = model._meta
        page = world.clients["operator_2"].get(
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        )
        if page.status_code == 200:
            shown[opts.label] = sorted(name for name in names if name in page.text)
    # then no filter (product, vendor, list …) names one of them
    assert len(shown) >= 15
    assert {label: found for label, found in shown.items() if found} == {}


# --- the portal -------------------------------------------------------------------------


def test_a_document_of_another_request_of_the_same_person_is_404(world):
    policy, first = world.policy, world.request
    second = ServiceRequest.objects.create(
        ref="SRACCESS0002",
        policy=policy,
        member=policy.members.get(ref="M1"),
        recipient=policy.members.get(ref="M1"),
        benefit=first.benefit,
        status=Status.COMPLETED,
    )
    client = world.clients["holder_a"]
    own = reverse("portal:document_file", args=[first.ref, world.document.pk])
    crossed = reverse("portal:document_file", args=[second.ref, world.document.pk])
    assert call_status(client, own) == 200
    assert call_status(client, crossed) == 404


def call_status(client: Client, url: str) -> int:
    response = client.get(url)
    finish(response)
    return response.status_code


def test_a_benefit_of_another_product_in_the_request_form_is_404(world):
    member = world.policy.members.get(ref="M1")
    client = world.clients["holder_a"]
    other_product = Benefit.objects.filter(product__insurer__code=INSURER_2).first()
    own = reverse("portal:request_new", args=[member.pk, OUTPATIENT_ASSIST])
    foreign = reverse("portal:request_new", args=[member.pk, other_product.code])
    assert client.get(own).status_code == 200
    assert client.get(foreign).status_code == 404


def test_an_adult_member_of_the_holders_policy_does_not_see_the_holders_requests(client):
    # given a request for the holder (M1) and the insured spouse (M2) logged in
    policy = family("ACCESS-SPOUSE", "13800000201")
    holders = outpatient_request(policy=policy, member_ref="M1", at=timezone.now())
    spouse = policy.members.get(ref="M2").person
    spouse.phone = "13800000202"
    spouse.save()
    policyholder_login(client, spouse)
    # when the spouse lists their requests and opens the holder's
    listing = client.get(reverse("portal:request_list"))
    detail = client.get(reverse("portal:request_detail", args=[holders.ref]))
    # then the holder's request is neither listed nor opened
    assert listing.status_code == 200 and holders.ref not in listing.text
    assert detail.status_code == 404
    assert holders.ref not in client.get(reverse("portal:notifications")).text


def test_a_spouse_cannot_act_for_a_minor_on_the_policy_who_is_not_their_child(client):
    policy = policy_with_members(
        number="ACCESS-NEPHEW",
        product="pingan.health",
        members=[
            ("王一", date(1985, 1, 1), "self"),
            ("李二", date(1986, 2, 2), "spouse"),
            ("王小侄", timezone.localdate() - timedelta(days=365 * 10), "other"),
        ],
        effective_on=timezone.localdate() - timedelta(days=60),
        phones={0: "13800000301", 1: "13800000302"},
    )
    nephew = policy.members.get(ref="M3")
    url = reverse("portal:request_new", args=[nephew.pk, OUTPATIENT_ASSIST])
    policyholder_login(client, policy.members.get(ref="M2").person)
    assert client.get(url).status_code == 404
    holder = Client()
    policyholder_login(holder, policy.holder)
    assert holder.get(url).status_code == 200  # the holder acts for every insured member


def test_a_right_code_resets_the_wrong_code_count():
    # given four wrong codes, then the right one
    phone, ip, start = "13800000401", "203.0.113.40", timezone.now()
    otp_request(phone, ip, now=start)
    code = code_from_outbox(phone)
    for second in range(1, MAX_FAILED_ATTEMPTS):
        refusal(otp_verify, phone, wrong(code), ip, now=start + timedelta(seconds=second))
    otp_verify(phone, code, ip, now=start + timedelta(seconds=5))
    # when four more wrong codes follow within the same 15 minutes
    later = start + timedelta(seconds=70)
    otp_request(phone, ip, now=later)
    code = code_from_outbox(phone)
    errors = [
        refusal(otp_verify, phone, wrong(code), ip, now=later + timedelta(seconds=second))
        for second in range(1, MAX_FAILED_ATTEMPTS)
    ]
    # then none of them locks the phone: the count started again at the right code
    assert [error.code for error in errors] == ["otp_invalid"] * 4
    assert errors[-1].message == "验证码不正确，还可尝试1次"
    assert otp_verify(phone, code, ip, now=later + timedelta(seconds=10)).phone == phone


# --- the vendor API -----------------------------------------------------------------------


def test_a_token_of_a_deactivated_vendor_is_refused_with_401(world):
    client = world.clients["vendor_x"]
    assert client.get("/api/vendor/v1/requests").status_code == 200
    Vendor.objects.filter(code=world.request.vendor.code).update(active=False)
    response = client.get("/api/vendor/v1/requests")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert client.get(f"/api/vendor/v1/requests/{world.request.ref}").status_code == 401


# --- admin: another insurer's operator ------------------------------------------------------


def test_operator_2_neither_lists_nor_opens_insurer_1s_policy_in_admin(world):
    client = world.clients["operator_2"]
    listing = client.get(reverse("admin:benefits_policy_changelist"))
    searched = client.get(reverse("admin:benefits_policy_changelist"), {"q": world.policy.number})
    change = reverse("admin:benefits_policy_change", args=[world.policy.pk])
    assert listing.status_code == 200 and world.policy.number not in listing.text
    assert searched.context["cl"].result_count == 0
    assert client.get(change).status_code == 404
    assert world.clients["operator_1"].get(change).status_code == 200


@pytest.mark.parametrize(
    ("model_name", "field_name"),
    [("policymember", "person"), ("policy", "holder"), ("hospitalisation", "person")],
)
def test_operator_2_autocomplete_does_not_offer_insurer_1s_person(world, model_name, field_name):
    params = {
        "app_label": "benefits",
        "model_name": model_name,
        "field_name": field_name,
        "term": world.policy.holder.name,
    }

    def offered(role: str) -> set[str]:
        response = world.clients[role].get(reverse("admin:autocomplete"), params)
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert str(world.policy.holder.pk) in offered("operator_1")
    assert str(world.policy.holder.pk) not in offered("operator_2")


def exported_csv(client: Client, url: str) -> str:
    """The CSV export of an admin list, every field selected."""
    form = client.get(url).context["form"]
    formats = dict(form.fields["format"].choices)
    data = {
        name: "on"
        for name, field in form.fields.items()
        if field.widget.input_type == "checkbox"
        if hasattr(field.widget, "input_type")
    }
    data["format"] = next(key for key, label in formats.items() if "csv" in str(label).lower())
    data["resource"] = "0"
    response = client.post(url, data)
    assert response.status_code == 200, response.status_code
    return response.content.decode("utf-8-sig")


def test_operator_2_exports_no_benefit_of_insurer_1(world):
    url = reverse("admin:benefits_benefit_export")
    theirs = exported_csv(world.clients["operator_2"], url)
    mine = exported_csv(world.clients["operator_1"], url)
    assert OUTPATIENT_ASSIST in mine and "axa.zysh." not in mine
    assert "axa.zysh." in theirs
    assert f"{INSURER_1}." not in theirs


def approved_request(number: str) -> ServiceRequest:
    request = outpatient_request(number=number, at=at(2026, 3, 2, 10))
    return request_transition(request, "approved", actor=OPS)


def test_a_supervisor_of_insurer_2_cannot_assign_insurer_1s_request_by_bulk_action(client):
    # given an approved request of insurer 1 and a supervisor of insurer 2
    request = approved_request("ACCESS-ASSIGN-1")
    client.force_login(staff_member("supervisor", [INSURER_2]))
    # when the supervisor posts the assign action with its id, vendor chosen
    act(client, "assign_vendor", [request], apply="1", vendor=request.benefit.vendor_id)
    # then nothing changed
    request.refresh_from_db()
    assert (request.status, request.vendor_id) == (Status.APPROVED, None)


def offered_actions(client: Client) -> set[str]:
    page = client.get(reverse("admin:bookings_servicerequest_changelist"))
    return {name for name, _label in page.context["action_form"].fields["action"].choices}


def test_an_operator_may_not_reject_or_assign_and_a_supervisor_may(client):
    # given a submitted request (to reject) and an approved one (to assign) of insurer 1
    submitted = outpatient_request(number="ACCESS-REJECT-1", at=at(2026, 3, 2, 10))
    approved = approved_request("ACCESS-ASSIGN-2")
    vendor = approved.benefit.vendor_id

    def post_both() -> tuple[tuple[str, int | None], str]:
        act(client, "reject", [submitted], apply="1", reason="资料不全")
        act(client, "assign_vendor", [approved], apply="1", vendor=vendor)
        approved.refresh_from_db()
        submitted.refresh_from_db()
        return (approved.status, approved.vendor_id), submitted.status

    # an operator is not offered the actions, and posting them changes nothing
    client.force_login(staff_member("operator", [INSURER_1]))
    assert {"reject", "assign_vendor"}.isdisjoint(offered_actions(client))
    assert post_both() == ((Status.APPROVED, None), Status.SUBMITTED)
    # a supervisor is offered both and they apply
    client.force_login(staff_member("supervisor", [INSURER_1]))
    assert {"reject", "assign_vendor"} <= offered_actions(client)
    assert post_both() == ((Status.ASSIGNED, vendor), Status.REJECTED)


# --- acceptance: staff_access and tokens ----------------------------------------------------


def axa_policy(number: str) -> Policy:
    return policy_with_members(
        number=number,
        product="axa.zysh",
        members=[("安盛客户", date(1981, 6, 1), "self")],
        effective_on=date(2026, 1, 2),
    )


def test_acceptance_op1_from_staff_access_reads_pingan_entitlements_and_gets_404_for_axa(client):
    # given op1 made a pingan operator by the command, a pingan and an axa policy
    call_command(
        "staff_access", "op1", "--insurer", INSURER_1, "--role", "operator", stdout=io.StringIO()
    )
    from django.contrib.auth import get_user_model

    op1 = get_user_model().objects.get(username="op1")
    pingan = family("ACCESS-OP1-PA", "13800000501")
    axa = axa_policy("ACCESS-OP1-AXA")
    headers = staff_bearer(op1)
    # when op1 reads entitlements through the API and opens the policies in admin
    mine = client.get(f"/api/staff/v1/policies/{pingan.number}/entitlements", headers=headers)
    theirs = client.get(f"/api/staff/v1/policies/{axa.number}/entitlements", headers=headers)
    client.force_login(op1)
    admin_mine = client.get(reverse("admin:benefits_policy_change", args=[pingan.pk]))
    admin_theirs = client.get(reverse("admin:benefits_policy_change", args=[axa.pk]))
    # then pingan's answer, and axa's policy does not exist for op1
    assert mine.status_code == 200 and mine.json()["policy"] == pingan.number
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"
    assert (admin_mine.status_code, admin_theirs.status_code) == (200, 404)


def test_a_staff_token_acts_with_its_users_insurers(client, world):
    axa = axa_policy("ACCESS-TOKEN-AXA")
    headers = staff_bearer(world.users["operator_2"])
    insurer_1 = f"/api/staff/v1/policies/{world.policy.number}/entitlements"
    assert client.get(insurer_1, headers=headers).status_code == 404
    assert (
        client.get(f"/api/staff/v1/policies/{axa.number}/entitlements", headers=headers).status_code
        == 200
    )
    eligibility = client.post(
        "/api/staff/v1/eligibility",
        json.dumps(
            {
                "policy": world.policy.number,
                "member": "M1",
                "benefit": OUTPATIENT_ASSIST,
                "at": timezone.now().isoformat(),
            }
        ),
        content_type="application/json",
        headers=headers,
    )
    assert eligibility.status_code == 404


def test_a_supervisor_of_insurer_2_cannot_change_the_phone_of_insurer_1s_policyholder(
    client, world
):
    # given insurer 1's policyholder, whose phone is their portal login
    holder = world.policy.holder
    person = {"name": holder.name, "id_number": holder.id_number, "phone": "13900000999"}
    start = timezone.localdate()
    body = {
        "number": "ACCESS-AXA-SHARED",
        "product": "axa.zysh",
        "signed_on": start.isoformat(),
        "effective_on": start.isoformat(),
        "expires_on": (start + timedelta(days=365)).isoformat(),
        "holder": person,
        "members": [{**person, "ref": "M1", "relation": "self"}],
    }
    # when a supervisor of insurer 2 sends a policy naming them with another phone
    response = client.post(
        "/api/staff/v1/policies",
        json.dumps(body),
        content_type="application/json",
        headers=staff_bearer(staff_member("supervisor", [INSURER_2])),
    )
    # then the change is refused and the phone (and who logs in with it) stays
    holder.refresh_from_db()
    assert response.status_code == 409
    assert response.json()["code"] == "person_shared_across_insurers"
    assert holder.phone == "13800000101"
    assert not Policy.objects.filter(number="ACCESS-AXA-SHARED").exists()
