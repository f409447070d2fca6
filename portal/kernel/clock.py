"""The product's one time zone: policy dates, working days and what users read are in
Asia/Shanghai; instants are stored in UTC."""

from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
