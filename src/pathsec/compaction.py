"""Make a run's results small in memory: shared field-name sets, interned strings, and
during a run one instance per distinct value of the models that ask for it.

An audit keeps every endpoint's observations until its report is written; at 10,000
endpoints that is the process's size (bench/RESULTS.md). Nothing here changes a value:
the results serialise to the same JSON.
"""

from __future__ import annotations

import hashlib
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar, cast

from pydantic import BaseModel

T = TypeVar("T")

#: One shared ``fields set`` per distinct set of field names (see :func:`compact`).
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


#: Values :func:`compact` has nothing to do for.
_SCALARS = frozenset({int, float, bool, type(None)})

#: While a run shares values (:func:`sharing_values`): one instance per distinct value of
#: each model class that sets ``interned``, by class, fields set and digest of its JSON.
_Key = tuple[type[BaseModel], frozenset[str], bytes]
_VALUES: dict[_Key, BaseModel] | None = None
_SHARERS = 0
_SHARERS_LOCK = threading.Lock()


@contextmanager
def sharing_values() -> Iterator[None]:
    """Inside the block, :func:`compact` gives equal values of ``interned`` model classes
    one instance; the table of values is dropped when the last such block ends."""
    global _VALUES, _SHARERS
    with _SHARERS_LOCK:
        _SHARERS += 1
        if _VALUES is None:
            _VALUES = {}
    try:
        yield
    finally:
        with _SHARERS_LOCK:
            _SHARERS -= 1
            if not _SHARERS:
                _VALUES = None


def compact(value: object) -> None:
    """Let frozen models share their pydantic ``fields set``, strings and, during a run,
    whole equal values.

    Every model instance carries the set of field names it was given (hundreds of bytes);
    a frozen model never changes it (``model_copy`` copies it first), so the 60-odd models
    of each endpoint's observations share a handful of sets instead of holding copies.
    String fields (and tuples of strings) are interned: equal values, one copy.

    Inside :func:`sharing_values`, a model whose class sets ``interned: ClassVar[bool] =
    True`` (the facts a server's configuration decides: cipher enumerations, chains,
    certificates, sessions) is replaced by the first equal one seen in the
    run: identical JSON (compared by a 128-bit BLAKE2b digest), one instance. 10,000
    endpoints of one configuration held 10,000 copies of the same 5 KB enumeration.
    """
    _compact(value)


def compacted(value: T) -> T:
    """:func:`compact` ``value`` and return the value to keep in its place: ``value``, or
    inside :func:`sharing_values` the run's equal instance of an ``interned`` model.

    For work a run keeps beside its results (a server port's cipher enumeration, shared by
    its endpoints): compacted when it is made, the copy is dropped at once.
    """
    return cast(T, _compact(value))


def _compact(value: object) -> object:
    """:func:`compact` of ``value``; the value to keep in its place (an equal one)."""
    if isinstance(value, BaseModel):
        if _VALUES is not None and getattr(type(value), "interned", False):
            return _shared(value, _VALUES)
        _compact_model(value)
    elif isinstance(value, tuple):
        kept = tuple(
            item if type(item) in _SCALARS or type(item) is str else _compact(item)
            for item in value
        )
        if any(a is not b for a, b in zip(kept, value, strict=True)):
            return kept
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if type(item) not in _SCALARS and type(item) is not str:
                value[i] = _compact(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if type(item) not in _SCALARS and type(item) is not str:
                value[key] = _compact(item)
    return value


def _shared(model: BaseModel, values: dict[_Key, BaseModel]) -> BaseModel:
    """The run's instance equal to ``model`` (``model`` itself, compacted, when it is new):
    the same class, the same JSON and the same fields set (``exclude_unset`` dumps agree)."""
    digest = hashlib.blake2b(model.__pydantic_serializer__.to_json(model), digest_size=16)
    key = (type(model), frozenset(model.__pydantic_fields_set__), digest.digest())
    found = values.get(key)
    if found is None:
        _compact_model(model)
        found = values.setdefault(key, model)
    return found


def _compact_model(value: BaseModel) -> None:
    if value.model_config.get("frozen"):
        fields = value.__pydantic_fields_set__
        key = frozenset(fields)
        shared = _FIELDS_SETS.get(key)
        if shared is None:
            shared = _FIELDS_SETS[key] = set(key)
        if fields is not shared:
            object.__setattr__(value, "__pydantic_fields_set__", shared)
    values = value.__dict__
    for name, item in values.items():
        kind = type(item)
        if name == "transcript":  # Transcript.add interned every line already
            continue
        if kind is str:  # not enum members (str subclasses)
            values[name] = sys.intern(item)  # the same value: names, subjects, banners
        elif kind in _SCALARS:
            continue
        elif kind is tuple and item and all(type(x) is str for x in item):
            values[name] = tuple(sys.intern(x) for x in item)
        else:
            values[name] = _compact(item)
