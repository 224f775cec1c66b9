"""Read Terraform: mask ``$${`` and ``%%{`` in quoted strings before python-hcl2 parses them.

python-hcl2 fails on ``$${`` and ``%%{`` unless a ``}`` follows, and returns them still doubled
when it succeeds (issue #336). :func:`mask_escapes` swaps each doubled ``$$``/``%%`` in a quoted
string for two private-use characters (same length, so every line and column stays put); string
decoding swaps them back for a single ``$``/``%``.
"""

from __future__ import annotations

import re

# Scanner for mask_escapes: what can start or end a region in expression and string context.
_IN_EXPRESSION = re.compile(r'"|\{|\}|#|//|/\*|<<-?([A-Za-z][A-Za-z0-9._-]*)\r?\n')
_IN_STRING = re.compile(r'\\.|"|\$\$\{|%%\{|\$\{|%\{', re.S)


def mask_escapes(text: str) -> tuple[str, dict[str, str]]:
    """Replace the ``$$`` of ``$${`` and ``%%`` of ``%%{`` in quoted strings with sentinels.

    Returns the masked text (same length, so lines and columns are unchanged) and the map from
    each two-character sentinel back to the single character it stands for.
    """
    if "$${" not in text and "%%{" not in text:
        return text, {}
    dollar, percent = sentinels(text)
    chars = list(text)
    stack = [0]  # open contexts: -1 is a quoted string, n >= 0 an expression n braces deep
    pos = 0
    while pos < len(text):
        if stack[-1] < 0:
            found = _IN_STRING.search(text, pos)
            if found is None:
                break
            token, pos = found.group(), found.end()
            if token == '"':
                stack.pop()
            elif token in ("$${", "%%{"):
                chars[found.start() : found.start() + 2] = dollar if token[0] == "$" else percent
            elif token in ("${", "%{"):
                stack.append(0)
            continue
        found = _IN_EXPRESSION.search(text, pos)
        if found is None:
            break
        token, pos = found.group(), found.end()
        if token == '"':
            stack.append(-1)
        elif token == "{":
            stack[-1] += 1
        elif token == "}":
            if stack[-1] == 0 and len(stack) > 1:
                stack.pop()  # the end of an interpolation: back into its string
            else:
                stack[-1] = max(stack[-1] - 1, 0)
        elif token in ("#", "//"):
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
        elif token == "/*":
            end = text.find("*/", pos)
            pos = len(text) if end < 0 else end + 2
        else:  # heredoc: its body stays as written, up to the closing marker's line
            marker = re.compile(r"^[ \t]*" + re.escape(found.group(1)) + r"\r?$", re.M)
            end_match = marker.search(text, pos)
            pos = len(text) if end_match is None else end_match.end()
    return "".join(chars), {dollar: "$", percent: "%"}


def sentinels(text: str) -> tuple[str, str]:
    """Two pairs of private-use characters that occur in ``text`` neither raw nor escaped."""
    lowered = text.lower()
    free = (
        chr(code)
        for code in range(0xE000, 0xF900)
        if chr(code) not in text and f"{code:04x}" not in lowered
    )
    return next(free) + next(free), next(free) + next(free)
