"""The steward's review queue: uncertain pairs and id conflicts, decisions, splits.

A decision takes effect at once (an accepted pair merges the two golden people, a rejected
pair that shares one is split) and is kept as a link decision that every later run respects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gridweave.core import clock
from gridweave.core.bulk import reserve_ids
from gridweave.core.database import keyring_of
from gridweave.core.errors import GridweaveError, NotFound
from gridweave.ingest.models import Source, SourceRecord
from gridweave.linkage import store
from gridweave.linkage.entities import apply_decision
from gridweave.linkage.models import LinkDecision, ReviewItem
from gridweave.linkage.service import PERSON, apply_golden_ids, record_merges
from gridweave.registry.service import opened

STATUSES = ("open", "accepted", "rejected")


@dataclass(frozen=True)
class RecordView:
    """One side of a review item, as a steward sees it."""

    record_id: int
    source: str
    record_key: str
    golden_id: int | None
    values: dict[str, Any]


@dataclass(frozen=True)
class ItemView:
    item: ReviewItem
    left: RecordView
    right: RecordView


def _record(session: Session, record_id: int) -> RecordView:
    row = session.execute(
        select(SourceRecord, Source.name)
        .join(Source, Source.id == SourceRecord.source_id)
        .where(SourceRecord.id == record_id)
    ).one()
    record, source = row
    values = opened(keyring_of(session), PERSON, record.values or {})  # a copy: never stored
    return RecordView(record.id, source, record.record_key, record.golden_id, values)


def list_items(
    session: Session,
    *,
    status: str | None = "open",
    kind: str | None = None,
    entity_type: str | None = PERSON,
    limit: int = 50,
) -> tuple[list[ItemView], int]:
    """Review items (most likely first), both records of each, and how many match in all
    (`entity_type` None: of every type)."""
    query = select(ReviewItem)
    if entity_type:
        query = query.where(ReviewItem.entity_type == entity_type)
    if status:
        query = query.where(ReviewItem.status == status)
    if kind:
        query = query.where(ReviewItem.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(ReviewItem.match_probability.desc().nulls_first(), ReviewItem.id).limit(
            limit
        )
    ).all()
    return [_view(session, item) for item in items], total


def _view(session: Session, item: ReviewItem) -> ItemView:
    return ItemView(item, _record(session, item.record_id), _record(session, item.other_id))


def get_item(session: Session, item_id: int) -> ItemView:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}", hint="see `gridweave review list`")
    return _view(session, item)


def decide(
    session: Session, *, item_id: int, accept: bool, actor: str, note: str | None = None
) -> ItemView:
    """Accept (one person) or reject (two people) a review item, and apply it now."""
    view = get_item(session, item_id)
    item = view.item
    if item.status != "open":
        raise GridweaveError(
            f"review item {item_id} was already {item.status} by {item.decided_by}",
            hint="a decision stands; split the golden record if the people were merged wrongly",
        )
    now = clock.now()
    item.status = "accepted" if accept else "rejected"
    item.decided_at, item.decided_by, item.note = now, actor, note
    session.add(
        LinkDecision(
            entity_type=item.entity_type,
            record_id=item.record_id,
            other_id=item.other_id,
            decision="link" if accept else "keep_apart",
            origin="review",
            review_item_id=item.id,
            decided_by=actor,
            decided_at=now,
            note=note,
        )
    )
    session.flush()
    if item.entity_type != PERSON:
        apply_decision(session, item=item, accept=accept)
        return get_item(session, item_id)
    left, right = view.left.golden_id, view.right.golden_id
    if accept and left is not None and right is not None and left != right:
        _merge(session, keep=min(left, right), retire=max(left, right))
    elif not accept and left is not None and left == right:
        split(session, golden_id=left, record_ids=[item.record_id], actor=actor, note=note)
    return get_item(session, item_id)


def _merge(session: Session, *, keep: int, retire: int) -> None:
    """Merge golden person `retire` into `keep` (the older id stays) and rebuild it."""
    merges = pl.DataFrame({"from_id": [retire], "into_id": [keep]})
    members = _members(session, [keep, retire])
    final = members.with_columns(pl.lit(keep, pl.Int64).alias("golden_id"))
    apply_golden_ids(
        session,
        current=members,
        final=final,
        merges=merges,
        conflict_ids=_held_conflicts(session),
    )
    record_merges(session, merges, None, "review")


def _members(session: Session, golden_ids: list[int]) -> pl.DataFrame:
    rows = session.execute(
        select(SourceRecord.id, SourceRecord.golden_id).where(
            SourceRecord.entity_type == PERSON, SourceRecord.golden_id.in_(golden_ids)
        )
    ).all()
    return pl.DataFrame(rows, schema={"record_id": pl.Int64, "golden_id": pl.Int64}, orient="row")


def _held_conflicts(session: Session) -> pl.Series:
    items = store.review_pairs(session)
    held = items.filter((pl.col("kind") == "id_conflict") & (pl.col("status") != "accepted"))
    return held["record_id"]


def split(
    session: Session, *, golden_id: int, record_ids: list[int], actor: str, note: str | None = None
) -> int:
    """Move `record_ids` out of golden person `golden_id` into a new one; return its id.

    Every moved record is kept apart from every record that stays, in this and later runs; a
    moved record carrying the id of one that stays is held apart from that id.
    """
    members = _members(session, [golden_id])
    moving = set(record_ids)
    unknown = moving - set(members["record_id"].to_list())
    if unknown:
        raise GridweaveError(
            f"records {sorted(unknown)} are not linked to person {golden_id}",
            hint=f"`gridweave registry show person {golden_id}` lists its records",
        )
    if len(moving) == members.height:
        raise GridweaveError("a split must leave at least one record where it was")
    new_id = reserve_ids(session.connection(), "person", 1)[0]
    final = members.with_columns(
        pl.when(pl.col("record_id").is_in(list(moving)))
        .then(pl.lit(new_id, pl.Int64))
        .otherwise(pl.col("golden_id"))
        .alias("golden_id")
    )
    staying = [r for r in members["record_id"].to_list() if r not in moving]
    now = clock.now()
    keys = {
        i: k
        for i, k in session.execute(
            select(SourceRecord.id, SourceRecord.entity_key).where(
                SourceRecord.id.in_([*moving, *staying])
            )
        ).all()
    }
    for moved in sorted(moving):
        for other in staying:
            session.add(
                LinkDecision(
                    entity_type=PERSON,
                    record_id=moved,
                    other_id=other,
                    decision="keep_apart",
                    origin="split",
                    decided_by=actor,
                    decided_at=now,
                    note=note,
                )
            )
        same_id = [o for o in staying if keys.get(moved) and keys.get(o) == keys.get(moved)]
        if same_id:
            _hold_apart_from_id(session, moved, same_id[0], actor, note)
    session.flush()
    no_merges = pl.DataFrame(schema={"from_id": pl.Int64, "into_id": pl.Int64})
    apply_golden_ids(
        session,
        current=members,
        final=final,
        merges=no_merges,
        conflict_ids=_held_conflicts(session),
    )
    return new_id


def _hold_apart_from_id(
    session: Session, record_id: int, anchor_id: int, actor: str, note: str | None
) -> None:
    """Record that `record_id` is not the person its valid id names (a rejected id conflict)."""
    item = session.scalar(
        select(ReviewItem).where(
            ReviewItem.entity_type == PERSON,
            ReviewItem.record_id == record_id,
            ReviewItem.kind == "id_conflict",
        )
    )
    now = clock.now()
    if item is None:
        item = ReviewItem(
            entity_type=PERSON,
            kind="id_conflict",
            record_id=record_id,
            other_id=anchor_id,
            created_at=now,
        )
        session.add(item)
    item.status, item.decided_at, item.decided_by, item.note = "rejected", now, actor, note
