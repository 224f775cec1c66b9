"""The picture's content: what each example shows, how large specs are summarised, ids and changes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xflow_perimeter import graph
from xflow_perimeter.api import load_spec
from xflow_perimeter.graph import mermaid
from xflow_perimeter.graph.facts import Declared, Entity, Reach
from xflow_perimeter.graph.grouping import Budget, picture
from xflow_perimeter.graph.model import Change, Graph, Kind, Node
from xflow_perimeter.spec import build, schema, source

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SAFE_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def draw_text(text: str, budget: Budget | None = None) -> Graph:
    document = source.loads(text, "spec.yaml")
    schema.validate(document)
    return graph.draw(build.build(document), "spec.yaml", budget)


def node(picture_: Graph, node_id: str) -> Node:
    return next(n for n in picture_.nodes if n.id == node_id)


def edge_lines(picture_: Graph) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(e.source, e.target): e.lines for e in picture_.edges}


# The examples, in full -----------------------------------------------------------------------------


def test_cross_account_example_is_drawn_in_full() -> None:
    drawn = graph.draw(load_spec(EXAMPLES / "cross-account" / "spec.yaml"), "spec.yaml")
    assert [g.title for g in drawn.groups] == ["data (000000000000)", "workload (999999999999)"]
    assert {(n.id, n.group) for n in drawn.nodes} == {
        ("p_uploader", "acct_000000000000"),
        ("b_reports", "acct_000000000000"),
        ("p_app_role", "acct_999999999999"),
        ("n_app", "acct_999999999999"),
    }
    assert node(drawn, "n_app").lines == (
        "app",
        "vpc-0a1b2c3d4e5f60718, ap-northeast-1",
        "2 route tables",
        "endpoint: created by xflow",
        "egress: none",
    )
    assert edge_lines(drawn) == {
        ("p_app_role", "n_app"): (),
        ("p_uploader", "n_app"): (),
        ("n_app", "b_reports"): ("app-role: read, list on exports/*", "uploader: write"),
    }
    assert drawn.notes == ()
    assert not any(n.summarised for n in drawn.nodes)


def test_data_platform_shows_endpoints_services_and_aws_owned_buckets() -> None:
    drawn = graph.draw(load_spec(EXAMPLES / "data-platform" / "spec.yaml"), "spec.yaml")
    titles = {g.id: g.title for g in drawn.groups}
    assert titles["acct_aws_services"] == "AWS services"
    assert titles["acct_aws_owned"] == "AWS-owned buckets"
    assert "endpoint: vpce-0a0b0c0d0e0f10203" in node(drawn, "n_analytics_vpc").lines
    assert "endpoint: created by xflow" in node(drawn, "n_lake_vpc").lines
    assert "egress: nat (bypass accepted)" in node(drawn, "n_ingest_vpc").lines
    trail = node(drawn, "s_trail")
    assert trail.group == "acct_aws_services"
    assert trail.lines == (
        "trail",
        "cloudtrail.amazonaws.com",
        "for lake (111111111111)",
        "only trail/lake-trail",
    )
    ssm = node(drawn, "w_ssm_eu_west_1")
    assert (ssm.kind, ssm.group, ssm.lines) == (
        Kind.AWS_OWNED,
        "acct_aws_owned",
        ("ssm", "9 buckets in eu-west-1"),
    )
    lines = edge_lines(drawn)
    # A service reaches its bucket directly, and its own edge does not repeat its name.
    assert lines["s_trail", "b_audit"] == ("write, s3:GetBucketAcl on AWSLogs/111111111111/*",)
    assert lines["n_lake_vpc", "w_ssm_eu_west_1"] == ("any principal: s3:GetObject",)
    assert lines["n_analytics_vpc", "b_curated"] == (
        "analyst: read, list on tables/*",
        "dashboards: read, s3:GetObjectTagging on reports/published/*",
    )
    assert lines["n_lake_vpc", "b_raw"] == (
        "etl: read, list on events/*",
        "janitor: list, delete on events/*",
    )


def test_a_bucket_without_flows_is_still_drawn() -> None:
    drawn = draw_text(
        SMALL_SPEC + "  spare: {name: graph-spare-bucket, account: data, region: eu-west-1}\n"
    )
    spare = node(drawn, "b_spare")
    assert spare.lines == ("spare", "graph-spare-bucket", "eu-west-1")
    assert not [e for e in drawn.edges if "b_spare" in (e.source, e.target)]


SMALL_SPEC = """\
xflow: 1
accounts: {data: "000000000000", app: "999999999999"}
networks:
  app:
    account: app
    region: eu-west-1
    vpc_id: vpc-0a1b2c3d4e5f60718
    route_table_ids: [rtb-0a1b2c3d4e5f60718]
principals:
  app-role: {arn: "arn:aws:iam::999999999999:role/app"}
  app_role: {arn: "arn:aws:iam::999999999999:role/app2"}
  stranger: {arn: "arn:aws:iam::123456789012:user/stranger"}
flows:
  - {principal: app-role, network: app, bucket: logs, access: read, prefix: "o'brien=(2)/"}
  - {principal: app_role, network: app, bucket: logs, access: [write, s3:PutObjectTagging]}
  - {principal: stranger, network: app, bucket: logs, access: list}
buckets:
  logs: {name: graph-test-logs, account: data, region: eu-west-1}
"""


def test_ids_are_unique_slugs_never_the_names() -> None:
    drawn = draw_text(SMALL_SPEC)
    ids = [n.id for n in drawn.nodes] + [g.id for g in drawn.groups]
    assert len(ids) == len(set(ids))
    assert all(SAFE_ID.match(i) for i in ids), ids
    # "app-role" and "app_role" slug alike; the later one in sorted order gets a suffix.
    assert node(drawn, "p_app_role").lines[0] == "app-role"
    assert node(drawn, "p_app_role_2").lines[0] == "app_role"
    # A principal of an account the spec does not alias still gets its own box.
    assert {g.title for g in drawn.groups} == {
        "data (000000000000)",
        "app (999999999999)",
        "account 123456789012",
    }
    assert edge_lines(drawn)["n_app", "b_logs"] == (
        "app-role: read on o'brien=(2)/*",
        "app_role: write, s3:PutObjectTagging",
        "stranger: list",
    )


def test_the_picture_is_deterministic() -> None:
    spec = load_spec(EXAMPLES / "data-platform" / "spec.yaml")
    first = graph.draw(spec, "spec.yaml")
    assert graph.draw(spec, "spec.yaml") == first
    assert graph.render(graph.draw(spec, "spec.yaml"), "dot") == graph.render(first, "dot")


# Summaries of large specs --------------------------------------------------------------------------


@pytest.fixture(params=[1000, 10000], ids=["1k", "10k"])
def large_spec(request: pytest.FixtureRequest, benchmark_spec: Callable[[int], Path]) -> Path:
    return benchmark_spec(int(request.param))


def test_large_specs_are_summarised_within_the_budget(large_spec: Path) -> None:
    spec = load_spec(large_spec)
    budget = Budget()
    drawn = graph.draw(spec, "spec.yaml")
    assert len(drawn.nodes) <= budget.nodes
    assert len(drawn.edges) <= budget.edges
    assert len(mermaid.render(drawn)) <= budget.text
    # Every entity is in exactly one node, and the picture says what it summarised.
    members = [key for n in drawn.nodes for key in n.members]
    entities = len(spec.principals) + len(spec.networks) + len(spec.buckets) + len(spec.services)
    assert len(members) == len(set(members)) == entities
    assert any(n.summarised for n in drawn.nodes)
    assert len(drawn.notes) == 1 and drawn.notes[0].startswith("Summarised to fit 50 nodes")
    summaries = [n for n in drawn.nodes if n.summarised]
    assert all(
        re.search(r"\d+ (principals|buckets|networks|accounts)", n.lines[0] + n.lines[-1])
        for n in summaries
    )


def test_1k_keeps_networks_and_groups_principals_and_buckets_per_account(
    benchmark_spec: Callable[[int], Path],
) -> None:
    path = benchmark_spec(1000)
    spec = load_spec(path)
    drawn = graph.draw(spec, "spec.yaml")
    kinds = [n.kind for n in drawn.nodes]
    assert kinds.count(Kind.NETWORK) == len(spec.networks)  # each network on its own
    principals = [n for n in drawn.nodes if n.kind is Kind.PRINCIPAL]
    assert len(principals) == len(spec.accounts)
    assert all(n.lines[0].endswith(" principals") and n.summarised for n in principals)
    assert drawn.notes == (
        "Summarised to fit 50 nodes and 120 edges: principals and buckets drawn as one node "
        "per account.",
    )


# Any declaration, any budget: a hypothesis property --------------------------------------------


_KINDS = (Kind.PRINCIPAL, Kind.NETWORK, Kind.BUCKET, Kind.SERVICE)


@st.composite
def declarations(draw: st.DrawFn) -> Declared:
    accounts = draw(
        st.lists(
            st.sampled_from(["111111111111", "222222222222", "333333333333", "444444444444"]),
            min_size=1,
            unique=True,
        )
    )
    entities: list[Entity] = []
    for kind in _KINDS:
        for number in range(draw(st.integers(0, 7))):
            name = draw(st.sampled_from(["a-b", "a_b", "x", "end", "o"])) + str(number)
            entities.append(
                Entity(f"{kind.value}:{name}", kind, name, (), draw(st.sampled_from(accounts)))
            )
    keys = {kind: [e.key for e in entities if e.kind is kind] for kind in _KINDS}
    reaches: list[Reach] = []
    if keys[Kind.BUCKET]:
        for _ in range(draw(st.integers(0, 25))):
            shape = draw(st.sampled_from(["principal", "service", "any"]))
            via = draw(st.sampled_from(keys[Kind.NETWORK])) if keys[Kind.NETWORK] else None
            who_kind = Kind.PRINCIPAL if shape == "principal" else Kind.SERVICE
            if shape == "any" and via is not None:
                who = None
            elif keys[who_kind] and (shape == "service" or via is not None):
                who = draw(st.sampled_from(keys[who_kind]))
                via = None if shape == "service" else via
            else:
                continue
            reaches.append(
                Reach(
                    who,
                    via,
                    draw(st.sampled_from(keys[Kind.BUCKET])),
                    tuple(
                        draw(st.sets(st.sampled_from(["read", "list", "s3:GetObject"]), min_size=1))
                    ),
                    draw(st.sampled_from([None, "p/", "q/"])),
                    draw(st.sampled_from(Change)),
                )
            )
    titles = {a: f"acct {a}" for a in {e.account for e in entities}}
    return Declared(
        "spec.yaml",
        tuple(sorted(titles.items())),
        tuple(sorted(entities, key=lambda e: e.key)),
        tuple(reaches),
    )


@settings(max_examples=150, deadline=None)
@given(declarations(), st.integers(1, 12), st.integers(3, 20))
def test_any_declaration_fits_any_budget_and_keeps_every_reach(
    declared: Declared, nodes: int, edges: int
) -> None:
    budget = Budget(nodes=nodes, edges=edges)
    drawn = picture(declared, budget, lambda g: len(mermaid.render(g)))
    assert len(drawn.nodes) <= nodes and len(drawn.edges) <= edges
    home = {key: n.id for n in drawn.nodes for key in n.members}
    assert sorted(home) == sorted(e.key for e in declared.entities)
    drawn_edges = {(e.source, e.target, e.change) for e in drawn.edges}
    for reach in declared.reaches:
        origin = reach.via if reach.via is not None else reach.who
        assert origin is not None
        assert (home[origin], home[reach.target], reach.change) in drawn_edges
        if reach.who is not None and reach.via is not None:
            assert (home[reach.who], home[reach.via], reach.change) in drawn_edges
    assert len(drawn_edges) == len(drawn.edges)
    ids = [n.id for n in drawn.nodes] + [g.id for g in drawn.groups]
    assert len(ids) == len(set(ids)) and all(SAFE_ID.match(i) for i in ids)
    # The order of the declaration does not change the picture.
    shuffled = Declared(
        declared.source, declared.accounts, declared.entities[::-1], declared.reaches[::-1]
    )
    assert picture(shuffled, budget, lambda g: len(mermaid.render(g))) == drawn


def test_gained_and_lost_reaches_are_separate_marked_edges() -> None:
    entities = (
        Entity("bucket:logs", Kind.BUCKET, "logs", (), "111111111111"),
        Entity("network:app", Kind.NETWORK, "app", (), "111111111111"),
        Entity("principal:app", Kind.PRINCIPAL, "app", (), "111111111111"),
        Entity("principal:old", Kind.PRINCIPAL, "old", (), "111111111111"),
    )
    reaches = (
        Reach("principal:app", "network:app", "bucket:logs", ("read",), None),
        Reach("principal:app", "network:app", "bucket:logs", ("write",), "in/", Change.GAINED),
        Reach("principal:old", "network:app", "bucket:logs", ("delete",), None, Change.LOST),
    )
    declared = Declared("spec.yaml", (("111111111111", "acct"),), entities, reaches)
    drawn = picture(declared, Budget(), lambda g: len(mermaid.render(g)))
    assert [(e.source, e.target, e.change, e.lines) for e in drawn.edges] == [
        ("n_app", "b_logs", Change.SAME, ("app: read",)),
        ("n_app", "b_logs", Change.GAINED, ("gained", "app: write on in/*")),
        ("n_app", "b_logs", Change.LOST, ("lost", "old: delete")),
        ("p_app", "n_app", Change.SAME, ()),
        ("p_app", "n_app", Change.GAINED, ("gained",)),
        ("p_old", "n_app", Change.LOST, ("lost",)),
    ]
