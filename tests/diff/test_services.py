"""What each side's Terraform allows AWS service principals: a hand edit of a bucket policy that
widens a service's access is a gain, even when the spec's service declarations are unchanged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest

from xflow_perimeter.cli.main import main
from xflow_perimeter.diff.engine import diff_sides
from xflow_perimeter.diff.sides import load_side

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "data-platform"
SCHEMA = json.loads((ROOT / "schemas" / "diff-report.schema.json").read_text())
POLICIES = Path("terraform") / "lake-eu-west-1" / "bucket_policies.tf"
TRAIL_WRITES = '        Resource = ["arn:aws:s3:::acme-lake-audit/AWSLogs/111111111111/*"]'
PINNED = """          StringEquals = {
            "aws:SourceAccount" = ["111111111111"]
          }
        }
      },
    ]"""


def _sides(tmp_path: Path, edit: tuple[str, str]) -> tuple[Path, Path]:
    for name in ("old", "new"):
        shutil.copytree(EXAMPLE, tmp_path / name)
    policies = tmp_path / "new" / POLICIES
    text = policies.read_text()
    assert edit[0] in text
    policies.write_text(text.replace(edit[0], edit[1], 1))
    return tmp_path / "old" / "spec.yaml", tmp_path / "new" / "spec.yaml"


@pytest.mark.parametrize(
    ("edit", "on_behalf_of"),
    [
        ((TRAIL_WRITES, '        Resource = ["arn:aws:s3:::acme-lake-audit/*"]'), "111111111111"),
        ((PINNED, "        }\n      },\n    ]"), "an account"),
    ],
    ids=["wider-prefix", "unpinned-source-account"],
)
def test_hand_widened_service_access_is_a_gain(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    edit: tuple[str, str],
    on_behalf_of: str,
) -> None:
    old, new = _sides(tmp_path, edit)
    report = diff_sides(load_side("old", old, None), load_side("new", new, None))
    assert report.gains and not report.losses
    services = [e for e in report.gains if e.caller.startswith("service cloudtrail.amazonaws.com")]
    assert services and all(e.network.startswith("AWS services") for e in services)
    gain = next(e for e in services if "s3:PutObject" in e.actions)
    assert gain.example.caller == "cloudtrail.amazonaws.com"
    assert gain.bucket.startswith("acme-lake-audit ")
    if on_behalf_of == "111111111111":
        assert gain.example.key is not None
        assert not gain.example.key.startswith("AWSLogs/111111111111/")
    else:
        assert any(e.example.source_account != "111111111111" for e in services)
    assert main(["diff", str(old), str(new), "--format", "json"]) == 1
    jsonschema.validate(json.loads(capsys.readouterr().out), SCHEMA)
