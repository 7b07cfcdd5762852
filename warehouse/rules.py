"""The registry of eligibility rules: each rule once, with its reason code, its Thai and
English labels and the SQL that computes its fact. Everything that names a rule reads
``RULES``: the entries query and ``RuleFacts`` (warehouse.entries), the automatic decisions
(warehouse.review.rules), the decision log's reason codes (warehouse.decisions), the public
site's reasons (warehouse.publish), and the dashboard's queue counts and labels.

A fact is computed in one of two stages of ``warehouse.entries.entries_sql()``:

- ``POST``: from the post's own rows, as a column of the query's ``base`` step. The
  expression may read ``p`` (posts), ``c`` (the campaign), ``l`` (its keyword listing row),
  ``et``/``el`` (ever tagged / edited after close: ``post_number`` is not NULL when so) and
  ``announcer`` (the announcement's author key).
- ``ENTRIES``: over every candidate's ``POST`` facts, in the final ``SELECT``: it may read
  those facts by name, ``author_key``, ``created_at``, ``max_entries_per_author``, ``counts``
  (tagged, in the window, not gone, with an author) and window functions. The dashboard
  computes one entry from the rows of its own author only, so a window must be partitioned
  by ``author_key``.

Readers look ``RULES`` up when they run (not at import), so a test can add a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class Stage(StrEnum):
    POST = "post"
    ENTRIES = "entries"


@dataclass(frozen=True, slots=True)
class Fact:
    """One computed column of the entries query, and an attribute of ``RuleFacts``."""

    name: str
    sql: str
    stage: Stage = Stage.POST


@dataclass(frozen=True, slots=True)
class Rule:
    code: str  # the reason code, the queue's flag column and the label's key (reason_<code>)
    label_th: str
    label_en: str
    fact: Fact
    applies_when: bool = True  # the fact's value that makes the rule apply
    # Rank among the rules that settle an entry by themselves (an automatic 'ineligible'
    # decision): the lowest applying rank is the decision's reason, so the most lasting
    # condition ranks first. None: a moderator judges (the rule becomes a suggestion).
    settles: int | None = None
    note: str = ""  # why, in the automatic decision's note (English, like the log)
    # The code of a rule this one says more about: it is not a reason code of its own (a
    # decision records the refined rule's), and its note replaces that rule's.
    refines: str | None = None


# Facts that no rule reports but rules and counts read.
SUPPORTING_FACTS: Final = (
    Fact("in_window", "coalesce(p.created_at BETWEEN c.opens_at AND c.closes_at, false)"),
    Fact(
        "author_entry_count",
        "CASE WHEN author_key IS NULL THEN 0 "
        "ELSE count(*) FILTER (WHERE counts) OVER (PARTITION BY author_key) END",
        Stage.ENTRIES,
    ),
)

RULES: tuple[Rule, ...] = (
    Rule(
        "early",
        "ส่งก่อนเปิดรับ",
        "before the window",
        Fact("early", "coalesce(p.created_at < c.opens_at, false)"),
        settles=2,
        note="written before the campaign opened",
    ),
    Rule(
        "late",
        "ส่งหลังปิดรับ",
        "after the deadline",
        Fact("late", "coalesce(p.created_at > c.closes_at, false)"),
        settles=3,
        note="written after the deadline",
    ),
    Rule(
        "untagged",
        "ไม่มีแท็ก",
        "tag missing",
        # A post whose page was never stored counts as tagged when the keyword listing
        # named it.
        Fact(
            "tagged",
            "CASE WHEN p.content_hash IS NOT NULL THEN list_has_any(p.tags_normalised, c.keywords) "
            "ELSE l.post_number IS NOT NULL END",
        ),
        applies_when=False,
        settles=4,
        note="does not carry the campaign keyword",
    ),
    Rule(
        "keyword_removed",
        "ถอดแท็กออกภายหลัง",
        "tag removed",
        # Not tagged now, but an earlier stored version was.
        Fact("keyword_removed", "NOT tagged AND ever_tagged", Stage.ENTRIES),
        note="the campaign keyword was removed from its tags",
        refines="untagged",
    ),
    Rule(
        "organiser",
        "ผู้จัด/ผู้ถูกยกเว้น",
        "organiser or excluded",
        Fact(
            "organiser",
            "coalesce(list_contains(c.excluded_authors, "
            "lower(coalesce(p.author_username, l.listing_author_username))) "
            "OR lower(coalesce(p.author_username, l.listing_author_username)) "
            "= (SELECT any_value(author_key) FROM announcer), false)",
        ),
        settles=1,
        note="written by an organiser or an excluded author",
    ),
    Rule(
        "gone",
        "ถูกลบหรือปิด",
        "deleted or private",
        Fact("gone", "coalesce(p.gone, false)"),
        settles=5,
        note="deleted or private at the last crawl",
    ),
    Rule(
        "edited_after_close",
        "แก้ไขหลังปิดรับ",
        "edited after close",
        # updated_at after the close, or a version after the first seen after the close.
        Fact(
            "edited_after_close",
            "coalesce(p.updated_at > c.closes_at, false) OR el.post_number IS NOT NULL",
        ),
        note="edited after the deadline",
    ),
    Rule(
        "over_author_limit",
        "เกินจำนวนต่อคน",
        "over the per-author limit",
        # Beyond max_entries_per_author among the author's counted entries, by created_at.
        Fact(
            "over_author_limit",
            "counts AND max_entries_per_author IS NOT NULL AND row_number() OVER "
            "(PARTITION BY author_key, counts ORDER BY created_at, post_number) "
            "> max_entries_per_author",
            Stage.ENTRIES,
        ),
        note="more entries by the author than the campaign allows",
    ),
)

# Reason codes a moderator may give that no rule computes.
MODERATOR_REASONS: Final = ("duplicate", "spam", "other")


def rules() -> tuple[Rule, ...]:
    return RULES


def find_rule(code: str) -> Rule | None:
    return next((r for r in RULES if r.code == code), None)


def facts() -> tuple[Fact, ...]:
    """Every computed fact, in the order of the entries query's columns and ``RuleFacts``:
    the supporting facts, then each rule's (a fact two rules read is listed once)."""
    out: dict[str, Fact] = {f.name: f for f in SUPPORTING_FACTS}
    for rule in RULES:
        out.setdefault(rule.fact.name, rule.fact)
    return tuple(out.values())


def rule_codes() -> tuple[str, ...]:
    """Every rule's code, in registry order (the queue's flags)."""
    return tuple(r.code for r in RULES)


def rule_reason_codes() -> tuple[str, ...]:
    """The reason codes the rules give (refinements record the rule they refine)."""
    return tuple(r.code for r in RULES if r.refines is None)


def reason_codes() -> tuple[str, ...]:
    """Every reason code a decision may record: the rules', then the moderator's own."""
    return rule_reason_codes() + MODERATOR_REASONS


def applies(rule: Rule, facts: Mapping[str, bool | int] | object) -> bool:
    """Whether the rule applies to these facts (a mapping by name, or ``RuleFacts``)."""
    name = rule.fact.name
    value = facts.get(name) if isinstance(facts, Mapping) else getattr(facts, name)
    return bool(value) == rule.applies_when


def applies_sql(rule: Rule, alias: str = "") -> str:
    """SQL for "the rule applies" over a row that has the rule's fact as a column."""
    column = f"{alias}.{rule.fact.name}" if alias else rule.fact.name
    return column if rule.applies_when else f"NOT {column}"


def label(code: str, lang: str) -> str | None:
    """The rule's label in ``lang`` ('th' or 'en'), or None if no rule has that code."""
    rule = find_rule(code)
    if rule is None:
        return None
    return rule.label_en if lang == "en" else rule.label_th
