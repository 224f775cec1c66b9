"""Audit: read the deployed perimeter read-only (boto3) and hold it to the committed Terraform.

boto3 is an optional dependency (``pip install 'xflow-perimeter[audit]'``): only the modules
that talk to AWS import it, and only when the audit runs.
"""
