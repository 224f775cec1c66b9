"""xflow: compile S3 data-flow specs into least-privilege Terraform, and prove the exposure."""

__version__ = "0.1.0"

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
