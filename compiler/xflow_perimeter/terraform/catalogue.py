"""What verify knows about Terraform block types: the perimeter resources it models, the blocks
that cannot change what is deployed, and the resources that change S3 access by another way than
the policies it proves (so that no declared exception can accept them).

Matching is by exact type or by type prefix, so that a resource type added to the AWS provider
later falls in its family (``aws_s3control_*``, ``aws_route*``...) rather than passing unseen.
"""

from __future__ import annotations

import re

# Perimeter resources, with the arguments verify reads (others are refused, XF413).
MODELLED: dict[str, frozenset[str]] = {
    "aws_s3_bucket_policy": frozenset(("bucket", "policy")),
    "aws_vpc_endpoint": frozenset(
        ("vpc_id", "service_name", "vpc_endpoint_type", "policy", "route_table_ids", "tags")
    ),
    "aws_vpc_endpoint_policy": frozenset(("vpc_endpoint_id", "policy")),
    "aws_vpc_endpoint_route_table_association": frozenset(("vpc_endpoint_id", "route_table_id")),
}
# Meta-arguments and nested blocks a perimeter resource may carry: they cannot change what is
# deployed (depends_on only orders the apply; timeouts only bound it).
ORDERING_ONLY = frozenset(("depends_on",))
NESTED_ALLOWED = frozenset(("timeouts", "lifecycle"))
# lifecycle arguments that leave the deployed resource equal to its configuration.
LIFECYCLE_ALLOWED = frozenset(("create_before_destroy", "prevent_destroy", "replace_triggered_by"))
LIFECYCLE_NESTED_ALLOWED = frozenset(("precondition", "postcondition"))
# ignore_changes may name these: verify does not read them.
IGNORABLE = frozenset(("tags", "tags_all"))

# Top-level blocks that deploy nothing and cannot reach a perimeter resource's arguments (those
# must be literal values): output and terraform are what xflow writes itself.
HARMLESS = frozenset(("output", "variable", "locals", "moved", "check", "terraform"))
TERRAFORM_SETTINGS = frozenset(("required_version",))
TERRAFORM_NESTED = frozenset(("required_providers", "backend", "cloud"))
AWS_PROVIDER_SOURCES = frozenset(
    ("hashicorp/aws", "registry.terraform.io/hashicorp/aws", "registry.opentofu.org/hashicorp/aws")
)

S3_GATEWAY_SERVICE = re.compile(r"^com\.amazonaws\.([a-z0-9-]+)\.s3$")

# Resources that change who can reach S3 data, or by which path, without a bucket or endpoint
# policy: ACLs, ownership, public access blocks, access points and grants, other S3 endpoints and
# copies, routes, gateways, DNS and the VPC's own layout.
_S3_FAMILY = ("aws_s3_", "aws_s3control_", "aws_s3outposts_", "aws_s3tables_")
_NETWORK_FAMILY = (
    "aws_route",  # routes, route tables and their associations, Route 53 (DNS of S3 names)
    "aws_main_route_table_association",
    "aws_default_route_table",
    "aws_vpc",  # VPCs, their endpoints, peering, DHCP options (DNS)
    "aws_default_vpc",
    "aws_subnet",
    "aws_default_subnet",
    "aws_nat_gateway",
    "aws_internet_gateway",
    "aws_egress_only_internet_gateway",
    "aws_ec2_managed_prefix_list",
    "aws_ec2_transit_gateway",
    "aws_ec2_carrier_gateway",
    "aws_ec2_local_gateway",
    "aws_vpn_",
    "aws_dx_",
    "aws_networkfirewall_",
)
# S3 resources that only configure a bucket's own storage and cannot grant or route access,
# unless they carry one of the arguments below.
_S3_STORAGE_ONLY = frozenset(
    (
        "aws_s3_bucket",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_lifecycle_configuration",
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_object_lock_configuration",
        "aws_s3_bucket_request_payment_configuration",
        "aws_s3_bucket_intelligent_tiering_configuration",
        "aws_s3_bucket_metric",
        "aws_s3_bucket_notification",
        "aws_s3_bucket_cors_configuration",
        "aws_s3_object",
        "aws_s3_bucket_object",
    )
)
# What the best-known of them do, for the refusal's message.
_WHY = {
    "aws_s3_bucket_acl": "a bucket ACL grants access beside the bucket policy",
    "aws_s3_bucket_ownership_controls": (
        "object ownership decides whether ACLs grant access (verify assumes BucketOwnerEnforced)"
    ),
    "aws_s3_bucket_public_access_block": (
        "a public access block decides whether public policies and ACLs take effect"
    ),
    "aws_s3_account_public_access_block": (
        "a public access block decides whether public policies and ACLs take effect"
    ),
    "aws_s3_access_point": "an access point is another way into the bucket, with a policy of its own",
    "aws_s3_bucket_policy": "a bucket policy",
    "aws_s3_bucket_replication_configuration": "replication copies objects to another bucket",
    "aws_s3_bucket_website_configuration": "a website endpoint is another way into the bucket",
    "aws_s3_bucket_accelerate_configuration": (
        "Transfer Acceleration is another S3 endpoint, outside the gateway endpoint's routes"
    ),
    "aws_s3_object_copy": "it copies objects between buckets, with grants of its own",
    "aws_s3_bucket_inventory": "an inventory writes the bucket's object lists to another bucket",
    "aws_s3_bucket_analytics_configuration": "it writes analytics exports to another bucket",
}
_ACCESS_ARGUMENTS = frozenset(
    ("acl", "grant", "access_control_policy", "policy", "acceleration_status", "website")
)
_HARMLESS_ACLS = frozenset(("private", "bucket-owner-full-control"))


def access_change(resource_type: str, arguments: frozenset[str], acl: object) -> str | None:
    """Why a resource of this type (with these arguments) changes S3 access, or None.

    ``acl`` is the literal value of its ``acl`` argument, if any: an object may set a private one.
    """
    if resource_type.startswith(_S3_FAMILY):
        if resource_type not in _S3_STORAGE_ONLY:
            return _WHY.get(
                resource_type,
                "it changes access to S3 data outside the bucket and endpoint policies",
            )
        found = sorted(arguments & _ACCESS_ARGUMENTS)
        if found == ["acl"] and acl in _HARMLESS_ACLS:
            return None
        if resource_type == "aws_s3_bucket" and "policy" in found:
            return "its inline policy is a second policy for the bucket, which fights its bucket policy"
        if found:
            verb = "changes" if len(found) == 1 else "change"
            return f"its {', '.join(found)} {verb} access to S3 data outside the bucket policy"
        return None
    if resource_type.startswith(_NETWORK_FAMILY):
        return "it changes the network paths to S3 that the endpoint policies gate"
    return None


def in_access_family(resource_type: str) -> bool:
    """Whether the type belongs to S3 or to the network paths to it, whatever its arguments."""
    return resource_type.startswith(_S3_FAMILY + _NETWORK_FAMILY)


def runs_commands(block_type: str, labels: tuple[str, ...]) -> bool:
    """Whether the block runs programs of its own while Terraform plans (``data "external"``)."""
    return block_type == "data" and labels[:1] == ("external",)
