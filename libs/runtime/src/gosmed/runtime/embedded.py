"""The embedded store (mongomock), brought closer to what a real MongoDB does with the same
queries, so that code written for MongoDB is neither broken nor slowed down by the stand-in.

- PyMongo >= 4.11 passes `sort` to every update and replace of a `bulk_write`; mongomock 4.3
  predates that argument and fails on it. The patch accepts it when unset (what `UpdateOne`
  without `sort=` sends) and refuses a real sort, which mongomock cannot do.
- MongoDB finds `{"_id": x}` and `{"_id": {"$in": [...]}}` through the `_id` index; mongomock
  tests every document of the collection (a batch of 500 ids against 20,000 records takes
  seconds). The patch looks those ids up in the collection's dict of documents (under one
  read lock), then applies the rest of the filter to what it found, returned in `_id` order
  like an index scan.
  mongomock's own query language still decides every other condition.
- mongomock's `$in` first tests every value of the list for being a regular expression, for
  each document it filters: a pull of 500 published outbox entries from 500 documents makes
  250,000 such tests. The patch answers a plain value the list holds at once (what mongomock
  answers too); any other case is mongomock's.
- mongomock copies every document written through a function that tests each value against
  six types in turn (to store datetimes as MongoDB does: naive UTC, milliseconds). The patch
  copies plain values, dicts and lists itself and leaves the rest (datetimes, timestamps,
  ordered dicts, tuples) to mongomock.
- mongomock deep-copies every document it updates (a snapshot to roll back to) and copies
  every value it returns with the `copy` module, whose generic dispatch costs more than the
  update: the patch copies dicts and lists directly and shares immutable values (strings,
  numbers, datetimes, UUIDs, ObjectIds), passing anything else to `copy`.
"""

import copy
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import wraps
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from bson import ObjectId
from mongomock import collection as mongomock_collection
from mongomock import filtering, helpers

_PATCHED = "_gosmed_patched"
_KEY_TYPES = (str, int, ObjectId)
_PLAIN = frozenset({str, int, float, bool, bytes, type(None)})
_IMMUTABLE = _PLAIN | {datetime, UUID, ObjectId}
Document = dict[str, Any]
_applies: Callable[[Document, Document], bool] = filtering.filter_applies


def _without_sort(method: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(method)
    def call(self: Any, *args: Any, sort: Any = None, **kwargs: Any) -> Any:
        if sort is not None:
            raise NotImplementedError("the embedded store cannot sort a bulk update")
        return method(self, *args, **kwargs)

    return call


def _primary_keys(query: Any) -> list[Any] | None:
    """The `_id` values a filter is limited to, or None when it is not limited to a list."""
    if not isinstance(query, dict) or "_id" not in query:
        return None
    wanted = query["_id"]
    if isinstance(wanted, dict):
        if set(wanted) != {"$in"} or not isinstance(wanted["$in"], list | tuple):
            return None
        wanted = list(wanted["$in"])
    else:
        wanted = [wanted]
    if not all(isinstance(k, _KEY_TYPES) and not isinstance(k, bool) for k in wanted):
        return None
    try:
        return sorted(set(wanted))
    except TypeError:  # keys of different types: no single index order
        return None


def _by_primary_key(
    method: Callable[[Any, Any], Iterator[Document]],
) -> Callable[[Any, Any], Iterator[Document]]:
    @wraps(method)
    def iterate(self: Any, query: Any) -> Iterator[Document]:
        keys = _primary_keys(query)
        if keys is None:
            return method(self, query)
        store = self._store
        store._remove_expired_documents()  # TTL indexes, as its own lookups do
        with store._rwlock.reader():  # once, not twice per key
            documents = store._documents
            found = [documents[key] for key in keys if key in documents]
        rest = {name: value for name, value in query.items() if name != "_id"}
        return (document for document in found if not rest or _applies(rest, document))

    return iterate


def _found_first(in_op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    @wraps(in_op)
    def matches(value: Any, listed: Any) -> bool:
        if type(value) in _PLAIN and isinstance(listed, list | tuple) and value in listed:
            return True
        return in_op(value, listed)

    return matches


def _plain_copied(patch: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @wraps(patch)
    def copy(value: Any) -> Any:
        kind = type(value)
        if kind is dict:
            return {k: v if type(v) in _PLAIN else copy(v) for k, v in value.items()}
        if kind is list:
            return [v if type(v) in _PLAIN else copy(v) for v in value]
        if kind in _PLAIN:
            return value
        return patch(value)  # its own recursion comes back here through the module

    return copy


def _deepcopy(value: Any, memo: Any = None) -> Any:
    """`copy.deepcopy` for documents: dicts, lists and immutable values copied directly."""
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        return {k: _deepcopy(v) for k, v in value.items()}
    if kind is list:
        return [_deepcopy(v) for v in value]
    return copy.deepcopy(value, memo)


def _copy(value: Any) -> Any:
    return value if type(value) in _IMMUTABLE else copy.copy(value)


def _documents_copied(module: Any) -> Any:
    return SimpleNamespace(deepcopy=_deepcopy, copy=_copy)


def _patch(owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
    method = getattr(owner, name)
    if not getattr(method, _PATCHED, False):
        patched = wrap(method)
        setattr(patched, _PATCHED, True)
        setattr(owner, name, patched)


def patch_embedded_store() -> None:
    """Apply the patches once per process, before the first collection is opened."""
    _patch(mongomock_collection.BulkOperationBuilder, "add_update", _without_sort)
    _patch(mongomock_collection.BulkOperationBuilder, "add_replace", _without_sort)
    _patch(mongomock_collection.Collection, "_iter_documents", _by_primary_key)
    _patch(helpers, "patch_datetime_awareness_in_document", _plain_copied)
    _patch(filtering, "_in_op", _found_first)  # `$nin` looks it up here
    operators = filtering._filterer_inst._operator_map  # `$in` holds it since import
    operators["$in"] = filtering._in_op
    _patch(mongomock_collection, "copy", _documents_copied)  # the `copy` module it calls
