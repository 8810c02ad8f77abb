"""The GitHub workflows and the pre-commit configuration agree with the README (they cannot run
here; these tests parse them)."""

from __future__ import annotations

import yaml

from booktools import REPO, readme_command


def workflow(name: str) -> dict:
    return yaml.safe_load((REPO / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def run_steps(job: dict) -> list[str]:
    return [step["run"].strip() for step in job["steps"] if "run" in step]


def test_tests_workflow_runs_the_readme_test_command():
    job = workflow("tests.yml")["jobs"]["tests"]
    assert run_steps(job)[-1] == readme_command("**Set up and run every test**")
    assert "chromium" in run_steps(job)[0]
    assert job["env"]["CI"] == "true"


def test_pages_workflow_builds_with_the_readme_command_and_publishes_the_site():
    jobs = workflow("pages.yml")["jobs"]
    assert run_steps(jobs["build"])[-1] == readme_command("**Set up and build the website**")
    upload = next(s for s in jobs["build"]["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/html"
    assert any("deploy-pages" in s.get("uses", "") for s in jobs["deploy"]["steps"])


def test_pre_commit_strips_notebooks_and_runs_ruff():
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"] for repo in config["repos"] for hook in repo["hooks"]}
    assert {"nbstripout", "ruff", "ruff-format"} <= hooks
