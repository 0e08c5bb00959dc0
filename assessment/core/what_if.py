"""What finding out may change: the score if every "Not sure" turned out the worst or the best
answer it could be. Pure: no Flask, no I/O.

A "Not sure" on a gateway question also hides its follow-ups (no answer on backups hides where the
copies are kept), so each world answers the follow-ups it reveals the same way, worst or best,
until nothing new is revealed. The scoring (scoring/score.py) hands in its own walk, so the worlds
are scored exactly as the real answers are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

from .bank import Answer, AnswerError, Bank, Question

# A follow-up revealed by an answer can reveal another; banks nest two deep today.
MAX_REVEAL_ROUNDS = 4
# More than this share of the scored weight unknown makes the score provisional.
PROVISIONAL_SHARE = (1, 3)


class ScoreRange(NamedTuple):
    low: int | None
    high: int | None


class Walked(NamedTuple):
    """A what-if world's sums, as the scoring's walk makes them."""

    counted: list[int]  # per section: weight units that count
    earned: list[int]  # per section: units earned
    weights: dict[str, int]  # question id -> its weight units, for questions that count
    open_ids: tuple[str, ...]  # questions asked in that world with no answer


Walk = Callable[[Mapping[str, Answer]], Walked]
Overall = Callable[[list[int], list[int]], "int | None"]


def extreme_answer(q: Question, best: bool) -> Answer | None:
    """The answer to q that earns the most (best) or the least of its points."""
    candidates: list[object] = []
    if q.type in ("single", "yesno"):
        candidates = [c.id for c in q.choices]
    elif q.type == "multi":
        candidates = [[c.id for c in q.choices if c.score > 0], []]
    elif q.type == "scale":
        candidates = [q.min, q.max]
    elif q.type == "number":
        candidates = [b.up_to for b in q.bands if b.up_to is not None]
        candidates += [q.max if q.max is not None else 10**9, q.min or 0]
    scored = []
    for value in candidates:
        try:
            parsed = q.kind.parse(q, value)
        except (AnswerError, TypeError, ValueError):
            continue
        scored.append((q.kind.points(q, parsed), parsed))
    if not scored:
        return None
    points, value = (max if best else min)(scored, key=lambda item: item[0])
    return Answer("answered", value)


class Unknowns:
    """The worlds around the real answers, worked out once per result."""

    def __init__(self, bank: Bank, answers: Mapping[str, Answer], hidden: set[str],
                 unsure: list[str], walk: Walk, overall: Overall):
        self.bank, self.walk, self.overall = bank, walk, overall
        self.answers, self.hidden, self.unsure = answers, hidden, unsure
        self.worst, _ = self._world(unsure, best=False)
        self.best, revealed = self._world(unsure, best=True)
        # Unknown weight: the unsure questions and the follow-ups they hide, as the best world
        # counts them (in the worst one, hidden follow-ups may not be asked at all).
        unknown_ids = set(unsure) | revealed
        total = sum(self.best.weights.values())
        unknown = sum(w for qid, w in self.best.weights.items() if qid in unknown_ids)
        low, high = PROVISIONAL_SHARE
        self.provisional = total > 0 and unknown * high > total * low

    def _key(self) -> tuple:
        return (self.bank.hash, frozenset(self.answers.items()), frozenset(self.hidden),
                tuple(self.unsure))

    def __eq__(self, other: object) -> bool:
        """Two results of the same answers are equal, so their worlds are too."""
        return isinstance(other, Unknowns) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _world(self, flip: list[str], best: bool) -> tuple[Walked, set[str]]:
        world = dict(self.answers)
        revealed: set[str] = set()
        for qid in flip:
            answer = extreme_answer(self.bank.question_by_id[qid], best)
            if answer is not None:
                world[qid] = answer
        walked = self.walk(world)
        for _ in range(MAX_REVEAL_ROUNDS):
            new = [qid for qid in walked.open_ids if qid in self.hidden and qid not in world]
            if not new:
                break
            for qid in new:
                answer = extreme_answer(self.bank.question_by_id[qid], best)
                if answer is not None:
                    world[qid] = answer
                    revealed.add(qid)
            walked = self.walk(world)
        return walked, revealed

    def _score(self, walked: Walked, gains: Mapping[str, tuple[int, int]]) -> int | None:
        earned = list(walked.earned)
        for position, units in gains.values():
            earned[position] += units
        return self.overall(walked.counted, earned)

    def range_after(self, gains: Mapping[str, tuple[int, int]]) -> ScoreRange:
        """The score once the fixes worth `gains` (question id -> section position and units
        gained) are done, with every unknown the worst and the best it could be."""
        return ScoreRange(self._score(self.worst, gains), self._score(self.best, gains))

    def stake(self, question_id: str) -> ScoreRange:
        """Today's score if this one unknown (and what it hides) were the worst or the best."""
        return ScoreRange(self._score(self._world([question_id], best=False)[0], {}),
                          self._score(self._world([question_id], best=True)[0], {}))


def unknowns_of(bank: Bank, answers: Mapping[str, Answer], walked_outcomes, not_sure,
                walk: Walk, overall: Overall) -> Unknowns:
    hidden = {o.question.id for o in walked_outcomes if not o.applicable}
    return Unknowns(bank, answers, hidden, [o.question.id for o in not_sure], walk, overall)
