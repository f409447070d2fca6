"""Every error code a caller can receive is registered in ``portal.kernel.errors.ErrorCode``:
the API's users build on these codes, so a new one must be added there on purpose."""

import ast
from pathlib import Path

from portal.kernel.errors import DomainError, ErrorCode

ROOT = Path(__file__).resolve().parents[2]
APPS = ("portal", "benefits", "bookings", "coverage")


def _error_classes() -> set[str]:
    names, queue = set(), [DomainError]
    while queue:
        cls = queue.pop()
        names.add(cls.__name__)
        queue.extend(cls.__subclasses__())
    return names


def _raised_codes() -> dict[str, list[str]]:
    """Literal codes passed to DomainError or a subclass, to ``super().__init__`` inside a
    subclass, or as the first argument of the API's ``error()`` helper."""
    import bookings.documents.formats
    import bookings.lifecycle.services
    import bookings.vendors.services  # noqa: F401

    classes = _error_classes() | {"error"}
    found: dict[str, list[str]] = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                args = node.args[2:3] if name == "error" else node.args[:1]
                if name not in classes and name != "__init__":
                    continue
                for arg in args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        if arg.value.isidentifier() and arg.value.islower():
                            found.setdefault(arg.value, []).append(str(path.relative_to(ROOT)))
    return found


def test_every_raised_code_is_registered():
    raised = _raised_codes()
    unregistered = {code: where for code, where in raised.items() if code not in set(ErrorCode)}
    assert raised, "the scan found no raise at all: it is broken"
    assert not unregistered, f"register these codes in ErrorCode: {unregistered}"


def test_the_scan_sees_codes_from_services_subclasses_and_the_api_layer():
    raised = _raised_codes()
    # a service (policies), a subclass (uploads), the API's own handler, the login
    for code in ("invalid_phone", "upload_too_large", "server_error", "bind_locked"):
        assert code in raised
