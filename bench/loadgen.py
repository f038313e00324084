"""HTTP load on loopback, bounded in requests and in time: `concurrency` workers (asyncio + one
httpx client) take the next request from a fixed list until it is done or the time is up; each
request's latency covers sending it and reading the whole body."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Request:
    """One request of a load run."""

    method: str
    url: str
    json: Any = None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), linear between ranks; None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


async def _run(requests: Sequence[Request], concurrency: int, headers: dict[str, str],
               max_seconds: float, timeout_s: float
               ) -> tuple[list[float], list[int], Counter[str], float]:
    latencies: list[float] = []
    sizes: list[int] = []
    statuses: Counter[str] = Counter()
    next_i = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout_s) as client:
        t0 = time.perf_counter()
        deadline = t0 + max_seconds

        async def worker() -> None:
            nonlocal next_i
            while next_i < len(requests) and time.perf_counter() < deadline:
                req = requests[next_i]
                next_i += 1
                start = time.perf_counter()
                try:
                    resp = await client.request(req.method, req.url, json=req.json)
                except httpx.HTTPError as exc:
                    # A request that outlives the client's timeout counts with the time it
                    # was given (so p95 is never flattered), and as an error.
                    latencies.append(time.perf_counter() - start)
                    sizes.append(0)
                    statuses[f"error:{type(exc).__name__}"] += 1
                    continue
                body = resp.content
                latencies.append(time.perf_counter() - start)
                sizes.append(len(body))
                statuses[str(resp.status_code)] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
    return latencies, sizes, statuses, elapsed


def run_load(requests: Sequence[Request], concurrency: int, headers: dict[str, str] | None = None,
             max_seconds: float = 30.0, timeout_s: float = 120.0) -> dict[str, Any]:
    """Run the requests; p50/p95/mean latency in ms, requests/s, mean body bytes, statuses
    (a request that takes longer than `timeout_s` is an error, timed at `timeout_s`)."""
    hdrs = {"Accept-Encoding": "identity", **(headers or {})}
    lat, sizes, statuses, elapsed = asyncio.run(_run(requests, concurrency, hdrs, max_seconds,
                                                     timeout_s))
    n = len(lat)
    return {
        "requests": n, "concurrency": concurrency, "seconds": elapsed,
        "requests_per_s": n / elapsed if elapsed else None,
        "p50_ms": _ms(percentile(lat, 50)), "p95_ms": _ms(percentile(lat, 95)),
        "mean_ms": _ms(sum(lat) / n if n else None),
        "mean_bytes": sum(sizes) / n if n else None,
        "statuses": dict(sorted(statuses.items())),
        "complete": n == len(requests),
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0
