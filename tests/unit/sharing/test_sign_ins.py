"""deps.SignIns: a worker's short memory of which actor a token digest stood for."""

from __future__ import annotations

from gridweave.sharing.deps import SignIns
from gridweave.sharing.gate import Actor
from gridweave.sharing.roles import Role

GW = Actor(1, "gw", Role.grid_worker, area_code="440303001001002")


def test_remembers_for_its_seconds_only() -> None:
    remembering, forgetful = SignIns(seconds=60), SignIns(seconds=0)
    for known in (remembering, forgetful):
        known.put("d1", GW)
    assert remembering.get("d1") == GW
    assert forgetful.get("d1") is None
    assert remembering.get("d2") is None


def test_drop_forgets() -> None:
    known = SignIns()
    known.put("d1", GW)
    known.drop("d1")
    assert known.get("d1") is None


def test_holds_at_most_its_entries_forgetting_the_oldest() -> None:
    known = SignIns(entries=2)
    for digest in ("a", "b", "c"):
        known.put(digest, GW)
    assert known.get("a") is None
    assert known.get("b") == GW and known.get("c") == GW
