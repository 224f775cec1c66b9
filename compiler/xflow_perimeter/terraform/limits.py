"""Read Terraform at a bounded cost: the limits every reader enforces, and the error they raise.

A committed Terraform tree is input from whoever can open a pull request, so the readers keep
their time linear and their memory within a small multiple of the input. What xflow generates
stays far inside every limit; a file beyond one is refused (XF416) with what to change.
"""

from __future__ import annotations

import re

from xflow_perimeter.diagnostics import Diagnostic, Span, XflowError

# The general reader (python-hcl2) needs up to 500 bytes of memory and 9 us of CPU per character
# (a 1.24 MB file: 600 MB, 11 s), so it takes no larger file than this: 4.2 times the largest file
# of the 10,000-flow benchmark (298,000 characters). The fast reader has no such limit.
GENERAL_READER_MAX_CHARS = 1_250_000
# Its cost follows the tokens more than the characters (a 1.24 MB traversal a["k"]["k"]...: 14 s,
# 900 MB), so it also takes no file with more tokens than 1.5 times those of that 4x file
# (80,528 tokens, read in 3.2 s and 180 MB); GENERAL_READER_TOKEN counts them, roughly.
GENERAL_READER_MAX_TOKENS = 120_000
GENERAL_READER_TOKEN = re.compile(
    r'"(?:[^"\\\n]|\\.)*+"|#[^\n]*+|//[^\n]*+|/\*.*?\*/|[A-Za-z_][A-Za-z0-9_-]*+|[0-9]++|\S', re.S
)
# Brackets and braces open at once. A generated policy nests 8 deep.
MAX_DEPTH = 100
# Tokens of one HCL file: a generated file has one per 16 characters, so this is some 16 MB.
MAX_TOKENS = 1_000_000
# Blocks, attributes and values outside jsonencode in one file (a generated file has about one
# per 100 characters), and objects, lists and strings inside jsonencode (one per 20 characters).
# Each costs up to 250 and 100 bytes of memory.
MAX_FILE_ELEMENTS = 200_000
MAX_JSON_VALUES = 1_000_000
# Statement spans recorded per policy: enough to locate every statement of a policy that fits
# AWS's limits (see xflow_perimeter.iam.policy.MAX_STATEMENTS); larger policies are refused.
MAX_STATEMENT_SPANS = 1_000


def over_limit(path: str, what: str, span: Span | None = None) -> XflowError:
    """The XF416 error for a file that a reader refuses to read further."""
    return XflowError(
        [Diagnostic("XF416", f"{what}; xflow does not read it", span or Span(path, 1, 1))]
    )
