"""One JSON object per log line (``LOG_FORMAT=json``), for a log collector.

Keys: ``time`` (ISO 8601 in UTC, milliseconds, ``+00:00``), ``level``, ``logger``,
``message``, ``request_id`` (``null`` outside a request or task) and, when there is one,
``exception`` (the traceback text) and ``stack``. The handler's masking filter
(``portal.kernel.logmask.MaskPersonalNumbers``) runs before this formatter and hands it a
record whose message and traceback text are already masked; this formatter only reads
them, so the JSON carries the masked text.

This module imports nothing from the apps (the logging configuration loads it early).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from portal.kernel.request_context import REQUEST_ID


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": REQUEST_ID.get(),
        }
        # The masking filter leaves the (masked) traceback in exc_text and clears exc_info;
        # without that filter, format it here.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        # ensure_ascii=False: Chinese messages stay readable; json escapes newlines, so a
        # traceback or a message with a line break is still one line.
        return json.dumps(line, ensure_ascii=False, default=str)
