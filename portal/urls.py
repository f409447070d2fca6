from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from portal.api import api

admin.site.site_header = _("健康服务平台 · 保险公司管理后台")
admin.site.site_title = _("健康服务平台")
admin.site.index_title = _("运营管理")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
