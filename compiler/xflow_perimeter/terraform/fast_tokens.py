"""Read Terraform fast: the tokens of the HCL subset that the fast reader reads.

:func:`tokenize` keeps tokens as compact arrays (9 bytes a token, whatever the input) and stops
at the first character outside the subset, at the nesting limit or at the token limit of
:mod:`~xflow_perimeter.terraform.limits`, so a hostile file costs little before it is refused.
"""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass
from itertools import islice

from xflow_perimeter.diagnostics import Span
from xflow_perimeter.terraform import limits
from xflow_perimeter.terraform.positions import Positions


class NotInSubset(Exception):
    """The text is outside the subset the fast reader handles; read it with python-hcl2 instead."""


class OverLimit(NotInSubset):
    """The text is beyond one of :mod:`~xflow_perimeter.terraform.limits`: refuse it, do not fall back."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(f"{message} at {span}")
        self.message = message
        self.span = span


# Token kinds: the number of the _TOKEN group that matched (Match.lastindex).
NL, STR, _STR_BODY, KEY, NUM, NAME, PATH = range(1, 8)
LBRACE, RBRACE, LSQB, RSQB, LPAR, RPAR, COMMA, EQ, COLON, OTHER = range(8, 18)
_NEWLINES = r"\r?\n (?: [ \t]*+ (?: (?:\#|//) [^\n]*+ )? \r?\n )*+"  # and blank or comment lines
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_-]*+"
# Newlines after "{", "[", "(" and "," mean nothing, so those tokens take them in: a third fewer
# tokens to match. So does KEY, a name with the "=" after it.
_TOKEN = re.compile(
    rf"""
    [ \t]*+ (?:
      ( {_NEWLINES} )
    | ( " ( (?: [^"\\$%\r\n]++ | \\ (?: [nrt"\\] | u[0-9A-Fa-f]{{4}} | U[0-9A-Fa-f]{{8}} )
              | \$(?!\{{) | %(?!\{{) )*+ ) " )                        # STR and its body
    | ( {_IDENTIFIER} ) [ \t]*+ = (?![=>])                             # KEY
    | ( (?> -?[0-9]{{1,300}} (?: \.[0-9]{{1,300}} )? ) ) (?! [0-9A-Za-z_.] )  # NUM
    | ( {_IDENTIFIER} ) (?! [.\[] )                                    # NAME
    | ( {_IDENTIFIER} (?: \.{_IDENTIFIER} | \[[0-9]{{1,30}}\] )++ )    # PATH: a.b[0].c
    | (\{{) (?: [ \t]*+ {_NEWLINES} )?
    | (\}})
    | (\[) (?: [ \t]*+ {_NEWLINES} )?
    | (\])
    | (\() (?: [ \t]*+ {_NEWLINES} )?
    | (\))
    | (,) (?: [ \t]*+ {_NEWLINES} )?
    | (=)
    | (:)
    | ( (?s:.) )                                                       # OTHER
    )
    """,
    re.VERBOSE,
)
_DEPTH_CHANGE = [0] * (OTHER + 1)
for _kind in (LBRACE, LSQB, LPAR):
    _DEPTH_CHANGE[_kind] = 1
for _kind in (RBRACE, RSQB, RPAR):
    _DEPTH_CHANGE[_kind] = -1
NEWLINE_AFTER = re.compile(r"[ \t]*+\r?\n")
_LEADING = re.compile(r"(?:[ \t]*+(?:(?:#|//)[^\n]*+)?\r?\n)*+")  # blank and comment lines


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token ``i`` has kind ``kinds[i]`` and text ``text[starts[i]:ends[i]]`` (its own group:
    leading blanks and the newlines that ``{``, ``[``, ``(`` and ``,`` take in are left out).
    Two zeros after the last kind mark the end."""

    kinds: bytearray
    starts: array[int]
    ends: array[int]


def tokenize(text: str, positions: Positions) -> Tokens:
    """The tokens of ``text`` (which ends with a newline), after its leading comment lines.

    Raises:
        NotInSubset: at a character outside the subset.
        OverLimit: nested deeper than the limit, or more tokens than the limit.
    """
    start = _LEADING.match(text)
    assert start is not None  # it matches the empty string
    kinds = bytearray()
    starts = array("i")
    ends = array("i")
    add_kind, add_start, add_end = kinds.append, starts.append, ends.append
    depth = 0
    for found in islice(_TOKEN.finditer(text, start.end()), limits.MAX_TOKENS):
        kind = found.lastindex or 0
        add_kind(kind)
        add_start(found.start(kind))
        add_end(found.end(kind))
        depth += _DEPTH_CHANGE[kind]
        if depth > limits.MAX_DEPTH:
            raise OverLimit(f"nested more than {limits.MAX_DEPTH} deep", positions.span(starts[-1]))
        if kind == OTHER:
            raise NotInSubset(f"unexpected character at {positions.span(starts[-1])}")
    if len(kinds) == limits.MAX_TOKENS and _TOKEN.search(text, ends[-1]):
        raise OverLimit(f"more than {limits.MAX_TOKENS:,} tokens", positions.span(ends[-1]))
    kinds += b"\0\0"
    return Tokens(kinds, starts, ends)
