"""One error vocabulary: services raise ``DomainError`` with a stable code and a Chinese
message; the API maps it (and every other failure) to ``{"code", "message"}``."""

from typing import Any


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
        super().__init__("not_found", message, **details)
