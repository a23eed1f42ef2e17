"""Attribution as two separate questions, and the rule that decides when an incident states one.

*Origin* asks which infrastructure, in whose constituency, the activity came from; *responsibility*
asks which intrusion set or threat actor is behind it. Keeping them apart is the point: traffic from
a partner's network says nothing by itself about that partner's responsibility.

Each partner records assessments as STIX 2.1 ``opinion`` objects (section 4.13): a stance from the
opinion vocabulary (section 10.15) on a subject, with a confidence on the 0-100 scale (section 3.2).
A partner's latest assessment of a subject replaces its earlier ones. The rule (:func:`conclude`):
a subject is concluded when at least ``quorum`` independent partners agree with it at confidence at
least ``threshold`` and no partner strongly disagrees; when no subject, or more than one, meets that,
the question is *contested* and every view is listed. Dissent is never dropped from the result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from accord.domain.errors import InvalidInput


class Question(StrEnum):
    ORIGIN = "origin"
    RESPONSIBILITY = "responsibility"


class Stance(IntEnum):
    """The STIX 2.1 opinion-enum (section 10.15), ordered."""

    STRONGLY_DISAGREE = -2
    DISAGREE = -1
    NEUTRAL = 0
    AGREE = 1
    STRONGLY_AGREE = 2

    @property
    def stix(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, text: str) -> Stance:
        try:
            return cls[text.strip().upper().replace("-", "_")]
        except KeyError:
            raise InvalidInput(f"unknown opinion {text!r} ({', '.join(s.stix for s in cls)})") from None


@dataclass(frozen=True, slots=True)
class Rule:
    """The incident's setting: how many independent partners must agree, and how confidently."""

    quorum: int = 2
    threshold: int = 70

    def __post_init__(self) -> None:
        if self.quorum < 1 or not 0 <= self.threshold <= 100:
            raise InvalidInput("quorum must be at least 1 and threshold from 0 to 100")


@dataclass(frozen=True, slots=True)
class Assessment:
    org: str  # identity id of the assessing partner
    question: Question
    subject: str  # an identity (origin: a partner) or an intrusion-set/threat-actor id (responsibility)
    stance: Stance
    confidence: int
    at: int
    id: str = ""


class Status(StrEnum):
    NONE = "no-assessment"
    CONTESTED = "contested"
    CONCLUDED = "concluded"


@dataclass(frozen=True, slots=True)
class SubjectView:
    subject: str
    supporters: tuple[str, ...]  # agree at or above the threshold
    weak_supporters: tuple[str, ...]  # agree below the threshold
    neutral: tuple[str, ...]
    dissenters: tuple[str, ...]  # disagree
    strong_dissenters: tuple[str, ...]  # strongly disagree: a veto


@dataclass(frozen=True, slots=True)
class Conclusion:
    question: Question
    status: Status
    subject: str | None
    views: tuple[SubjectView, ...]  # every subject anyone assessed, most supported first
    assessments: tuple[Assessment, ...]  # the current (latest) assessment of each partner per subject


def current(assessments: Iterable[Assessment]) -> tuple[Assessment, ...]:
    """Each partner's latest assessment per (question, subject); ties broken by id, then content, so
    that every node picks the same one whatever order the objects arrived in."""
    def rank(a: Assessment) -> tuple[int, str, int, int]:
        return a.at, a.id, a.stance, a.confidence

    latest: dict[tuple[str, Question, str], Assessment] = {}
    for a in assessments:
        key = (a.org, a.question, a.subject)
        if key not in latest or rank(a) > rank(latest[key]):
            latest[key] = a
    return tuple(sorted(latest.values(), key=lambda a: (a.subject, a.org)))


def _view(subject: str, mine: list[Assessment], rule: Rule) -> SubjectView:
    def orgs(pred: bool | None = None, *stances: Stance) -> tuple[str, ...]:
        return tuple(sorted(a.org for a in mine if a.stance in stances
                            and (pred is None or (a.confidence >= rule.threshold) is pred)))

    return SubjectView(subject,
                       orgs(True, Stance.AGREE, Stance.STRONGLY_AGREE),
                       orgs(False, Stance.AGREE, Stance.STRONGLY_AGREE),
                       orgs(None, Stance.NEUTRAL),
                       orgs(None, Stance.DISAGREE),
                       orgs(None, Stance.STRONGLY_DISAGREE))


def conclude(assessments: Iterable[Assessment], question: Question, rule: Rule = Rule()) -> Conclusion:
    """Apply the rule to one question; the result does not depend on the order of ``assessments``."""
    mine = [a for a in current(assessments) if a.question is question]
    if not mine:
        return Conclusion(question, Status.NONE, None, (), ())
    subjects = sorted({a.subject for a in mine})
    views = [_view(s, [a for a in mine if a.subject == s], rule) for s in subjects]
    views.sort(key=lambda v: (-len(v.supporters), -len(v.weak_supporters), v.subject))
    winners = [v for v in views if len(v.supporters) >= rule.quorum and not v.strong_dissenters]
    if len(winners) == 1:
        return Conclusion(question, Status.CONCLUDED, winners[0].subject, tuple(views), tuple(mine))
    return Conclusion(question, Status.CONTESTED, None, tuple(views), tuple(mine))


# --- confidence words (STIX 2.1 Appendix A) -------------------------------------------------------

# (upper bound of the range, word): Appendix A.4, Words of Estimative Probability
_WEP = ((0, "Impossible"), (19, "Highly Unlikely/Almost Certainly Not"), (39, "Unlikely/Probably Not"),
        (59, "Even Chance"), (79, "Likely/Probable"), (99, "Highly Likely/Almost Certain"), (100, "Certain"))
# Appendix A.3, Admiralty Credibility (6, "truth cannot be judged", has no number: no confidence)
_ADMIRALTY = ((19, "5 - Improbable"), (39, "4 - Doubtful"), (59, "3 - Possibly True"),
              (79, "2 - Probably True"), (100, "1 - Confirmed by other sources"))
# The value each word stands for when a partner gives a word instead of a number (Appendix A).
_WORD_VALUES = {"impossible": 0, "highly-unlikely": 10, "unlikely": 30, "even-chance": 50, "likely": 70,
                "highly-likely": 90, "certain": 100, "improbable": 10, "doubtful": 30, "possibly-true": 50,
                "probably-true": 70, "confirmed": 90}


def _word(scale: tuple[tuple[int, str], ...], confidence: int) -> str:
    if not 0 <= confidence <= 100:
        raise InvalidInput(f"confidence {confidence} is not on the 0-100 scale")
    return next(word for upper, word in scale if confidence <= upper)


def estimative(confidence: int) -> str:
    return _word(_WEP, confidence)


def admiralty(confidence: int) -> str:
    return _word(_ADMIRALTY, confidence)


def parse_confidence(text: str) -> int:
    """A number from 0 to 100, or a word of either scale (``likely``, ``probably-true``...)."""
    key = text.strip().lower().replace(" ", "-")
    if key.isdigit() and int(key) <= 100:
        return int(key)
    if key in _WORD_VALUES:
        return _WORD_VALUES[key]
    raise InvalidInput(f"confidence {text!r} is neither 0-100 nor one of {', '.join(_WORD_VALUES)}")
