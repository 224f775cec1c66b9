"""The IAM policy model and AWS's authorization rules for S3, shared by compile and verify.

In: policy documents (``policy``) and a concrete request (``request``). Out: a decision with the
statements that made it (``evaluate``). ``globs``, ``conditions`` and ``matching`` decide whether
one statement matches one request; ``publicness`` is S3's definition of a public policy.
"""
