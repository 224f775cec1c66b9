"""IAM glob matching (``*`` = any run of characters, ``?`` = exactly one), compiled to regexes.

The regexes match in time polynomial in the input: every ``*`` but the last becomes an atomic
lazy group, so a hand-written pattern such as ``*a*a*a*a*b`` cannot make the verifier backtrack
exponentially. Committing to the leftmost occurrence of each middle segment is exact, because
segments have a fixed length (``?`` is one character).
"""

from __future__ import annotations

import functools
import re

ANY = "."
NOT_COLON = "[^:]"


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def _literal(text: str, one: str) -> str:
    return one.join(re.escape(piece) for piece in text.split("?"))


def glob_source(pattern: str, one: str = ANY) -> str:
    """Regex source for ``re.fullmatch`` that matches exactly what ``pattern`` matches.

    ``one`` is the regex for one character a wildcard may consume: ``ANY``, or ``NOT_COLON``
    for the ARN segments a wildcard must not cross.

    >>> bool(re.fullmatch(glob_source("a*b?"), "a/xb!", re.DOTALL))
    True
    """
    head, *rest = pattern.split("*")
    if not rest:
        return _literal(head, one)
    *middle, tail = rest
    body = "".join(f"(?>{one}*?{_literal(part, one)})" for part in middle if part)
    return f"{_literal(head, one)}{body}{one}*{_literal(tail, one)}"


@functools.lru_cache(maxsize=8192)
def compile_globs(patterns: tuple[str, ...], fold_case: bool = False) -> re.Pattern[str]:
    """One regex that fully matches a value iff some glob in ``patterns`` does.

    With ``fold_case`` the patterns are lower-cased: the caller must lower-case the value too.
    """
    sources = (glob_source(p.lower() if fold_case else p) for p in patterns)
    return re.compile("|".join(f"(?:{s})" for s in sources), re.DOTALL)


@functools.lru_cache(maxsize=65536)
def arn_source(pattern: str) -> str | None:
    """Regex source matching ARNs segment by segment, as ArnLike does; None if not 6 segments.

    The first five colons separate segments that wildcards cannot cross; the sixth segment
    (the resource) is the rest of the ARN and may itself contain colons.

    >>> bool(re.fullmatch(arn_source("arn:aws:iam::*:role/*"), "arn:aws:iam::1:role/x"))
    True
    >>> bool(re.fullmatch(arn_source("arn:aws:iam::*:role/*"), "arn:aws:iam::1:2:role/x"))
    False
    """
    segments = pattern.split(":", 5)
    if len(segments) != 6:
        return None
    head = ":".join(glob_source(s, NOT_COLON) for s in segments[:5])
    return f"{head}:{glob_source(segments[5], ANY)}"


@functools.lru_cache(maxsize=8192)
def compile_arn_globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regex that fully matches an ARN iff some ArnLike pattern (of six segments) does."""
    sources = []
    for pattern in patterns:
        source = arn_source(pattern)
        if source is None:
            raise ValueError(f"not an ARN pattern of six segments: {pattern!r}")
        sources.append(f"(?:{source})")
    return re.compile("|".join(sources), re.DOTALL)


class Globs:
    """Glob patterns matched as a set: literal patterns by lookup, patterns whose one wildcard is
    a trailing ``*`` by ``startswith``, and only the rest by a regex (compiling one is slow)."""

    __slots__ = ("literals", "prefixes", "regex")

    def __init__(self, patterns: tuple[str, ...], fold_case: bool = False) -> None:
        folded = tuple(p.lower() for p in patterns) if fold_case else patterns
        self.literals = frozenset(p for p in folded if not has_wildcard(p))
        self.prefixes = tuple(
            p[:-1] for p in folded if p.endswith("*") and not has_wildcard(p[:-1])
        )
        rest = tuple(
            p
            for p in folded
            if has_wildcard(p) and not (p.endswith("*") and not has_wildcard(p[:-1]))
        )
        self.regex = compile_globs(rest) if rest else None

    def matches(self, value: str) -> bool:
        """Whether some pattern matches all of ``value`` (lower-case it first with fold_case)."""
        if value in self.literals or (self.prefixes and value.startswith(self.prefixes)):
            return True
        return self.regex is not None and self.regex.fullmatch(value) is not None


@functools.lru_cache(maxsize=16384)
def glob_set(patterns: tuple[str, ...], fold_case: bool = False) -> Globs:
    return Globs(patterns, fold_case)
