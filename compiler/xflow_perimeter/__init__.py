"""xflow: compile S3 data-flow specs into least-privilege Terraform, and prove the exposure."""

__version__ = "0.1.0"

from xflow_perimeter.api import CompileResult, WriteBack, compile_spec, load_spec
from xflow_perimeter.diagnostics import XflowError

__all__ = ["CompileResult", "WriteBack", "XflowError", "__version__", "compile_spec", "load_spec"]
