"""The long descriptions at the top of the two API docs (Markdown in the OpenAPI
``info.description``): authentication, errors, rate limits, ``Idempotency-Key`` and, for
vendors, webhooks. Figures come from the code that applies them, so the docs cannot drift."""

from __future__ import annotations

from datetime import timedelta

from bookings.vendors.api import VENDOR_RATE
from bookings.vendors.webhooks import (
    ASSIGNED_EVENT,
    MAX_ATTEMPTS,
    RETRY_DELAYS,
    WEBHOOK_TIMEOUT_SECONDS,
)


def _duration(delay: timedelta) -> str:
    minutes = int(delay.total_seconds() // 60)
    return f"{minutes // 60}小时" if minutes >= 60 else f"{minutes}分钟"


_RATE_COUNT, _RATE_PERIOD = VENDOR_RATE.split("/")
_RETRIES = "、".join(_duration(delay) for delay in RETRY_DELAYS)

ERRORS = """
## 错误

所有错误都是 JSON：`{"code": "稳定的错误代码", "message": "中文说明", ...}`，
`code` 不随文案变化，可用于程序判断；`message` 可直接展示给业务人员。常见代码：

| HTTP | code | 含义 |
|---|---|---|
| 400 | `invalid_json` | 请求体不是有效的 JSON（或 multipart） |
| 400 | 其他代码 | 业务规则不接受该内容，见 `message` |
| 401 | `not_authenticated` | 未提供或无效的凭证 |
| 403 | `permission_denied` | 凭证有效，但无此操作的权限 |
| 404 | `not_found` | 对象不存在或不属于调用方（不区分两者） |
| 409 | `transition_not_allowed` | 申请当前状态不允许该操作（附 `current_status`） |
| 422 | `invalid_input` | 参数或内容不正确（附 `fields`：字段与原因） |
| 422 | `idempotency_key_reused` | 同一个 Idempotency-Key 用于了不同的请求 |
| 429 | `rate_limited` | 调用过于频繁，按 `Retry-After` 秒后重试 |
| 503 | `service_unavailable` | 数据库维护或切换中，按 `Retry-After` 重试 |
"""


def _idempotency(which: str, example: str) -> str:
    return f"""
## Idempotency-Key（幂等键）

{which}必须带 `Idempotency-Key` 请求头（1–100 个字符，建议 UUID）。网络超时或不确定是否成功时，
用**同一个键、同样的内容**重试：返回第一次的结果（包括第一次的错误），响应头
`Idempotent-Replayed: true`，不会重复执行。同一个键用于不同路径或内容返回 422
`idempotency_key_reused`。每个新操作请使用新的键。键按调用方区分（服务商、员工各自独立）。

```bash
{example}
# 重试同一命令：同样的响应，并带 Idempotent-Replayed: true
```
"""


VENDOR_EXAMPLE = """curl -X POST "https://平台域名/api/vendor/v1/requests/SR7K2M9QX4/events" \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Idempotency-Key: 6f1c2b7e-1d7a-4c55-9a55-1f0e8f5d2c11" \\
  -H "Content-Type: application/json" \\
  -d '{"event": "scheduled", "at": "2026-03-10T09:30:00+08:00", "place": "华山医院门诊楼"}'"""
STAFF_EXAMPLE = """curl -X POST "https://平台域名/api/staff/v1/requests/SR7K2M9QX4/events" \\
  -H "Authorization: Bearer $STAFF_TOKEN" \\
  -H "Idempotency-Key: 0b9e4d1a-7f3c-4a8e-b1d2-5c6e7f809a1b" \\
  -H "Content-Type: application/json" \\
  -d '{"event": "approved"}'"""

VENDOR_DESCRIPTION = f"""
服务商接口，地址 `/api/vendor/v1/`。服务商用保险公司在管理后台签发的令牌查看派给自己的服务申请、
报告服务进度、上传服务成果并记录实际消耗。没有技术团队的服务商可以使用网页版
[服务商工作台](/vendor/)，规则完全相同。

## 认证

`Authorization: Bearer hbv_…`（每个对接系统一个令牌，可随时吊销）。只能看到派给本服务商的申请；
其他申请一律返回 404 `not_found`，不会确认编号是否存在。

## 限流

每个令牌每{"分钟" if _RATE_PERIOD == "min" else _RATE_PERIOD}最多 {_RATE_COUNT} 次调用（按令牌计，
一个对接系统出错不会影响其他系统）。超出时返回 429 `rate_limited`，请等待后重试：

```http
HTTP/1.1 429 Too Many Requests
Retry-After: 12
Content-Type: application/json

{{"code": "rate_limited", "message": "请求过于频繁，请稍后再试"}}
```
{_idempotency("每个 POST 都", VENDOR_EXAMPLE)}
## 回调（Webhook）

在管理后台为服务商登记回调地址后，新派单时我们向该地址 POST 一条 JSON（事件 `{ASSIGNED_EVENT}`）。
回调内容不含个人信息，只有申请编号；详情请用令牌调用 `GET /requests/{{ref}}` 读取：

```json
{{"event": "{ASSIGNED_EVENT}", "ref": "SR7K2M9QX4", "benefit": "pingan.health.outpatient_assist",
 "state": "assigned", "assigned_at": "2026-03-02T10:00:00+08:00",
 "delivery_id": 1842, "timestamp": 1772416800}}
```

请求头：`X-Webhook-Event`（事件）、`X-Webhook-Delivery`（投递编号，重试时不变，可用于去重）、
`X-Timestamp`（发送时间，Unix 秒）、`X-Signature: sha256=<hex>`——用签名密钥对**原始请求体**
计算的 HMAC-SHA256。请先验证签名，并拒绝 `timestamp` 超过 5 分钟的请求（时间戳在签名内容中，
重放无法更新它）：

```python
import hashlib, hmac, json, time

def verify(secret: str, raw_body: bytes, signature_header: str) -> dict:
    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature_header):
        raise ValueError("签名不正确")
    payload = json.loads(raw_body)
    if abs(time.time() - payload["timestamp"]) > 300:
        raise ValueError("回调已过期")
    return payload
```

**重试**：返回任何 2xx 视为送达；其他状态、重定向、连接失败或 {WEBHOOK_TIMEOUT_SECONDS} 秒内
未响应都视为失败，分别在 {_RETRIES} 后重试，共尝试 {MAX_ATTEMPTS} 次后放弃（保险公司可在后台
手动重发）。回调可能重复送达，请按 `delivery_id` 去重；回调只是提醒，
`GET /requests?state=assigned` 的列表才是准确来源。
{ERRORS}"""

STAFF_DESCRIPTION = f"""
员工接口，地址 `/api/staff/v1/`，供保险公司的热线、核心系统等内部系统调用：目录与权益查询、
保单导入、资格判断、服务申请的创建与处理。服务商接口另有文档：[/api/vendor/v1/docs](/api/vendor/v1/docs)。

## 认证

管理后台的登录会话，或员工令牌 `Authorization: Bearer hbs_…`（管理后台签发，权限与签发给的员工
相同，可设范围）。每个接口检查员工的权限和所属保险公司：其他保险公司的对象返回 404。

## 限流

员工接口目前不按令牌限流（429 不会出现）。数据库维护时返回 503 并带 `Retry-After`。
{_idempotency("服务申请的 POST（/requests 及其 /events）", STAFF_EXAMPLE)}
{ERRORS}"""
