"""Test settings: production settings (DEBUG off) with a throwaway key and fast hashing."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# The test client and the browser test's live server speak plain HTTP: without this every
# request would be redirected to https://. tests/portal/test_hardening.py proves the
# production defaults (HTTPS redirect, HSTS) in a process without it.
os.environ["PLAIN_HTTP"] = "1"

from portal.site.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
