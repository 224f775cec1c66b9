"""Build the typed :class:`~xflow_perimeter.spec.model.Spec` from a schema-valid document,
with every semantic check (references, names, Regions, prefixes, duplicates).

:func:`diagnose` runs the same checks on the entries of a document that the schema accepted,
skipping those it refused, so that one run reports schema and semantic errors together."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Set

from xflow_perimeter.diagnostics import Diagnostic, Severity, XflowError
from xflow_perimeter.spec import hints
from xflow_perimeter.spec.actions import S3Action, lookup, resolve_access
from xflow_perimeter.spec.checker import Checker
from xflow_perimeter.spec.model import (
    ANONYMOUS,
    INTERNET,
    Assertion,
    Bucket,
    DeclaredException,
    Flow,
    Network,
    Principal,
    Service,
    ServiceFlow,
    Spec,
    arn_account,
    slug,
)
from xflow_perimeter.spec.source import Document

# Bucket names S3 reserves for its own features (S3 User Guide, "General purpose bucket naming rules").
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def bucket_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid general-purpose bucket name, or None.

    >>> bucket_name_problem("my..bucket")
    'two adjacent periods'
    """
    if not 3 <= len(name) <= 63:
        return "length must be 3 to 63 characters"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name):
        return "only lower-case letters, digits, '.' and '-', starting and ending with a letter or digit"
    if ".." in name:
        return "two adjacent periods"
    if ".-" in name or "-." in name:
        return "a period next to a hyphen"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "formatted as an IP address"
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"the prefix {prefix!r} is reserved by S3"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"the suffix {suffix!r} is reserved by S3"
    return None


class _Builder(Checker):
    """Builds a Spec from schema-valid data, collecting every semantic diagnostic."""

    def check_slugs(self, section: str) -> None:
        seen: dict[str, str] = {}
        for name, _, pointer in self.entries(section):
            other = seen.setdefault(slug(name), name)
            if other != name:
                self.error(
                    "XF202",
                    f"{section} names {other!r} and {name!r} give the same Terraform name; rename one",
                    pointer,
                    key=True,
                )

    def networks(self) -> dict[str, Network]:
        self.check_slugs("networks")
        out: dict[str, Network] = {}
        route_tables: dict[str, str] = {}
        vpcs: dict[str, str] = {}
        endpoints: dict[str, str] = {}
        for name, raw, ptr in self.entries("networks"):
            endpoint = raw.get("endpoint", "create")
            network = Network(
                name=name,
                account_id=self.account(raw["account"], f"{ptr}/account"),
                region=self.region(raw["region"], f"{ptr}/region"),
                vpc_id=raw["vpc_id"],
                route_table_ids=tuple(sorted(raw["route_table_ids"])),
                endpoint_id=None if endpoint == "create" else endpoint,
                egress=raw.get("egress"),
                bypass_accepted=raw.get("bypass_accepted"),
                workloads=tuple(sorted(raw.get("workloads", ()))),
                span=self.document.key_spans.get(ptr) or self.span(ptr),
            )
            if network.bypass_accepted is not None and network.egress not in ("nat", "internet"):
                egress = f"egress: {network.egress}" if network.egress else "no egress declared"
                self.error(
                    "XF215",
                    f"network {name!r} has {egress}, so there is no gateway bypass to accept: "
                    "remove bypass_accepted, or declare the egress (nat or internet) it has",
                    f"{ptr}/bypass_accepted",
                    key=True,
                )
            for index, rtb in enumerate(raw["route_table_ids"]):
                owner = route_tables.setdefault(rtb, name)
                if owner != name:
                    self.error(
                        "XF206",
                        f"route table {rtb} is already in network {owner!r}; "
                        "a route table can be associated with one S3 endpoint only",
                        f"{ptr}/route_table_ids/{index}",
                    )
            owner = vpcs.setdefault(network.vpc_id, name)
            if owner != name:
                self.error(
                    "XF207",
                    f"VPC {network.vpc_id} is already network {owner!r}; bucket policies could not "
                    "tell the two networks apart",
                    f"{ptr}/vpc_id",
                )
            if network.endpoint_id is not None:
                owner = endpoints.setdefault(network.endpoint_id, name)
                if owner != name:
                    self.error(
                        "XF207",
                        f"endpoint {network.endpoint_id} is already network {owner!r}",
                        f"{ptr}/endpoint",
                    )
            out[name] = network
        return out

    def buckets(self) -> dict[str, Bucket]:
        self.check_slugs("buckets")
        out: dict[str, Bucket] = {}
        names: dict[str, str] = {}
        for key, raw, ptr in self.entries("buckets"):
            problem = bucket_name_problem(raw["name"])
            if problem:
                self.error(
                    "XF203", f"invalid bucket name {raw['name']!r}: {problem}", f"{ptr}/name"
                )
            owner = names.setdefault(raw["name"], key)
            if owner != key:
                self.error(
                    "XF202",
                    f"bucket {raw['name']!r} is already declared as {owner!r}; S3 allows one policy "
                    "per bucket, so declare it once",
                    f"{ptr}/name",
                )
            out[key] = Bucket(
                key=key,
                name=raw["name"],
                account_id=self.account(raw["account"], f"{ptr}/account"),
                region=self.region(raw["region"], f"{ptr}/region"),
                span=self.document.key_spans.get(ptr) or self.span(ptr),
            )
        return out

    def principals(self) -> dict[str, Principal]:
        out: dict[str, Principal] = {}
        arns: dict[str, str] = {}
        for key, raw, ptr in self.entries("principals"):
            owner = arns.setdefault(raw["arn"], key)
            if owner != key:
                self.error(
                    "XF202", f"ARN {raw['arn']} is already principal {owner!r}", f"{ptr}/arn"
                )
            out[key] = Principal(
                key=key, arn=raw["arn"], span=self.document.key_spans.get(ptr) or self.span(ptr)
            )
        return out

    def principal_list(self, section: str, principals: Mapping[str, Principal]) -> dict[str, str]:
        """A list of spec names or ARNs (``admins``, ``auditors``): ARN -> pointer of its entry."""
        arns: dict[str, str] = {}
        for _, ref, pointer in self.items(section):
            if ref.startswith("arn:"):
                arns.setdefault(ref, pointer)
            else:
                found = self.reference(principals, "principal", ref, pointer)
                if found is not None:
                    arns.setdefault(found.arn, pointer)
        return arns

    def auditors(
        self, principals: Mapping[str, Principal], admins: Set[str], flows: tuple[Flow, ...]
    ) -> tuple[str, ...]:
        """Auditors, none of which may also be an admin or a flow's principal: the bucket
        policies confine an auditor to configuration reads, which would take those away."""
        in_flows = {flow.principal.arn for flow in flows}
        auditors = self.principal_list("auditors", principals)
        for arn, pointer in auditors.items():
            role = (
                "an admin" if arn in admins else "a flow's principal" if arn in in_flows else None
            )
            if role is not None:
                self.error(
                    "XF250",
                    f"auditor {arn} is also {role}: bucket policies confine auditors to reading "
                    "configuration, which would deny it the rest; give auditing its own role",
                    pointer,
                )
        return tuple(sorted(auditors))

    def flows(
        self,
        principals: Mapping[str, Principal],
        networks: Mapping[str, Network],
        buckets: Mapping[str, Bucket],
        services: Mapping[str, Service],
    ) -> tuple[tuple[Flow, ...], tuple[ServiceFlow, ...]]:
        """Principal flows and service flows, both through every check that applies to a flow."""
        flows: list[Flow] = []
        service_flows: list[ServiceFlow] = []
        seen: dict[tuple[object, ...], int] = {}
        for index, raw, ptr in self.items("flows"):
            shape = hints.flow_shape_problem(raw)
            if shape is not None:  # the schema refuses these first; kept for build() alone
                self.error("XF213", f"flows[{index}]: {shape}", ptr)
                continue
            has_service = "service" in raw
            bucket = self.bucket(buckets, raw["bucket"], f"{ptr}/bucket")
            access = tuple(raw["access"] if isinstance(raw["access"], list) else [raw["access"]])
            actions, valid = self.actions(raw["access"], ptr)
            prefix = raw.get("prefix")
            if prefix is not None:
                self.check_prefix(prefix, actions, f"{ptr}/prefix", service=has_service)
            built: Flow | ServiceFlow | None = None
            who: tuple[str, ...]  # what, besides bucket, prefix and actions, tells flows apart
            if has_service:
                service = self.reference(services, "service", raw["service"], f"{ptr}/service")
                if service is not None and bucket is not None and valid:
                    built = ServiceFlow(service, bucket, access, actions, prefix, self.span(ptr))
                who = ("service", raw["service"])
            else:
                principal = self.reference(
                    principals, "principal", raw["principal"], f"{ptr}/principal"
                )
                network = self.network(networks, raw["network"], f"{ptr}/network")
                if network is not None and bucket is not None:
                    self.check_region(network, bucket, ptr)
                if principal is not None and network is not None and bucket is not None and valid:
                    built = Flow(
                        principal, network, bucket, access, actions, prefix, self.span(ptr)
                    )
                who = ("principal", raw["principal"], raw["network"])
            if built is None:
                continue
            identity = (*who, built.bucket.key, prefix, tuple(a.name for a in actions))
            if identity in seen:
                self.error("XF211", f"duplicate of flows[{seen[identity]}]", ptr)
                continue
            seen[identity] = index
            if isinstance(built, ServiceFlow):
                service_flows.append(built)
            else:
                flows.append(built)
        return tuple(flows), tuple(service_flows)

    def actions(self, access: str | list[str], ptr: str) -> tuple[tuple[S3Action, ...], bool]:
        """A flow's actions, and whether every access item was usable (XF208 for each other)."""
        items = access if isinstance(access, list) else [access]
        actions, invalid = resolve_access(items)
        listed = isinstance(access, list)
        for item in invalid:
            where = f"{ptr}/access/{items.index(item)}" if listed else f"{ptr}/access"
            self.error("XF208", _action_problem(item), where)
        return actions, not invalid

    def check_prefix(
        self, prefix: str, actions: tuple[S3Action, ...], pointer: str, *, service: bool
    ) -> None:
        if prefix.startswith("/") or "//" in prefix:
            self.error(
                "XF209",
                f"prefix {prefix!r}: S3 keys rarely start with '/' or hold '//'; write the prefix "
                "as keys are stored (for example exports/)",
                pointer,
            )
        if len(prefix) < 6 and any(a.prefix_key for a in actions):
            why = "xflow holds service flows to the rule for endpoint policies: " if service else ""
            self.error(
                "XF209",
                f"listing prefix {prefix!r} is shorter than 6 characters: {why}AWS rejects "
                "endpoint policies whose wildcards have fewer than 6 literal characters beside "
                "them; use a longer prefix or drop listing from this flow",
                pointer,
            )

    def check_region(self, network: Network, bucket: Bucket, ptr: str) -> None:
        if network.region != bucket.region:
            self.error(
                "XF210",
                f"bucket {bucket.name!r} is in {bucket.region} but network {network.name!r} is in "
                f"{network.region}: a gateway endpoint serves only its own Region, so this traffic "
                "would leave through the internet path and bypass the endpoint policy",
                ptr,
            )

    def services(self) -> dict[str, Service]:
        out: dict[str, Service] = {}
        for key, raw, ptr in self.entries("services"):
            out[key] = Service(
                key=key,
                service=raw["service"],
                source_account=self.account(raw["source_account"], f"{ptr}/source_account"),
                source_arn=raw.get("source_arn"),
                span=self.document.key_spans.get(ptr) or self.span(ptr),
            )
        return out

    def assertions(
        self,
        principals: Mapping[str, Principal],
        networks: Mapping[str, Network],
        buckets: Mapping[str, Bucket],
    ) -> tuple[Assertion, ...]:
        out: list[Assertion] = []
        for _, raw, ptr in self.items("assertions"):
            ref = raw["principal"]
            principal_arn: str | None
            if ref == ANONYMOUS:
                principal_arn = None
            elif ref.startswith("arn:"):
                principal_arn = ref
            else:
                found = self.reference(principals, "principal", ref, f"{ptr}/principal")
                principal_arn = found.arn if found else None
            network: str | None = raw["network"]
            if network == INTERNET:
                network = None
            else:
                self.network(networks, raw["network"], f"{ptr}/network")
            if isinstance(raw["bucket"], str):
                bucket = self.bucket(buckets, raw["bucket"], f"{ptr}/bucket")
                name, account = (bucket.name, bucket.account_id) if bucket else ("", "")
                region = bucket.region if bucket else None
            else:
                name = raw["bucket"]["name"]
                account = self.account(raw["bucket"]["account"], f"{ptr}/bucket/account")
                given = raw["bucket"].get("region")
                region = self.region(given, f"{ptr}/bucket/region") if given else None
                known = next(
                    (b for b in buckets.values() if (b.name, b.account_id) == (name, account)),
                    None,
                )
                if known is not None and region is not None and region != known.region:
                    self.error(
                        "XF216",
                        f"bucket {name} is {known.key!r} of the spec, in {known.region}, not "
                        f"{region}: drop region, or name the bucket by its spec name",
                        f"{ptr}/bucket/region",
                    )
            action = lookup(raw["action"])
            if action is None:
                self.error("XF212", hints.unknown_action(raw["action"]), f"{ptr}/action")
            out.append(
                Assertion(
                    principal_arn=principal_arn,
                    network=network,
                    bucket_name=name,
                    bucket_account=account,
                    key=raw.get("key"),
                    action=action.name if action else raw["action"],
                    expect_allow=raw["expect"] == "allow",
                    identity=raw.get("identity", "allow-all"),
                    bucket_region=region,
                    span=self.span(ptr),
                )
            )
        return tuple(out)

    def exceptions(self) -> tuple[DeclaredException, ...]:
        out: dict[str, DeclaredException] = {}
        for _, raw, ptr in self.items("exceptions"):
            address = raw["address"]
            if address in out:
                first = out[address].span
                self.error("XF230", f"exception {address} is already declared (at {first})", ptr)
                continue
            out[address] = DeclaredException(address, raw["reason"], self.span(ptr))
        return tuple(out.values())


def _action_problem(item: str) -> str:
    if not item.startswith("s3:"):
        return f"unknown access level {item!r}: use read, write, list, delete or an s3: action"
    action = lookup(item)
    if action is None:
        return hints.unknown_action(item)
    return (
        f"{action.name} does not act on a bucket or its objects, so a flow cannot scope it; "
        "grant it with an identity policy instead"
    )


def warnings(spec: Spec) -> list[Diagnostic]:
    """Risks in a valid spec: buckets that nobody but the root user could manage."""
    out = []
    for network in spec.networks:
        if network.egress in ("nat", "internet") and network.bypass_accepted is None:
            out.append(
                Diagnostic(
                    "XF214",
                    f"network {network.name!r} has egress: {network.egress}: S3 requests to "
                    f"buckets outside {network.region} leave through it without the endpoint "
                    "policy, so any credentials reach any bucket there; xflow verify reports "
                    "this (XF508) unless bypass_accepted says why it is acceptable",
                    network.span,
                    Severity.WARNING,
                )
            )
    admin_accounts = {arn_account(arn) for arn in spec.admins}
    for bucket in spec.buckets:
        if bucket.account_id not in admin_accounts:
            out.append(
                Diagnostic(
                    "XF220",
                    f"bucket {bucket.name!r} has no admin in its account {bucket.account_id}: only "
                    "that account's root user could still read or replace its policy "
                    "(s3:GetBucketPolicy, s3:PutBucketPolicy, s3:DeleteBucketPolicy); everything "
                    "outside the flows is denied to everyone else; add an admin to keep it manageable",
                    bucket.span,
                    Severity.WARNING,
                )
            )
    return out


def build(document: Document) -> Spec:
    """Build the typed Spec from a schema-valid document; raise XflowError with every semantic error."""
    builder = _Builder(document)
    spec = _assemble(builder)
    if builder.diagnostics:
        raise XflowError(builder.diagnostics)
    return spec


def diagnose(document: Document, refused: Set[str]) -> list[Diagnostic]:
    """The semantic errors of the entries the schema accepted.

    Args:
        document: a loaded spec whose top level is a mapping.
        refused: pointers of the entries and sections the schema refused (skipped here).
    """
    builder = _Builder(document, refused)
    _assemble(builder)
    return builder.diagnostics


def _assemble(builder: _Builder) -> Spec:
    networks = builder.networks()
    buckets = builder.buckets()
    principals = builder.principals()
    admins = tuple(sorted(builder.principal_list("admins", principals)))
    services = builder.services()
    flows, service_flows = builder.flows(principals, networks, buckets, services)
    auditors = builder.auditors(principals, set(admins), flows)
    assertions = builder.assertions(principals, networks, buckets)
    exceptions = builder.exceptions()
    return Spec(
        path=builder.document.path,
        accounts=tuple(sorted(builder.accounts.items())),
        networks=tuple(networks.values()),
        buckets=tuple(buckets.values()),
        principals=tuple(principals.values()),
        admins=admins,
        flows=flows,
        assertions=assertions,
        services=tuple(services.values()),
        service_flows=service_flows,
        exceptions=exceptions,
        auditors=auditors,
    )
