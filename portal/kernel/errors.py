"""One error vocabulary: services raise ``DomainError`` with a stable code and a Chinese
message; the API maps it (and every other failure) to ``{"code", "message"}``; forms show the
message. Every code a caller can receive is registered in ``ErrorCode``
(``tests/portal/test_error_codes.py`` finds every raise and checks it)."""

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    # --- the API layer (any endpoint) ---
    NOT_AUTHENTICATED = "not_authenticated"
    PERMISSION_DENIED = "permission_denied"
    INVALID_INPUT = "invalid_input"
    INVALID_JSON = "invalid_json"  # a body the API's parser cannot read (400)
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    HTTP_ERROR = "http_error"
    SERVER_ERROR = "server_error"
    SERVICE_UNAVAILABLE = "service_unavailable"  # the database cannot be reached (503)
    NAIVE_DATETIME = "naive_datetime"
    # --- coverage ---
    REGION_NOT_FOUND = "region_not_found"
    NOT_A_CITY_LIST = "not_a_city_list"
    INVALID_REGION = "invalid_region"
    # --- policies and people ---
    UNKNOWN_PRODUCT = "unknown_product"
    INVALID_STATUS = "invalid_status"
    INVALID_DATES = "invalid_dates"
    INVALID_ID_NUMBER = "invalid_id_number"
    INVALID_RELATION = "invalid_relation"
    INVALID_CITY = "invalid_city"
    INVALID_NAME = "invalid_name"
    INVALID_PHONE = "invalid_phone"
    DUPLICATE_MEMBER = "duplicate_member"
    DUPLICATE_MEMBER_REF = "duplicate_member_ref"
    BIRTH_DATE_MISMATCH = "birth_date_mismatch"
    MISSING_BIRTH_DATE = "missing_birth_date"
    PERSON_SHARED_ACROSS_INSURERS = "person_shared_across_insurers"
    INVALID_AMOUNT = "invalid_amount"  # a negative sum insured
    INVALID_RIDER = "invalid_rider"  # a rider code that is not a code
    # --- quota and eligibility ---
    OUTSIDE_POLICY_PERIOD = "outside_policy_period"
    BENEFIT_NOT_IN_PRODUCT = "benefit_not_in_product"
    QUOTA_EXHAUSTED = "quota_exhausted"
    NOT_ELIGIBLE = "not_eligible"
    INCOMPLETE = "incomplete"
    STAY_REQUIRED = "stay_required"
    # --- consent (PIPL) ---
    CONSENT_WITHDRAWN = "consent_withdrawn"  # records needed, health-information consent withdrawn
    # a vendor asks for a request's records without the member's standing consent (403)
    RECORDS_CONSENT_WITHDRAWN = "records_consent_withdrawn"
    DOCUMENT_PURGED = "document_purged"  # the file was deleted after its retention period
    # --- calendar ---
    CALENDAR_YEAR_NOT_ENTERED = "calendar_year_not_entered"
    # --- requests and vendors ---
    TRANSITION_NOT_ALLOWED = "transition_not_allowed"
    REVIEW_PENDING = "review_pending"  # a review gate before the step has not passed
    REVIEW_CLOSED = "review_closed"  # the request took the gated step or ended
    VENDOR_NOT_SERVING = "vendor_not_serving"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    INVALID_CAUSE = "invalid_cause"
    CAUSE_NOT_ALLOWED = "cause_not_allowed"
    CHANGE_NOT_ALLOWED = "change_not_allowed"
    CONSUMPTION_EXCEEDS_HOLD = "consumption_exceeds_hold"
    ASSIGNEE_NOT_ALLOWED = "assignee_not_allowed"  # admin: 负责人 not of the insurer
    RATING_NOT_ALLOWED = "rating_not_allowed"
    ALREADY_RATED = "already_rated"
    # --- vendor settlement and the cost cap ---
    INVALID_MONTH = "invalid_month"
    STATEMENT_STATE = "statement_state"  # the step does not apply in the statement's state
    STATEMENT_HAS_DISPUTES = "statement_has_disputes"
    STATEMENT_MONTH_OPEN = "statement_month_open"  # confirming before the month has ended
    RECONCILIATION_INVALID = "reconciliation_invalid"
    NET_PREMIUM_MISSING = "net_premium_missing"
    # --- complaints (银保监会令2020年第3号) ---
    COMPLAINT_CLOSED = "complaint_closed"  # the complaint has its outcome already
    EXTENSION_NOT_ALLOWED = "extension_not_allowed"  # already extended, or past its deadline
    # --- uploads ---
    UPLOAD_EMPTY = "upload_empty"
    UPLOAD_CORRUPT = "upload_corrupt"
    UPLOAD_NAME_TOO_LONG = "upload_name_too_long"
    UPLOAD_TOO_LARGE = "upload_too_large"
    UPLOAD_TOO_MANY_PIXELS = "upload_too_many_pixels"
    UPLOAD_TYPE_NOT_ALLOWED = "upload_type_not_allowed"
    DOCUMENT_NOT_REMOVABLE = "document_not_removable"
    # --- the policyholder's login (portal) ---
    PHONE_INVALID = "phone_invalid"
    OTP_FORMAT = "otp_format"
    OTP_EXPIRED = "otp_expired"
    OTP_INVALID = "otp_invalid"
    OTP_LOCKED = "otp_locked"
    OTP_TOO_SOON = "otp_too_soon"
    OTP_RATE_LIMITED = "otp_rate_limited"
    BIND_MISMATCH = "bind_mismatch"
    BIND_LOCKED = "bind_locked"
    ALREADY_BOUND = "already_bound"


class DomainError(Exception):
    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None, **details: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "未找到", **details: Any):
        super().__init__(ErrorCode.NOT_FOUND, message, **details)
