"""Shared helpers of the synthetic city: seeded random streams, the reference date, gathers."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl

# Every extract is "as of" this day, so ages, leases and death dates do not drift with the clock.
REFERENCE_DATE = date(2025, 6, 30)
REFERENCE_DAY = int(np.datetime64(REFERENCE_DATE, "D").astype(np.int64))

IntArray = np.ndarray


def stream(seed: int, label: str) -> np.random.Generator:
    """An independent random stream for one part of the city, stable across runs and subsets."""
    return np.random.Generator(
        np.random.PCG64(np.random.SeedSequence([seed, zlib.crc32(label.encode())]))
    )


def weighted(
    rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
) -> IntArray:
    """`size` indexes drawn with the given (unnormalised) weights."""
    cum = np.cumsum(np.asarray(weights, dtype=np.float64))
    # searchsorted on the cumulative weights is rng.choice(p=…) without its per-call checks.
    return np.searchsorted(cum, rng.random(size) * cum[-1], side="right")


def zipf_weights(n: int, s: float = 0.9) -> np.ndarray:
    """Weights 1/rank^s, so the first items of a pool are drawn most often."""
    return 1.0 / np.arange(1, n + 1, dtype=np.float64) ** s


def pick(pool: Sequence[str], idx: IntArray) -> pl.Series:
    """The strings of `pool` at the indexes `idx`, as a polars Series."""
    return pl.Series(list(pool), dtype=pl.String).gather(np.asarray(idx, dtype=np.int64))


def ascii_rows(matrix: np.ndarray) -> pl.Series:
    """Rows of an (n, k) uint8 ASCII matrix as a Series of k-character strings."""
    k = matrix.shape[1]
    flat = np.ascontiguousarray(matrix, dtype=np.uint8).view(f"S{k}").ravel()
    return pl.Series(flat).cast(pl.String)


def unique_numbers(rng: np.random.Generator, n: int, low: int, high: int) -> IntArray:
    """`n` distinct random integers in [low, high), in random order, without a big allocation."""
    span = (high - low) // max(n, 1)
    if span < 1:
        raise ValueError(f"cannot draw {n} distinct numbers from [{low}, {high})")
    # One number per slot of width `span`, slots shuffled: distinct by construction.
    return low + rng.permutation(n).astype(np.int64) * span + rng.integers(0, span, n)


def date_parts(days: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """(year, month, day) arrays of days since 1970-01-01."""
    d = np.asarray(days, dtype="datetime64[D]")
    y = d.astype("datetime64[Y]").astype(np.int64) + 1970
    m = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    dd = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return y, m, dd


def ids(prefix: str, n: int, width: int = 7) -> pl.Series:
    """Truth ids P0000001, P0000002, … for `n` entities."""
    digits = pl.Series("id", np.arange(1, n + 1)).cast(pl.String).str.zfill(width)
    return pl.select(pl.lit(prefix) + digits).to_series().alias("id")
