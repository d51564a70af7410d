"""The text of neutral messages, as data: spans with emphasis, links and mentions.

Messages are made of these values only; each sink (Slack, the console) renders them its own
way and escapes what its format needs. Nothing here knows a markup language, so text from
people (commit subjects, alert summaries) can never turn into a link or a mention by accident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A run of words, shown as is or emphasised."""

    text: str
    strong: bool = False
    emphasis: bool = False
    code: bool = False  # a sha, a command: shown in a fixed-width font


@dataclass(frozen=True)
class Link:
    url: str
    label: str


@dataclass(frozen=True)
class Mention:
    """A person, notified where the platform can (`user` is their id there)."""

    name: str
    user: str


Inline = Span | Link | Mention


@dataclass(frozen=True)
class Text:
    """A line of text: inline parts in order. `+` joins texts and plain strings."""

    parts: tuple[Inline, ...] = ()

    def __add__(self, other: Text | str) -> Text:
        return Text(self.parts + text(other).parts)

    def __radd__(self, other: str) -> Text:
        return text(other) + self

    def __bool__(self) -> bool:
        return any(not isinstance(p, Span) or p.text for p in self.parts)


@dataclass(frozen=True)
class Field:
    """`label: value`, e.g. a check and why it failed; the label carries its own emphasis."""

    label: Text
    value: Text


@dataclass(frozen=True)
class CodeBlock:
    """Verbatim output (a rollback command's), shown as a block in a fixed-width font."""

    text: str


Line = Text | Field | CodeBlock


def text(*parts: Text | Inline | str) -> Text:
    """Plain strings, inline parts and texts, joined in order."""
    out: list[Inline] = []
    for part in parts:
        if isinstance(part, Text):
            out += part.parts
        elif isinstance(part, str):
            if part:
                out.append(Span(part))
        else:
            out.append(part)
    return Text(tuple(out))


def strong(words: str) -> Text:
    return Text((Span(words, strong=True),))


def emphasis(words: str) -> Text:
    return Text((Span(words, emphasis=True),))


def code(words: str) -> Text:
    return Text((Span(words, code=True),))


def link(url: str, label: str) -> Text:
    return Text((Link(url, label),))


def mention(name: str, user: str) -> Text:
    return Text((Mention(name, user),))


def join(items: Iterable[Text | str], separator: str = ", ") -> Text:
    out = Text()
    for i, item in enumerate(items):
        out = out + (separator if i else "") + item
    return out
