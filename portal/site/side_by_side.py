"""What the in-process throughput benchmarks share (``benchmark_eligibility``,
``benchmark_portal``): a run inside a transaction that is rolled back, and sides that
alternate in short rounds, each keeping its best round, so that load from other processes on
the machine (which only ever slows a round down) skews neither side."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction


class _Rollback(Exception):
    pass


def best_rates(
    sides: dict[str, Callable[[], None]], seconds: float, rounds: int
) -> dict[str, float]:
    """Calls per second of each side, the sides alternating over ``rounds`` rounds of
    ``seconds / rounds`` each: each side's best round."""
    best = dict.fromkeys(sides, 0.0)
    for _ in range(rounds):
        for name, call in sides.items():
            done, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds / rounds:
                call()
                done += 1
            best[name] = max(best[name], done / (time.perf_counter() - start))
    return best


class SideBySideCommand(BaseCommand):
    """A benchmark whose ``run`` builds its data and measures; nothing is left behind."""

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seconds", type=float, default=5.0, help="每一侧运行的总秒数")
        parser.add_argument("--rounds", type=int, default=10, help="轮数（各侧交替，取最快一轮）")

    def handle(self, *args: Any, seconds: float, rounds: int, **options: Any) -> None:
        try:
            with transaction.atomic():
                self.run(seconds, max(rounds, 1))
                raise _Rollback  # leave nothing behind
        except _Rollback:
            pass

    def run(self, seconds: float, rounds: int) -> None:
        raise NotImplementedError
