"""The question bank as immutable models.

Everything an owner reads and everything the scoring uses comes from these models, which are
filled from the YAML files in `questions/` (see docs/bank-format.md). Unknown keys are refused, so a
typo in a data file fails at load instead of being silently ignored.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from .conditions import Condition, parse_condition
from .types import QUESTION_TYPES, QuestionType


def _condition_or_none(value):
    return None if value is None else parse_condition(value)


# A condition as the YAML writes it (`{q: ..., in: [...]}`), parsed once on load: show_if,
# only_if, `stronger` entries' `if` and contradictions' `when` all read it the same way.
ConditionData = Annotated[Condition, BeforeValidator(parse_condition)]
OptionalCondition = Annotated[Condition | None, BeforeValidator(_condition_or_none)]

# Answers that are not a choice of the question but still real answers.
NOT_SURE = "not_sure"
NOT_APPLICABLE = "na"
RESERVED_TOKENS = frozenset({NOT_SURE, NOT_APPLICABLE})

MAX_CHOICE_SCORE = 10
MAX_WEIGHT = 10
MAX_SECTION_WEIGHT = 1000

SectionId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
QuestionId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$",
                                              max_length=80)]
ChoiceId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Priority = Literal["critical", "high", "medium", "low"]
Effort = Literal["low", "medium", "high"]
Timeframe = Literal[30, 60, 90]
Who = Literal["owner", "staff", "provider"]
CostBand = Literal["none", "low", "medium", "high"]
# What a critical finding does to the band (bank.yaml `severities` says how far it caps).
Severity = Literal["existential", "serious"]
# Worst first: an existential finding is worse than a serious one. The one order of severities
# (plan order, `lesser` and `stronger` checks); None is a 1.x bank's finding.
SEVERITY_ORDER: dict[str | None, int] = {"existential": 0, "serious": 1, None: 1}

PRIORITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(Model):
    id: ChoiceId
    label: Text
    score: float = Field(default=0, ge=0, le=MAX_CHOICE_SCORE)

    @field_validator("id")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in RESERVED_TOKENS:
            raise ValueError(f"'{value}' is reserved for the built-in answer; use the question's "
                             f"'not_sure'/'na' switches instead")
        return value


class NumberBand(Model):
    """A range of a number answer; its id acts like a choice id in rules."""

    id: ChoiceId
    label: Text
    up_to: float | None = None  # inclusive upper bound; the last band has none
    score: float = Field(default=0, ge=0, le=MAX_CHOICE_SCORE)


class Recommendation(Model):
    id: ChoiceId
    when: tuple[str, ...] = Field(min_length=1)
    title: Text
    text: Text
    priority: Priority
    effort: Effort
    timeframe: Timeframe
    # Bank 2.0 and later: who does it, what it costs in words, and the evidence it is done.
    who: Who | None = None
    cost: CostBand | None = None
    done_when: Text | None = None
    # The answer following it produces, when that is short of the best ("a list made" is not
    # "a list reviewed"); none: the best answer.
    fixes_to: ChoiceId | None = None
    # Bank 2.1 and later: the workstream it belongs to (default: its section's), how it joins
    # other steps, and when it fits the business at all.
    workstream: SectionId | None = None
    # Steps this one does as part of its own work ("question:recommendation", or the id alone on
    # the same question): planned together, they are one step with this one's wording.
    absorbs: tuple[str, ...] = ()
    # Steps that must be done before this one when both are planned (a restore test needs a
    # backup to restore from): this one is placed no earlier and read after them.
    after: tuple[str, ...] = ()
    # Proposed only when this holds (the right-sized fix for a small office; a review of a past
    # event only while its cause is not known to be fixed). Same form as show_if.
    only_if: OptionalCondition = None
    # Its cost grows with the number of people (a licence or a course per person).
    per_person: bool = False
    # For a "find out": who is asked. `provider`: the IT provider (or IT person), in the one
    # meeting that collects these; `owner`: the owner's own checks (staff, papers, an adviser).
    asks: Literal["provider", "owner"] | None = None


    @cached_property
    def condition_refs(self) -> tuple[str, ...]:
        """The questions this recommendation's only_if looks at (none without one)."""
        if self.only_if is None:
            return ()
        return tuple(dict.fromkeys(compare.q for _, compare in self.only_if.comparisons()))


class CombinedStep(Model):
    """One step for several recommendations of one question (a training course that covers
    every missing topic), used when two or more of them are triggered together."""

    title: Text
    text: Text
    done_when: Text
    of: tuple[ChoiceId, ...] = ()  # the recommendations it joins; none: every fix


class NotSureEffect(Model):
    """What "Not sure" does on a question with a critical rule: a finding of its own (with a
    severity), or no finding, said plainly with the reason."""

    severity: Severity | None = None
    finding: Text | None = None
    why: Text | None = None  # without a severity: why not knowing is not a finding here
    # With a severity: what not knowing leaves this business open to (bank 2.1 and later).
    why_it_matters: Text | None = None


class LesserFinding(Model):
    """A second, lesser finding on the same question: answers that are not as bad as `when`
    but still an exposure (backups that depend on someone remembering)."""

    when: tuple[str, ...] = Field(min_length=1)
    severity: Severity
    finding: Text
    why_it_matters: Text | None = None  # what happens to the business if it stays (2.1)
    # Bank 2.2: this finding stands only where this holds ("usually" calling back is no
    # control for a firm that moves clients' money, and fair enough for others).
    only_if: OptionalCondition = None



class StrongerFinding(Model):
    """A worse severity for the rule's finding where the business makes it worse (bank 2.2): a
    gap in checking payment details is serious in general, existential for a business that
    moves its clients' money."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # `if` in the bank file (a Python keyword, hence the alias): same form as show_if.
    condition: ConditionData = Field(alias="if")
    severity: Severity  # worse than the rule's own
    finding: Text | None = None  # the finding's words here; none: the rule's
    why_it_matters: Text | None = None  # what it does to this business; none: the rule's



class CriticalRule(Model):
    when: tuple[str, ...] = Field(min_length=1)
    finding: Text
    severity: Severity | None = None  # bank 2.0 and later; 1.x banks cap at `critical_cap`
    # What happens to the business if the finding stays, in one or two plain sentences (2.1).
    why_it_matters: Text | None = None
    not_sure: NotSureEffect | None = None
    lesser: LesserFinding | None = None
    # Bank 2.2: the rule (all of its findings) stands only where this holds on the other answers
    # (unencrypted backups taken off site matter where the business holds health or client data).
    only_if: OptionalCondition = None
    # Bank 2.2: the first entry whose `if` holds makes the main finding worse.
    stronger: tuple[StrongerFinding, ...] = ()
    # Bank 2.2: the root cause this finding shares with other rules' findings. Findings of one
    # weakness count once towards a severity's `escalate` (one missing password manager is not
    # three separate failings); none: the finding is a weakness of its own.
    weakness: ChoiceId | None = None


    @cached_property
    def condition_refs(self) -> tuple[str, ...]:
        """The questions its conditions (only_if, its lesser finding's only_if, stronger) look
        at, each once."""
        conditions = [self.only_if, self.lesser.only_if if self.lesser else None]
        conditions += [entry.condition for entry in self.stronger]
        return tuple(dict.fromkeys(compare.q for condition in conditions if condition is not None
                                   for _, compare in condition.comparisons()))


class ProviderFollowUp(Model):
    when: tuple[str, ...] = Field(min_length=1)
    text: Text


class OutsideCheck(Model):
    """A question a check from outside can answer (bank 2.2): what the check is, and which
    choice each of its outcomes stands for."""

    by: Literal["email_domain"]  # the email domain's public settings (SPF, DKIM, DMARC)
    # outcome -> choice id: enforced (fakes are refused), partial (set up, fakes not yet
    # refused), missing (nothing set up)
    answers: dict[Literal["enforced", "partial", "missing"], ChoiceId]


class Question(Model):
    id: QuestionId
    type: str
    text: Text
    consultant_text: Text | None = None
    help: Text
    hint: Text | None = None
    choices: tuple[Choice, ...] = ()
    choice_set: ChoiceId | None = None
    best: Literal["yes", "no"] | None = None
    min: float | None = None
    max: float | None = None
    unit: Literal["count", "money", "hours", "days", "percent"] | None = None
    unit_label: Text | None = None  # the words after the figure: "people", "hours a week"
    low_label: Text | None = None
    high_label: Text | None = None
    # The best answer as one plain sentence about the business, for "What is good".
    strength: Text | None = None
    bands: tuple[NumberBand, ...] = ()
    max_score: float | None = Field(default=None, gt=0)
    feeds: str | None = None
    not_sure: bool = False
    na: bool = False
    weight: float = Field(default=1, ge=0, le=MAX_WEIGHT)
    critical: CriticalRule | None = None
    recommendations: tuple[Recommendation, ...] = ()
    combine: CombinedStep | None = None  # bank 2.1: several triggered fixes as one step
    ask_provider: tuple[ProviderFollowUp, ...] = ()
    cis: tuple[str, ...] = ()
    nist: tuple[str, ...] = ()
    show_if: OptionalCondition = None
    # About the past (the last 12 months): no plan can change its answer, so no projection
    # counts it as fixed.
    looks_back: bool = False
    # When its show_if hides it, what it asks about does not exist (no backups, so no backup
    # copy off site): it counts as earning nothing instead of leaving the score.
    scored_when_hidden: bool = False
    # Owners rarely know this (bank 2.2): the wizard says so and offers first to hand it to
    # whoever runs the IT.
    owners_rarely_know: bool = False
    check: OutsideCheck | None = None  # bank 2.2: a check from outside can answer it


    @cached_property
    def kind(self) -> QuestionType:
        """The question type's behaviour (validation, scoring, widget); see types.py."""
        return QUESTION_TYPES[self.type]

    @property
    def scored(self) -> bool:
        return self.weight > 0

    @cached_property
    def condition_refs(self) -> tuple[str, ...]:
        """The questions this one's show_if looks at (none without one), each once."""
        if self.show_if is None:
            return ()
        return tuple(dict.fromkeys(compare.q for _, compare in self.show_if.comparisons()))

    @cached_property
    def choice_by_id(self) -> dict[str, Choice]:
        return {choice.id: choice for choice in self.choices}

    @cached_property
    def best_choice_score(self) -> float:
        return max((choice.score for choice in self.choices), default=0.0)

    def tokens(self) -> tuple[str, ...]:
        """Every answer token a rule on this question may name."""
        extra = (NOT_SURE,) if self.not_sure else ()
        return self.kind.tokens(self) + extra

    def describe(self, answer) -> str:
        """An answer in words, as the owner chose it."""
        if answer is None:
            return "Not answered"
        if answer.state == NOT_SURE:
            return "Not sure"
        if answer.state == NOT_APPLICABLE:
            return "Does not apply"
        return self.kind.display(self, answer.value)


class Section(Model):
    id: SectionId
    title: Text
    intro: Text
    kind: Literal["scored", "profile"] = "scored"
    # Bank 2.1: the workstream its recommendations belong to unless they say otherwise.
    workstream: SectionId | None = None
    questions: tuple[Question, ...] = Field(min_length=1)


class Band(Model):
    id: ChoiceId
    label: Text
    min: float = Field(ge=0, le=100)
    summary: Text


class SectionRef(Model):
    id: SectionId
    weight: float = Field(ge=0, le=MAX_SECTION_WEIGHT)


class ProviderQuestion(Model):
    id: ChoiceId
    text: Text
    why: Text


class Escalation(Model):
    count: int = Field(ge=2)
    caps_at: ChoiceId


class SeverityRule(Model):
    """How far a critical finding of one severity caps the band."""

    id: Severity
    caps_at: ChoiceId  # a band id
    # Several findings of this severity together cap lower: at `escalate.caps_at` from `count` on.
    escalate: Escalation | None = None


class CapacityRow(Model):
    up_to: int | None = Field(default=None, ge=1)  # staff count; the last row has none
    points: int = Field(ge=1)


class StepLimitRow(Model):
    up_to: int | None = Field(default=None, ge=1)  # staff count; the last row has none
    steps: int = Field(ge=1)


class PlanRules(Model):
    """How the roadmap is filled: each action costs effort points, each phase holds a budget."""

    effort_points: dict[Effort, int]
    capacity: tuple[CapacityRow, ...] = Field(min_length=1)
    default_staff: int = Field(default=15, ge=1)  # the size assumed when none is given
    # Bank 2.1: how many named steps the first 90 days hold in all, by staff count.
    steps: tuple[StepLimitRow, ...] = ()


class Workstream(Model):
    """A piece of work the plan groups its steps under (backups, sign-ins ...)."""

    id: SectionId
    title: Text
    lead: Who  # who usually leads it


class Contradiction(Model):
    """Answers that cannot all be true (bank 2.2): named to the owner with what to check, so
    the answers can be put right. It never changes the score, the band or the findings."""

    id: ChoiceId
    # When the answers disagree: same form as show_if, on any questions.
    when: ConditionData
    text: Text  # to the owner: what does not agree, and what to check


    @cached_property
    def questions(self) -> tuple[str, ...]:
        """The questions its condition looks at, each once, in the order it names them."""
        return tuple(dict.fromkeys(compare.q for _, compare in self.when.comparisons()))


class BankFile(Model):
    """The contents of questions/bank.yaml."""

    id: ChoiceId
    version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    title: Text
    bands: tuple[Band, ...] = Field(min_length=2)
    critical_cap: ChoiceId | None = None  # 1.x banks: one cap for every critical finding
    severities: tuple[SeverityRule, ...] = ()  # 2.0 and later
    plan: PlanRules | None = None  # 2.0 and later; without it, phases follow `timeframe` only
    # How sections combine: `sections` (1.x) by their fixed weights; `questions` (2.0) by the
    # weights of their questions that count, so every answer's share follows its own weight.
    overall: Literal["sections", "questions"] = "sections"
    choice_sets: dict[ChoiceId, tuple[Choice, ...]] = {}
    sections: tuple[SectionRef, ...] = Field(min_length=1)
    provider_questions: tuple[ProviderQuestion, ...] = ()
    workstreams: tuple[Workstream, ...] = ()  # bank 2.1 and later
    contradictions: tuple[Contradiction, ...] = ()  # bank 2.2 and later


class Bank(Model):
    """A whole, validated bank: rubric plus sections in order."""

    id: str
    version: str
    title: str
    hash: str
    snapshot: str = Field(repr=False)  # canonical JSON of the data, stored with assessments
    bands: tuple[Band, ...]
    critical_cap: str | None
    severities: tuple[SeverityRule, ...]
    plan: PlanRules | None
    overall: str
    section_weights: dict[str, float]
    sections: tuple[Section, ...]
    provider_questions: tuple[ProviderQuestion, ...]
    workstreams: tuple[Workstream, ...] = ()
    contradictions: tuple[Contradiction, ...] = ()  # in bank order

    @cached_property
    def workstream_by_id(self) -> dict[str, Workstream]:
        """The bank's workstreams; a bank without them (before 2.1) gets one per section."""
        if self.workstreams:
            return {w.id: w for w in self.workstreams}
        return {s.id: Workstream(id=s.id, title=s.title, lead="provider")
                for s in self.sections if s.kind == "scored"}

    def workstream_of(self, q: Question, r: Recommendation) -> Workstream:
        section = self.section_of[q.id]
        key = r.workstream or section.workstream or section.id
        return self.workstream_by_id[key]

    @cached_property
    def questions(self) -> tuple[Question, ...]:
        return tuple(q for section in self.sections for q in section.questions)

    @cached_property
    def question_by_id(self) -> dict[str, Question]:
        return {q.id: q for q in self.questions}

    @cached_property
    def section_of(self) -> dict[str, Section]:
        return {q.id: section for section in self.sections for q in section.questions}

    @cached_property
    def section_by_id(self) -> dict[str, Section]:
        return {section.id: section for section in self.sections}

    def is_optional(self, q: Question) -> bool:
        """Profile figures and free text may be left empty; every other question needs an answer
        (which may be "Not sure") before the assessment is complete."""
        return q.id in self.optional_ids

    @cached_property
    def optional_ids(self) -> frozenset[str]:
        return frozenset(q.id for section in self.sections for q in section.questions
                         if q.type in ("text", "profile") or section.kind == "profile")

    def band_for(self, score: float) -> Band:
        """The highest band whose minimum the score reaches (bands are stored ascending)."""
        chosen = self.bands[0]
        for band in self.bands:
            if score >= band.min:
                chosen = band
        return chosen

    def band_rank(self, band_id: str) -> int:
        return [band.id for band in self.bands].index(band_id)
