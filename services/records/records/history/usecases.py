"""Reading the history: those allowed to see a record see its history (issue 8 item 12)."""
from .. import areas
from ..errors import NotFound


def _read(row) -> dict:
    return {"chain_seq": row["chain_seq"], "at": row["at"].isoformat(), "entity": row["entity"],
            "entity_id": row["entity_id"], "action": row["action"],
            "actor_user_id": str(row["actor_user_id"]) if row.get("actor_user_id") else None,
            "actor_username": row.get("actor_username"),
            "acting_for": str(row["acting_for"]) if row.get("acting_for") else None,
            "before": row.get("before"), "after": row.get("after"), "hash": row["hash"]}


def get_history(uow, caller, entity, entity_id) -> list:
    """The history of one record, oldest first: [{chain_seq, at, entity, entity_id, action,
    actor_user_id, actor_username, acting_for, before, after, hash}]. For entity "student" it is
    everything about the student (profile, status changes, outcomes...). Whoever may read the
    record may read its history (each area's HISTORY_READERS); anyone else gets not_found."""
    readers = areas.history_readers()
    if entity not in readers:
        raise NotFound("no such kind of record")
    student = readers[entity](uow, caller, entity_id)
    if entity == "student":
        rows = uow.history.of_student(caller.tenant, student["id"])
    else:
        rows = uow.history.of_record(caller.tenant, entity, str(entity_id).lower())
    return [_read(r) for r in rows]
