"""ECR push times through a real process: a fake ``aws`` on PATH answers ``describe-images``.

The fake prints what the AWS CLI prints (AWS CLI reference, ``aws ecr
describe-images``, https://docs.aws.amazon.com/cli/latest/reference/ecr/describe-images.html:
``{"imageDetails": [{"imageTags", "imagePushedAt", ...}], "NextToken"}`` with
``--max-items``, continued by ``--starting-token``), one page per call, and
logs its argv; the registry is a ``FakeRegistry`` behind ``httpx.MockTransport``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest
from support.fakeregistry import FakeRegistry, sample_image

import registrykit as rk
from registrykit.lab.build import Image

pytestmark = pytest.mark.timeout(120)

ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
T1, T2 = "2024-02-01T10:00:00+00:00", "2024-04-01T10:00:00+00:00"

FAKE_AWS = """#!{python}
import json, os, sys
argv = sys.argv[1:]
with open(os.environ["FAKE_AWS_LOG"], "a") as log:
    log.write(json.dumps(argv) + "\\n")
if os.environ.get("FAKE_AWS_MODE") == "fail":
    sys.stderr.write("An error occurred (RepositoryNotFoundException): no such repository\\n")
    sys.exit(254)
pages = json.loads(open(os.environ["FAKE_AWS_PAGES"]).read())
start = argv[argv.index("--starting-token") + 1] if "--starting-token" in argv else "first"
print(json.dumps(pages[start]))
"""


def _images() -> dict[str, Image]:
    return {t: sample_image("1970-01-01T00:00:00Z", t.encode()) for t in ("v1", "v2")}


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake ``aws`` alone on PATH; returns its argv log."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "aws"
    script.write_text(FAKE_AWS.format(python=sys.executable))
    script.chmod(0o755)
    images = _images()
    pages = {
        "first": {
            "imageDetails": [
                {"imageDigest": images["v1"].digest, "imageTags": ["v1"], "imagePushedAt": T1}
            ],
            "NextToken": "eyJuZXh0IjogMn0=",
        },
        "eyJuZXh0IjogMn0=": {
            "imageDetails": [
                {"imageDigest": images["v2"].digest, "imageTags": ["v2"], "imagePushedAt": T2}
            ]
        },
    }
    (tmp_path / "pages.json").write_text(json.dumps(pages))
    monkeypatch.setenv("PATH", str(bindir))
    monkeypatch.setenv("FAKE_AWS_LOG", str(tmp_path / "argv.log"))
    monkeypatch.setenv("FAKE_AWS_PAGES", str(tmp_path / "pages.json"))
    return tmp_path / "argv.log"


def test_ecr_push_times_from_the_aws_cli(aws: Path) -> None:
    fake = FakeRegistry(ECR, "team/app", _images())
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake)) as c:
        df = rk.frames.tags(f"{ECR}/team/app", client=c)
    assert df["tag"].tolist() == ["v2", "v1"]
    assert (df["date_source"] == "pushed").all()
    assert df["pushed"].tolist() == [pd.Timestamp(T2), pd.Timestamp(T1)]
    calls = [json.loads(line) for line in aws.read_text().splitlines()]
    assert len(calls) == 2
    first, second = calls
    assert first[:2] == ["ecr", "describe-images"]
    assert first[first.index("--registry-id") + 1] == "123456789012"
    assert first[first.index("--region") + 1] == "eu-west-1"
    assert first[first.index("--repository-name") + 1] == "team/app"
    assert second[second.index("--starting-token") + 1] == "eyJuZXh0IjogMn0="


def test_a_failing_aws_cli_lists_undated(aws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_AWS_MODE", "fail")
    fake = FakeRegistry(ECR, "team/app", _images())
    with rk.Client(cache_dir=None, transport=httpx.MockTransport(fake)) as c:
        df = rk.frames.tags(f"{ECR}/team/app", client=c)
    assert sorted(df["tag"]) == ["v1", "v2"] and df["pushed"].isna().all()
