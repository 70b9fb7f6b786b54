"""The examples/ journeys pass against the real Django demo shop (reqflo/demo), not only ours."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import xmlschema
import yaml
from django.urls import reverse
from pytest_django.live_server_helper import LiveServer

from tests.cli.conftest import EXAMPLES, REPO, run_in_process, run_subprocess


def test_examples_pass_against_the_django_demo_shop(
    live_server: LiveServer, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    shutil.copytree(EXAMPLES, project)
    base_url = live_server.url + reverse("demo:login").removesuffix("/login")
    config = yaml.safe_load((project / "reqflo.yaml").read_text())
    config["environments"]["demo"]["base_url"] = base_url
    (project / "reqflo.yaml").write_text(yaml.safe_dump(config))
    secret = {"REQFLO_SECRET_SHOP_PASSWORD": "pw-from-the-environment"}

    # The command of the issue's "done means", from the examples' folder.
    done_means = run_subprocess(
        "run", "checkout.yaml", "--env", "demo", "--reporter", "junit", "--output", "out.xml",
        cwd=project,
    )  # fmt: skip
    checkout = run_in_process(
        "run", project / "checkout.yaml", "--env", "demo", "--case", "Two mugs"
    )
    rows = run_in_process(
        "run",
        project / "checkout.yaml",
        "--data",
        project / "rows.csv",
        "--parallel",
        "2",
        "--reporter",
        "json",
    )
    others = [
        run_in_process("run", project / name, "--env", "demo", env=secret)
        for name in ("products.yaml", "abandoned-cart.yaml")
    ]

    assert done_means.code == 0, done_means.output
    junit = xmlschema.XMLSchema(str(REPO / "tests" / "data" / "junit-10.xsd"))
    junit.validate(str(project / "out.xml"))
    [suite] = junit.to_dict(str(project / "out.xml"))["testsuite"]
    assert (suite["@name"], suite["@tests"], suite["@failures"]) == ("Checkout flow", "5", "0")
    assert checkout.code == 0, checkout.output
    assert rows.code == 0, rows.output
    assert json.loads(rows.stdout)["summary"]["passed"] == 4
    for result in others:
        assert result.code == 0, result.output
