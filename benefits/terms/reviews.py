"""Review gates: a decision someone outside the request must take before the service goes on
(安盛 器械直付 "主治医师根据病情体征再次评估", 博鳌 "由海南博鳌乐城医院评估确定适宜申请",
中宏 质子重离子 "医院门诊要求为准"). The lifecycle refuses the gated step until every gate
before it was recorded as passed (``bookings.lifecycle.reviews``); a failed gate rejects the
request with the reviewer's reason."""

from __future__ import annotations

from typing import Literal

from benefits.terms.vocabulary import Slug, Strict

# Who takes the decision, shown to staff and in the event rows.
Reviewer = Literal["hospital", "doctor", "insurer", "vendor", "member"]


class ReviewGate(Strict):
    code: Slug
    label: str
    by: Reviewer
    # The lifecycle step the gate stands before.
    before: Literal["approved", "scheduled", "in_service"] = "approved"
    # The SLA milestone (code in ``sla``) that measures the review, where the handbook prints
    # a time for it ("审核时效 1 个工作日").
    sla: str = ""
    clause: str
