"""The benefits app's staff API: one router per capability, mounted together under
/api/staff/v1/ by the site."""

from ninja import Router

from benefits.catalogue.api import router as catalogue_router
from benefits.eligibility.api import router as eligibility_router
from benefits.policies.api import router as policies_router
from benefits.quota.api import router as quota_router

router = Router()
for part in (catalogue_router, policies_router, eligibility_router, quota_router):
    router.add_router("", part)
