"""`show_if` conditions: a small data tree evaluated by a whitelist of operators.

    {all: [...]}, {any: [...]}, {not: {...}}       combine conditions
    {q: backup.exists, in: [daily, weekly]}         compare one earlier question's answer

There is no eval and no expression language: a condition is data, parsed into the classes below.
A comparison on a question that has no answer (or is itself hidden) is false; `not` inverts it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .answer import Answer

# operator name -> kind of value it takes
OPERATORS: dict[str, str] = {
    "equals": "token",
    "not_equals": "token",
    "in": "tokens",
    "not_in": "tokens",
    "includes": "token",
    "excludes": "token",
    "gt": "number",
    "gte": "number",
    "lt": "number",
    "lte": "number",
    "answered": "bool",
}

Lookup = Callable[[str], "tuple[Answer, frozenset[str]] | None"]


@dataclass(frozen=True)
class Compare:
    q: str
    op: str
    value: Any
    # `value` as a set, for in/not_in: built once, not on every evaluation
    value_set: frozenset = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        as_set = frozenset(self.value) if isinstance(self.value, (tuple, list)) else frozenset()
        object.__setattr__(self, "value_set", as_set)

    def evaluate(self, lookup: Lookup) -> bool:
        found = lookup(self.q)
        op = self.op
        if op == "answered":
            return (found is not None) == self.value
        if found is None:
            return False
        answer, tokens = found
        if op == "in":  # the most common operator first: scoring evaluates these every time
            return not self.value_set.isdisjoint(tokens)
        if op in ("equals", "includes"):
            return self.value in tokens
        if op in ("not_equals", "excludes"):
            return self.value not in tokens
        if op == "not_in":
            return self.value_set.isdisjoint(tokens)
        if not isinstance(answer.value, (int, float)) or answer.state != "answered":
            return False
        number = answer.value
        return {
            "gt": number > self.value,
            "gte": number >= self.value,
            "lt": number < self.value,
            "lte": number <= self.value,
        }[self.op]

    def comparisons(self) -> Iterator[tuple[str, Compare]]:
        yield "", self

    def as_data(self) -> dict:
        return {"q": self.q, self.op: list(self.value) if isinstance(self.value, tuple)
                else self.value}


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]

    def evaluate(self, lookup: Lookup) -> bool:
        return all(part.evaluate(lookup) for part in self.parts)

    def comparisons(self) -> Iterator[tuple[str, Compare]]:
        for i, part in enumerate(self.parts):
            for path, compare in part.comparisons():
                yield f"all[{i}]{'.' + path if path else ''}", compare

    def as_data(self) -> dict:
        return {"all": [part.as_data() for part in self.parts]}


@dataclass(frozen=True)
class AnyOf(AllOf):
    def evaluate(self, lookup: Lookup) -> bool:
        return any(part.evaluate(lookup) for part in self.parts)

    def comparisons(self) -> Iterator[tuple[str, Compare]]:
        for i, part in enumerate(self.parts):
            for path, compare in part.comparisons():
                yield f"any[{i}]{'.' + path if path else ''}", compare

    def as_data(self) -> dict:
        return {"any": [part.as_data() for part in self.parts]}


@dataclass(frozen=True)
class Not:
    part: Condition

    def evaluate(self, lookup: Lookup) -> bool:
        return not self.part.evaluate(lookup)

    def comparisons(self) -> Iterator[tuple[str, Compare]]:
        for path, compare in self.part.comparisons():
            yield f"not{'.' + path if path else ''}", compare

    def as_data(self) -> dict:
        return {"not": self.part.as_data()}


Condition = Compare | AllOf | AnyOf | Not


def parse_condition(raw: Any, path: str = "") -> Condition:
    """Turn the YAML data into a condition, or raise ValueError naming where it is wrong."""
    where = f"{path}: " if path else ""
    if isinstance(raw, (Compare, AllOf, AnyOf, Not)):
        return raw
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{where}a condition must be a mapping such as {{q: ID, equals: CHOICE}}")
    if set(raw) == {"all"} or set(raw) == {"any"}:
        key = next(iter(raw))
        items = raw[key]
        if not isinstance(items, list) or not items:
            raise ValueError(f"{where}'{key}' takes a non-empty list of conditions")
        parts = tuple(parse_condition(item, f"{path}{'.' if path else ''}{key}[{i}]")
                      for i, item in enumerate(items))
        return AllOf(parts) if key == "all" else AnyOf(parts)
    if set(raw) == {"not"}:
        return Not(parse_condition(raw["not"], f"{path}{'.' if path else ''}not"))
    if "q" not in raw:
        raise ValueError(f"{where}expected 'all', 'any', 'not' or 'q' with one operator, "
                         f"got keys {sorted(raw)}")
    ops = [key for key in raw if key != "q"]
    if len(ops) != 1:
        raise ValueError(f"{where}a comparison takes exactly one operator besides 'q' "
                         f"(one of {', '.join(OPERATORS)}), got {ops or 'none'}")
    op = ops[0]
    if op not in OPERATORS:
        raise ValueError(f"{where}unknown operator '{op}'; use one of {', '.join(OPERATORS)}")
    value = raw[op]
    kind = OPERATORS[op]
    ok = {
        "token": isinstance(value, str),
        "tokens": isinstance(value, list) and value and all(isinstance(v, str) for v in value),
        "number": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
    }[kind]
    if not ok:
        wanted = {"token": "a choice id", "tokens": "a non-empty list of choice ids",
                  "number": "a number", "bool": "true or false"}[kind]
        raise ValueError(f"{where}'{op}' takes {wanted}, got {value!r}")
    if not isinstance(raw["q"], str):
        raise ValueError(f"{where}'q' must be a question id")
    return Compare(q=raw["q"], op=op, value=tuple(value) if kind == "tokens" else value)
