"""Synthesise a whole city: the truth, every department's extract, contracts and a manifest."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

import orjson

from gridweave.synth.areas import write_geojson
from gridweave.synth.common import REFERENCE_DATE, stream
from gridweave.synth.extracts import WRITERS, write_extract
from gridweave.synth.population import build_city
from gridweave.synth.truth import write_truth


@dataclass(frozen=True)
class ExtractSummary:
    source: str
    file: Path
    rows: int


@dataclass(frozen=True)
class SynthReport:
    """What `synthesise` wrote and how big the city is."""

    out_dir: Path
    seed: int
    people: int
    extracts: tuple[ExtractSummary, ...]
    truth: dict[str, int]  # truth table → rows
    grids: int
    households: int
    buildings: int
    rooms: int
    legal_entities: int
    components: int
    seconds: float


def synthesise(
    out_dir: Path,
    *,
    people: int = 50_000,
    seed: int = 7,
    sources: Collection[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> SynthReport:
    """Write a synthetic city of `people` people into `out_dir`; same arguments, same bytes."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    if people < 100:
        raise ValueError(f"a city needs at least 100 people, not {people}")
    wanted = list(WRITERS) if sources is None else [s for s in WRITERS if s in set(sources)]
    unknown = sorted(set(sources or ()) - set(WRITERS))
    if unknown:
        raise ValueError(f"unknown source(s) {unknown}; known: {', '.join(WRITERS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    say(f"building a city of {people:,} people (seed {seed})")
    city = build_city(people, seed)
    write_geojson(city.areas, out_dir / "areas.geojson")
    written = []
    for name in wanted:
        # Each extract has its own random stream, so writing a subset changes nothing else.
        frame = WRITERS[name](city, stream(seed, f"extract:{name}"))
        w = write_extract(name, frame, out_dir)
        say(f"{name}: {w.rows:,} rows → {w.file.relative_to(out_dir)}")
        written.append(w)
    say("writing the truth")
    truth = write_truth(city, out_dir / "truth", [w.records for w in written])
    manifest = {
        "seed": seed,
        "people": people,
        "reference_date": REFERENCE_DATE.isoformat(),
        "areas": "areas.geojson",
        "extracts": [
            {
                "source": w.source,
                "contract": w.contract.relative_to(out_dir).as_posix(),
                "file": w.file.relative_to(out_dir).as_posix(),
                "rows": w.rows,
            }
            for w in written
        ],
    }
    (out_dir / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return SynthReport(
        out_dir=out_dir,
        seed=seed,
        people=people,
        extracts=tuple(ExtractSummary(w.source, w.file, w.rows) for w in written),
        truth=truth,
        grids=city.areas.grids.height,
        households=city.households.height,
        buildings=city.buildings.height,
        rooms=city.rooms.height,
        legal_entities=city.entities.height,
        components=city.components.height,
        seconds=time.perf_counter() - started,
    )
