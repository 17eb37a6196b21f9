"""Day one on an empty account, and what a version change replaces.

(b) No deployment references an object that the same deployment creates empty and that
something outside it must fill. Such pairs in this project (container → what fills it):

- SageMaker model package group → package versions (the training pipeline's
  CreateModelPackage); a Model references `…:model-package/<group>/<n>`;
- ECR repository → images (a push); a Model or a pod references `<registry>/<repo>@sha256:…`;
- S3 bucket → objects (an upload); a Model's `modelDataUrl`, a data-quality job's
  baseline and a scheduled drift check's baseline input (in the CreateProcessingJob request
  its schedule sends) reference `s3://<bucket>/<key>` to *read*. Capture, output and log
  destinations are written by AWS and are not such references.

Checked per deployment of the documented first-day sequence (docs/lifecycle.md): registry,
then the main stack without SageMaker models (the platform), then the full main stack. A
container counts as created-empty only in the deployment that first creates it.

Then: a version change (and a rollback) changes no field that forces the replacement of the
endpoint or the monitoring schedule (`sagemaker.FORCE_NEW`), and every resource whose every
field forces replacement changes by a new URN (created before the old one is deleted),
never by in-place replacement under a fixed name.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

from regulated_inference.lib import sagemaker as sm
from regulated_inference.simulation.engine import Recording, run_stack_program
from tests.conftest import encode, run_stack_with, stack_config
from tests.registry.test_registry import run_registry

NS = "regulated-inference"


def _strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str) and path.endswith("target.input"):
        # An EventBridge Scheduler target's input is the JSON request it sends (the drift
        # check's CreateProcessingJob): what that request reads is read when the schedule runs.
        yield from _strings(json.loads(value), path)
    elif isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]")


#: Container type → (its physical name in outputs, how a *read* reference names it).
CONTAINERS: dict[str, tuple[str, Any]] = {
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": (
        "modelPackageGroupName",
        lambda name: re.compile(rf":model-package/{re.escape(name)}/\d+$"),
    ),
    "aws:ecr/repository:Repository": (
        "name",
        lambda name: re.compile(rf"\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/{re.escape(name)}[@:]"),
    ),
    "aws:s3/bucketV2:BucketV2": ("bucket", lambda name: re.compile(rf"^s3://{re.escape(name)}/")),
    "aws:s3/bucket:Bucket": ("bucket", lambda name: re.compile(rf"^s3://{re.escape(name)}/")),
}
#: Where AWS *reads* an object that must already exist when the resource is created or run.
READ_PATHS = re.compile(
    r"(modelPackageName|\.image$|^primaryContainer\.image|modelDataUrl|imageUri|"
    r"constraintsResource\.s3Uri|statisticsResource\.s3Uri|containers\[\d+\]\.image|"
    r"initContainers\[\d+\]\.image|ProcessingInputs\[\d+\]\.S3Input\.S3Uri|"
    r"AppSpecification\.ImageUri)"
)


def containers(rec: Recording) -> dict[str, str]:
    """Physical name → type of every container a recording creates."""
    out = {}
    for typ, (key, _) in CONTAINERS.items():
        for r in rec.of_type(typ):
            name = r.outputs.get(key) or r.inputs.get(key)
            if isinstance(name, str):
                out[name] = typ
    return out


def fill_violations(rec: Recording, created: dict[str, str]) -> list[str]:
    """References that read from a container `created` in the same deployment."""
    found = []
    for r in rec.resources:
        for path, value in _strings(r.inputs):
            if not READ_PATHS.search(path):
                continue
            for name, typ in created.items():
                if CONTAINERS[typ][1](name).search(value):
                    found.append(f"{r.type} {r.name}.{path} = {value} reads from {typ} {name}")
    return found


def without_sagemaker_models(stack: str) -> Recording:
    cfg = copy.deepcopy(stack_config(stack))
    cfg[f"{NS}:models"] = [m for m in cfg.get(f"{NS}:models", []) if "kubernetes" in m]
    return run_stack_program(stack, config=encode(cfg))


def test_the_checker_finds_a_model_from_a_group_created_in_the_same_deployment():
    # The old design: the main stack created the group and a model from version N of it.
    import pulumi
    import pulumi_aws as aws

    from regulated_inference.simulation.engine import run_program

    def program() -> None:
        g = aws.sagemaker.ModelPackageGroup("g", model_package_group_name="fraud-scorer")
        aws.sagemaker.Model(
            "m",
            execution_role_arn="arn:aws:iam::111122223333:role/r",
            primary_container={
                "model_package_name": "arn:aws:sagemaker:eu-west-2:111122223333:"
                "model-package/fraud-scorer/5"
            },
            opts=pulumi.ResourceOptions(depends_on=[g]),
        )

    rec = run_program(program, project="p", stack="s", config={"aws:region": "eu-west-2"})
    [violation] = fill_violations(rec, containers(rec))
    assert "modelPackageName" in violation and "fraud-scorer" in violation


def test_no_first_day_deployment_reads_what_it_creates_empty(prod, dev):
    for stack, full in (("dev", dev), ("prod", prod)):
        existing: dict[str, str] = {}
        for label, rec in (
            ("registry", run_registry(stack)),
            ("platform", without_sagemaker_models(stack)),
            ("models", full),
        ):
            created = {n: t for n, t in containers(rec).items() if n not in existing}
            assert fill_violations(rec, created) == [], f"{stack}/{label}"
            existing |= created
        # In one deployment from scratch, the full stack would read its own empty bucket.
        assert fill_violations(full, containers(full)), "the checker sees the S3 pair"


def test_steady_state_stacks_never_create_a_registry_group_or_image_repository(prod, dev):
    # Groups and repositories are filled only from outside: neither may share a deployment
    # with what reads them, whatever the order.
    for rec in (prod, dev):
        strict = {
            n: t for n, t in containers(rec).items() if "modelPackageGroup" in t or "ecr" in t
        }
        assert fill_violations(rec, strict) == []
        assert rec.of_type("aws:sagemaker/modelPackageGroup:ModelPackageGroup") == []


# -- forced replacements on a version change ---------------------------------------------------


def _get(value: Any, path: str) -> Any:
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _deploy(version: str, register: dict | None = None):
    def mutate(cfg: dict) -> None:
        for m in cfg[f"{NS}:models"]:
            if m["name"] == "fraud-scorer":
                if register:
                    m["versions"][version] = register
                m["previousVersion"], m["version"] = m["version"], version

    return mutate


NEW = {
    "image": "111122223333.dkr.ecr.eu-west-2.amazonaws.com/models/fraud-scorer@sha256:" + "7" * 64,
    "evaluation": {"accuracy": 0.97, "auc": 0.985, "biasDisparity": 0.02},
    "modelPackageVersion": 6,
}


def forced_replacements(before: Recording, after: Recording) -> list[str]:
    """Resources that keep their URN while a field that forces replacement changes."""
    old = before.by_urn()
    problems = []
    for r in after.resources:
        fields = sm.FORCE_NEW.get(r.type)
        if fields is None or r.urn not in old:
            continue
        if fields == ("*",):
            if r.inputs != old[r.urn].inputs:
                problems.append(f"{r.type} {r.name}: replaced under the same name")
            continue
        for f in fields:
            if _get(r.inputs, f) != _get(old[r.urn].inputs, f):
                problems.append(f"{r.type} {r.name}.{f} changed: forces replacement")
    return problems


def _model_monitor(cfg: dict) -> None:
    """fraud-scorer's drift from Model Monitor (`mode: model-monitor`) instead of the default
    processing-job check."""
    for m in cfg[f"{NS}:models"]:
        if m["name"] == "fraud-scorer":
            d = m["monitoring"]["drift"]
            m["monitoring"]["drift"] = {
                "mode": "model-monitor",
                "features": d["features"],
                "threshold": d["threshold"],
            }


def _both(*mutations):
    def mutate(cfg: dict) -> None:
        for f in mutations:
            f(cfg)

    return mutate


def test_version_change_and_rollback_force_no_replacement(prod):
    forward = run_stack_with("prod", _deploy("2.4.0", NEW))
    assert forced_replacements(prod, forward) == []
    back = run_stack_with("prod", _deploy("2.2.1"))
    assert forced_replacements(prod, back) == []
    # The default drift check follows the version in place: same schedule, new baseline input.
    [check, moved] = [
        [s for s in rec.of_type("aws:scheduler/schedule:Schedule") if s.name.startswith("fraud")]
        for rec in (prod, forward)
    ]
    assert [s.urn for s in check] == [s.urn for s in moved] and len(check) == 1
    assert "/fraud-scorer/2.3.0/baseline/" in check[0].inputs["target"]["input"]
    assert "/fraud-scorer/2.4.0/baseline/" in moved[0].inputs["target"]["input"]

    # With Model Monitor:
    prod = run_stack_with("prod", _model_monitor)
    forward = run_stack_with("prod", _both(_model_monitor, _deploy("2.4.0", NEW)))
    assert forced_replacements(prod, forward) == []

    # The monitoring schedule moves (in place) to a new job definition named by its content.
    def schedule(rec):
        [s] = [
            s
            for s in rec.of_type("aws:sagemaker/monitoringSchedule:MonitoringSchedule")
            if s.name.startswith("fraud-scorer")
        ]
        return s

    assert schedule(forward).urn == schedule(prod).urn
    old_job = schedule(prod).inputs["monitoringScheduleConfig"]["monitoringJobDefinitionName"]
    new_job = schedule(forward).inputs["monitoringScheduleConfig"]["monitoringJobDefinitionName"]
    assert old_job != new_job


def test_the_checker_catches_a_fixed_name_job_definition():
    # What the job definition used to be: one URN whose baseline changes with the version.
    prod = run_stack_with("prod", _model_monitor)
    after = copy.deepcopy(prod)
    [job] = [
        j
        for j in after.of_type("aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition")
        if j.name.startswith("fraud-scorer")
    ]
    job.inputs["dataQualityBaselineConfig"]["constraintsResource"]["s3Uri"] += ".v2"
    [problem] = forced_replacements(prod, after)
    assert "replaced under the same name" in problem
    [endpoint] = [
        e for e in after.of_type("aws:sagemaker/endpoint:Endpoint") if e.name.startswith("fraud")
    ]
    endpoint.inputs["deploymentConfig"]["autoRollbackConfiguration"]["alarms"].append(
        {"alarmName": "fraud-scorer-prod-2-4-0-latency"}
    )
    assert any("autoRollbackConfiguration" in p for p in forced_replacements(prod, after))
