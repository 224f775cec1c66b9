"""xflow: compile S3 data-flow specs into least-privilege Terraform, and prove the exposure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# The API resolves on first use, so that `xflow --version` or a subcommand's module does not
# import every stage (see api.py).
if TYPE_CHECKING:
    from xflow_perimeter.api import (
        CompileResult,
        Explainer,
        ExplainRequest,
        VerifyResult,
        WriteBack,
        compile_spec,
        explain,
        explain_batch,
        load_spec,
        open_explainer,
        verify,
    )
    from xflow_perimeter.diagnostics import XflowError

__all__ = [
    "CompileResult",
    "ExplainRequest",
    "Explainer",
    "VerifyResult",
    "WriteBack",
    "XflowError",
    "__version__",
    "compile_spec",
    "explain",
    "explain_batch",
    "load_spec",
    "open_explainer",
    "verify",
]


def __getattr__(name: str) -> Any:
    if name == "XflowError":
        from xflow_perimeter.diagnostics import XflowError

        return XflowError
    if name in __all__:
        from xflow_perimeter import api

        return getattr(api, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
