"""The backup and restore drill of docs/recovery.md, run once: a database with ledger
entries is dumped with pg_dump -Fc, restored with pg_restore into a fresh database, and the
ledger reconciles there (every balance equals the sum of its entries) with the same
balances and entries as the source. A balance corrupted in the copy is caught, so the check
can fail."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.models import Count, F, Sum

from benefits.models import QuotaBalance, QuotaLedgerEntry
from benefits.quota.reconcile import ledger_reconcile
from tests.clock import at
from tests.conftest import ensure_catalogue
from tests.factories import outpatient_request
from tests.ops import worker_faults as faults
from tests.ops.test_worker_kill import (  # noqa: F401 - sets up the test database when alone
    test_the_fault_seeds_are_purged_without_a_trace,
)


def _pg_bin() -> Path:
    """PG_BIN, else the newest Debian PostgreSQL (a pg_dump older than the server refuses)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return versions[-1] if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql" or not (PG_BIN / "pg_dump").exists(),
    reason=f"needs PostgreSQL and its pg_dump / pg_restore in {PG_BIN}",
)
ANNIVERSARY = date(2026, 3, 10)


def pg(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    s = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": s["PASSWORD"]}
    where = ["-h", s["HOST"] or "127.0.0.1", "-p", str(s["PORT"] or 5432), "-U", s["USER"]]
    return subprocess.run(  # noqa: S603 - PostgreSQL's own tools, fixed arguments
        [str(PG_BIN / tool), *where, *args],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ledger_figures(using: str) -> dict[str, object]:
    entries = QuotaLedgerEntry.objects.using(using)
    return {
        "balances": QuotaBalance.objects.using(using).count(),
        "by_kind": Counter(
            {
                row["kind"]: (row["n"], row["total"])
                for row in entries.values("kind").annotate(n=Count("pk"), total=Sum("amount"))
            }
        ),
    }


@pytest.fixture
def seeded(django_db_setup, django_db_blocker):
    """Committed for real (pg_dump reads another session): two policy years opened and
    expired on three policies, and a request holding quota."""
    with django_db_blocker.unblock():
        ensure_catalogue()
        faults.purge()
        faults.seed_anniversary_policies(3, ANNIVERSARY)
        from benefits.quota.anniversaries import anniversaries_run

        anniversaries_run(ANNIVERSARY)
        outpatient_request(at=at(2026, 3, 12, 10), number=f"{faults.PREFIX}B1")
        try:
            yield
        finally:
            faults.purge()


def test_a_dump_restored_into_a_fresh_database_reconciles(
    seeded, django_db_blocker, tmp_path, capsys
):
    source = connection.settings_dict["NAME"]
    restored = f"{source}_restore_{uuid.uuid4().hex[:6]}"
    dump = tmp_path / "benefits.dump"
    with (
        faults.fault_report(capsys, "backup and restore drill") as report,
        django_db_blocker.unblock(),
    ):
        before = ledger_figures("default")
        assert ledger_reconcile() == []
        assert before["by_kind"]["expire"][0] > 0 and before["by_kind"]["hold"][0] > 0

        # the drill: dump, create a fresh database, restore into it
        pg("pg_dump", "--format=custom", "--file", str(dump), source)
        pg("createdb", restored)
        connections.databases["restored"] = {**connection.settings_dict, "NAME": restored}
        try:
            pg("pg_restore", "--exit-on-error", "--no-owner", "--dbname", restored, str(dump))
            report["dump_kb"] = dump.stat().st_size // 1024

            # then the copy holds the same ledger and it reconciles
            assert ledger_figures("restored") == before
            assert ledger_reconcile(using="restored") == []
            report["entries"] = sum(n for n, _total in before["by_kind"].values())

            # and a balance that differs from its entries is caught in the copy
            corrupt = QuotaBalance.objects.using("restored").order_by("pk").first()
            QuotaBalance.objects.using("restored").filter(pk=corrupt.pk).update(
                granted=F("granted") + 1
            )
            problems = ledger_reconcile(using="restored")
            assert len(problems) == 1 and problems[0].startswith(f"余额 {corrupt.pk}：")
        finally:
            connections["restored"].close()
            del connections.databases["restored"]
            pg("dropdb", "--if-exists", restored)
