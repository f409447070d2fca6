import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from coverage.models import *
from coverage.selectors import *

@pytest.mark.django_db
def test_explore(client, staff_user):
    for cl in lists_with_sizes():
        print(cl.code, cl.kind, cl.scope, cl.printed, cl.member_count, cl.entry_count, cl.hospital_total, bool(cl.content_digest), UnresolvedName.objects.filter(coverage_list=cl).count())
    print("regions", Region.objects.count(), "aliases", RegionAlias.objects.count())
    for code in ["320205","320282","320281","222401","222424","340104","340123","420600","110105"]:
        r = Region.objects.select_related("parent__parent").get(code=code)
        print(code, r.name, [ (cl.code) for cl in lists_covering(r)])
        for lc in ["xiaokang.rsyj.cities_331","pingan.health.outpatient_hospitals","pingan.health.carer_cities"]:
            cl = CoverageList.objects.get(code=lc)
            with CaptureQueriesContext(connection) as ctx:
                a = list_covers_region(cl, r)
            print("   ", lc, a.covered, a.reason, a.matched_line, len(ctx.captured_queries))
    client.force_login(staff_user)
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/api/staff/v1/coverage/lists")
    print(len(ctx.captured_queries), resp.status_code, resp.json()[:2])
    for u in ["/api/staff/v1/coverage/resolve?name=襄樊", "/api/staff/v1/coverage/resolve?name=不存在市", "/api/staff/v1/coverage/resolve?name=%20",
              "/api/staff/v1/coverage/resolve", "/api/staff/v1/coverage/resolve?name=海南&province=青海",
              "/api/staff/v1/coverage/lists/xiaokang.rsyj.cities_331/covers?region=宜兴市",
              "/api/staff/v1/coverage/lists/xiaokang.rsyj.cities_331/covers?region=320205",
              "/api/staff/v1/coverage/lists/xiaokang.rsyj.cities_331/covers?region=朝阳区",
              "/api/staff/v1/coverage/lists/xiaokang.rsyj.cities_331/covers?region=襄樊",
              "/api/staff/v1/coverage/lists/xiaokang.rsyj.cities_331/covers?region=不存在区",
              "/api/staff/v1/coverage/lists/nope/covers?region=320205",
              "/api/staff/v1/coverage/lists/axa.zysh.domestic_drugs/covers?region=320205",
              "/api/staff/v1/coverage/lists/xiaokang.rsyj.cities_331/covers",
              ]:
        resp = client.get(u)
        print(u, resp.status_code, resp.json())
