"""Data residency (R1-R7): nothing is created, replicated, logged or pulled outside the allowed regions."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from .base import UNKNOWN, Finding, Res, as_list, cannot_verify, get, is_unknown, rule, string_list
from .checks import expect, known_value
from .iam import IDENTITY_POLICY_TYPES, identity_documents
from .iam_documents import DocumentError, action_matches, statements
from .k8s_pods import POD_KINDS, pod_path
from .k8s_pods import containers as pod_containers
from .stack_index import BUCKET_TYPES, REPLICATION, StackIndex, s3_uri_bucket

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"

#: what a region name in the pack's config looks like (JSON Schema `pattern`)
_REGION_NAME = "^[a-z]{2}(-gov)?-[a-z]+-[0-9]$"
ALLOWED_REGIONS = {
    "allowedRegions": {
        "type": "array",
        "items": {"type": "string", "pattern": _REGION_NAME},
        "minItems": 1,
        "description": "AWS regions resources may be created in.",
        "default": ["eu-west-2"],
    }
}
HOME_REGION = {
    "homeRegion": {
        "type": "string",
        "pattern": _REGION_NAME,
        "description": "The region every log, capture and monitoring sink must live in.",
        "default": "eu-west-2",
    }
}

_ARN_REGION = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:([a-z0-9-]*):")
#: a concrete region name (partition prefixes: standard, gov, China, ISO)
REGION = re.compile(r"^(?:[a-z]{2}|[a-z]{2}-gov|[a-z]{2}-iso[a-z]?|cn)-[a-z]+-\d$")
_ARN_ANYWHERE = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9*?-]*):")
#: private ECR registry hosts (AWS ECR endpoints and quotas): `<acct>.dkr.ecr.<region>.amazonaws.com`,
#: FIPS `<acct>.dkr.ecr-fips.<region>.amazonaws.com`, China `….amazonaws.com.cn`, dual-stack
#: `<acct>.dkr-ecr.<region>.on.aws` (and `-fips`). Host names are case-insensitive; a port may follow.
_ECR_IMAGE = re.compile(
    r"^(\d{12})\.(?:dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"|dkr-ecr(?:-fips)?\.([a-z0-9-]+)\.on\.aws)(?::\d+)?/"
)


def _first_group(find: Callable[[str], re.Match | None], value: Any) -> str | None:
    """Group 1 of `find(value)` (a compiled pattern's `match` or `search`); None for a value that
    is not a string or does not match."""
    if not isinstance(value, str):
        return None
    m = find(value)
    return m.group(1) if m else None


def arn_region(arn: Any) -> str | None:
    return _first_group(_ARN_REGION.match, arn)


def region_of(r: Res) -> Any:
    """The region a resource lives in, from its outputs (v7 `region`) or its ARN."""
    region = get(r.props, "region")
    if region is not None:
        return region
    return arn_region(get(r.props, "arn")) or None


@rule(
    name="aws-provider-region-allowed",
    severity="critical",
    controls=("R1",),
    types=("pulumi:providers:aws",),
    config_schema=ALLOWED_REGIONS,
    remediation="Set `aws:region` in `Pulumi.<stack>.yaml` (default provider) or `region=` on the explicit "
    "aws.Provider to one of the allowed regions.",
)
def provider_region_allowed(r: Res, cfg: dict):
    """AWS providers (explicit and default) deploy only to allowed regions."""
    allowed = cfg["allowedRegions"]
    yield from expect(
        r.props,
        "region",
        lambda region: region in allowed,
        lambda region: (
            "provider has no region: it would fall back to AWS_REGION from the environment"
            if region is None
            else f"provider region {region} is not in the allowed regions {allowed}"
        ),
    )


@rule(
    name="resource-region-allowed",
    severity="critical",
    controls=("R2",),
    types=("aws:*",),
    config_schema=ALLOWED_REGIONS,
    remediation="Remove the resource's own `region=` argument or set it to an allowed region.",
)
def resource_region_allowed(r: Res, cfg: dict):
    """A resource's own `region` argument (pulumi-aws v7) is in the allowed list, and nothing it
    references is a service or resource in another region."""
    allowed = cfg["allowedRegions"]
    yield from expect(
        r.props,
        "region",
        lambda region: region is None or region in allowed,
        lambda region: f"region {region} is not in the allowed regions {allowed}",
    )
    svc = get(r.props, "serviceName")
    if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint" and isinstance(svc, str):
        other = service_region(svc)
        if other is not None and other not in allowed:
            yield f"serviceName {svc} reaches a service in {other}, outside {allowed}"
    for path, arn, other in foreign_arns(r.props, allowed):
        yield f"{path} references {arn} in {other}, outside {allowed}"


def service_region(name: str) -> str | None:
    """The region named in an endpoint service name (`com.amazonaws.<region>.<svc>`,
    `aws.sagemaker.<region>.notebook`, `com.amazonaws.vpce.<region>.vpce-svc-…`), if any."""
    for part in name.lower().split("."):
        if REGION.match(part):
            return part
    return None


def foreign_arns(props: Any, allowed: list[str], path: str = "") -> Iterator[tuple[str, str, str]]:
    """(path, ARN, region) for every ARN in the resource's properties (also inside JSON documents)
    whose region is a concrete region outside `allowed`; region-less and wildcard ARNs are left to
    the rules that judge wildcards."""
    if isinstance(props, str):
        if "arn:" not in props:
            return
        for m in _ARN_ANYWHERE.finditer(props):
            reg = m.group(1)
            if reg and REGION.match(reg) and reg not in allowed:
                end = props.find('"', m.start())
                yield path or "(value)", props[m.start() : end if end > 0 else None], reg
                return  # one finding per property
    elif isinstance(props, dict):
        for k, v in props.items():
            if k in ("region", "arn", "id", "tagsAll"):
                continue  # the resource's own identity: judged above and by R1
            yield from foreign_arns(v, allowed, f"{path}.{k}" if path else k)
    elif isinstance(props, list):
        for i, v in enumerate(props):
            yield from foreign_arns(v, allowed, f"{path}[{i}]")


@rule(
    name="kms-no-multi-region-keys",
    severity="high",
    controls=("R3",),
    types=(
        "aws:kms/key:Key",
        "aws:kms/externalKey:ExternalKey",
        "aws:kms/replicaKey:ReplicaKey",
        "aws:kms/replicaExternalKey:ReplicaExternalKey",
    ),
    config_schema=ALLOWED_REGIONS,
    remediation="Create single-Region keys (`multi_region=False`); drop replica keys outside the allowed regions.",
)
def kms_no_multi_region(r: Res, cfg: dict):
    """No multi-Region KMS keys (of any key type), and no replica key whose primary or replica region
    is outside the allowed regions."""
    if r.type in ("aws:kms/key:Key", "aws:kms/externalKey:ExternalKey"):
        yield from expect(
            r.props,
            "multiRegion",
            lambda multi: multi is not True,
            "multiRegion is true: key material can be replicated to other regions",
        )
        return
    region = get(r.props, "region")
    if region is None and r.provider is not None:
        region = get(r.provider, "region")
    if is_unknown(region):
        yield cannot_verify("region")
    elif region not in cfg["allowedRegions"]:
        yield f"replica key in {region or 'an unspecified region'}, outside {cfg['allowedRegions']}"
    primary = get(r.props, "primaryKeyArn")
    if is_unknown(primary):
        return  # resolved at apply; the primary key itself is judged where it is declared
    preg = arn_region(primary)
    if preg and preg not in cfg["allowedRegions"]:
        yield f"primaryKeyArn {primary} is in {preg}, outside {cfg['allowedRegions']}: the key material is shared with it"


@rule(
    name="s3-replication-in-allowed-regions",
    kind="stack",
    severity="critical",
    controls=("R4",),
    config_schema=ALLOWED_REGIONS,
    remediation="Replicate only to buckets managed in this stack and created in an allowed region.",
)
def replication_in_allowed_regions(stack: StackIndex, cfg: dict):
    """S3 replication targets only buckets in allowed regions (ARNs carry no region: resolved in the stack)."""
    for rc in stack.of_type(REPLICATION):
        rules_ = yield from known_value(rc.props, "rules", urn=rc.urn)
        for i, rl in enumerate(rules_ or []):
            dest = get(rl, "destination.bucket")
            if is_unknown(dest):
                yield cannot_verify(f"rules[{i}].destination.bucket", rc.urn)
                continue
            if dest is None:
                continue
            target = stack.bucket_by_name(dest)
            if target is None:
                yield Finding(
                    f"rules[{i}] replicates to {dest}, a bucket outside this stack whose region "
                    "cannot be verified",
                    rc.urn,
                )
                continue
            region = region_of(target)
            if is_unknown(region):
                yield cannot_verify(f"region of {dest}", rc.urn)
            elif region not in cfg["allowedRegions"]:
                yield Finding(
                    f"rules[{i}] replicates to {dest} in {region}, outside {cfg['allowedRegions']}",
                    rc.urn,
                )


_PROFILE = re.compile(r"inference-profile/([a-z*?-]+)\.", re.IGNORECASE)
_PROFILE_ANY = re.compile(r"inference-profile/[*?]", re.IGNORECASE)
_FOUNDATION = re.compile(r"foundation-model/([^/]+)$", re.IGNORECASE)
#: a bare cross-Region profile id as Bedrock resources take it (`global.anthropic…`, `us.meta…`)
_BARE_PROFILE = re.compile(r"^([a-z*?]+(?:-[a-z]+)?)\.[a-z0-9-]+\.[a-z0-9]", re.IGNORECASE)
_GEOGRAPHIES = ("us", "eu", "apac", "us-gov", "jp", "au", "ca", "global")


def _profile_problems(value: Any, cfg: dict) -> Iterator[str]:
    if not isinstance(value, str):
        return
    m = _PROFILE.search(value)
    if m is None and _PROFILE_ANY.search(value):
        yield f"{value} names any inference profile, global ones included"
        return
    if m is None and not value.startswith("arn:"):
        b = _BARE_PROFILE.match(value)
        if b and (b.group(1).lower() in _GEOGRAPHIES or "*" in b.group(1) or "?" in b.group(1)):
            m = b
    if m:
        prefix = m.group(1).lower()
        if "*" in prefix or "?" in prefix:
            yield f"{value} names inference profiles of any geography, global ones included"
        elif prefix == "global":
            yield f"{value} is a global cross-Region inference profile (routes to any commercial region)"
        elif prefix not in cfg["allowedGeographies"]:
            yield f"{value} routes to the {prefix!r} geography, allowed: {cfg['allowedGeographies']}"
    region = arn_region(value)
    if region is None and value.startswith("arn:"):
        w = _ARN_ANYWHERE.match(value)
        region = w.group(1) if w else None
    if region and (m or _FOUNDATION.search(value)):
        if "*" in region or "?" in region:
            yield f"{value} names the model in any region (region wildcard {region!r})"
        elif region not in cfg["allowedRegions"]:
            yield f"{value} is in {region}, outside {cfg['allowedRegions']}"


def _model_references(props: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, value) of every string that names a Bedrock model or inference profile."""
    if isinstance(props, str):
        if (
            "foundation-model/" in props
            or "inference-profile/" in props
            or _BARE_PROFILE.match(props)
        ):
            yield path, props
    elif isinstance(props, dict):
        for k, v in props.items():
            if k not in ("arn", "id", "tagsAll", "tags"):
                yield from _model_references(v, f"{path}.{k}" if path else k)
    elif isinstance(props, list):
        for i, v in enumerate(props):
            yield from _model_references(v, f"{path}[{i}]")


@rule(
    name="bedrock-inference-in-allowed-geographies",
    severity="critical",
    controls=("R5",),
    types=("aws:bedrock*", *IDENTITY_POLICY_TYPES),
    config_schema={
        **ALLOWED_REGIONS,
        "allowedGeographies": string_list(
            "Cross-Region inference profile prefixes allowed (e.g. `eu`, which routes to "
            "several EU regions); `global` never is. Empty: in-region models only.",
            [],
        ),
    },
    remediation="Use an in-region model ARN or a geography profile whose prefix is allowed (e.g. `eu.`); "
    "never a `global.` profile, in inference profiles and in IAM grants alike.",
)
def bedrock_geographies(r: Res, cfg: dict):
    """Bedrock inference stays in allowed geographies (no `global.` profiles, matching profile prefix)."""
    if r.type == "aws:bedrock/inferenceProfile:InferenceProfile":
        src = get(r.props, "modelSource.copyFrom")
        if is_unknown(src):
            yield cannot_verify("modelSource.copyFrom")
        else:
            yield from _profile_problems(src, cfg)
        return
    if r.type.startswith("aws:bedrock"):
        # agents, knowledge bases, custom models, provisioned throughput, evaluation jobs, …:
        # wherever a model or profile is named
        for path, value in _model_references(r.props):
            for p in _profile_problems(value, cfg):
                yield f"{path}: {p}"
        return
    for label, doc in identity_documents(r):
        try:
            sts = statements(doc)
        except DocumentError:
            continue  # reported by the IAM rules
        if is_unknown(sts):
            if doc is not None:
                yield cannot_verify(label, what="policy document")
            continue
        for st in sts:
            if not st.allows:
                continue
            if st.not_resources is not None and _bedrock_actions(st):
                yield (
                    f"{label} statement {st.sid}: grants Bedrock invocation on NotResource (every model "
                    "and profile not listed, global ones included)"
                )
            for res in st.resources or []:
                for p in _profile_problems(res, cfg):
                    yield f"{label} statement {st.sid}: grants {p}"


def _bedrock_actions(st: Any) -> bool:
    acts = st.actions if st.actions is not None else ["*"]  # NotAction: everything else
    return any(
        isinstance(a, str)
        and (action_matches(a, "bedrock:InvokeModel") or action_matches(a, "bedrock:Converse"))
        for a in acts
    )


_MODEL_ID = re.compile(
    r"(?:foundation-model|inference-profile)/(?:(?:global|[a-z]{2}(?:-gov)?|apac)\.)?(.+)$"
)


def _model_id(arn: Any) -> str | None:
    return _first_group(_MODEL_ID.search, arn)


def _model_problem(arn: Any, allowed: list[str]) -> str | None:
    model = _model_id(arn)
    if model is None:
        return None
    if ("*" in model or "?" in model) and model not in allowed:
        return f"{arn} grants a wildcard of foundation models"
    if not any(action_matches(p, model) for p in allowed):
        return f"{model} is not an allow-listed foundation model ({', '.join(allowed)})"
    return None


@rule(
    name="bedrock-foundation-models-allowed",
    severity="high",
    controls=("R5", "G2"),
    types=(
        "aws:bedrock/inferenceProfile:InferenceProfile",
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        *IDENTITY_POLICY_TYPES,
    ),
    dev_advisory=True,
    config_schema={
        "allowedFoundationModels": string_list(
            "Bedrock model ids (wildcards allowed) that inference profiles, IAM grants and "
            "endpoint policies may name; `*` allows any.",
            ["*"],
        )
    },
    remediation="Grant and route only the foundation models your model-risk process approved; add a new "
    "model to `allowedFoundationModels` in the stack's policy config through review.",
)
def bedrock_models_allowed(r: Res, cfg: dict):
    """Bedrock foundation models used or granted are on the approved allow-list (no wildcard grants)."""
    allowed = list(cfg["allowedFoundationModels"])
    if r.type == "aws:bedrock/inferenceProfile:InferenceProfile":
        src = get(r.props, "modelSource.copyFrom")
        if is_unknown(src):
            yield cannot_verify("modelSource.copyFrom")
        elif (problem := _model_problem(src, allowed)) is not None:
            yield f"modelSource.copyFrom: {problem}"
        return
    docs = (
        [("policy", get(r.props, "policy"))]
        if r.type == "aws:ec2/vpcEndpoint:VpcEndpoint"
        else identity_documents(r)
    )
    for label, doc in docs:
        try:
            sts = statements(doc)
        except DocumentError:
            continue  # reported by the IAM rules
        if is_unknown(sts):
            yield cannot_verify(label, what="policy document")
            continue
        for st in sts:
            if not st.allows:
                continue
            for res in st.resources or []:
                if (problem := _model_problem(res, allowed)) is not None:
                    yield f"{label} statement {st.sid}: {problem}"


SUBSCRIPTION_FILTER = "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter"
_DATA_QUALITY_JOB = "aws:sagemaker/dataQualityJobDefinition:DataQualityJobDefinition"
#: sink type -> (property, kind) of each sink it writes to; kind: bucket|loggroup|arn|s3uri
_SINK_PATHS: dict[str, tuple[tuple[str, str], ...]] = {
    # where the logs are forwarded (Kinesis, Firehose, Lambda or a cross-account destination)
    SUBSCRIPTION_FILTER: (("destinationArn", "arn"), ("logGroup", "loggroup")),
    "aws:bedrockmodel/invocationLoggingConfiguration:InvocationLoggingConfiguration": (
        ("loggingConfig.s3Config.bucketName", "bucket"),
        ("loggingConfig.cloudwatchConfig.logGroupName", "loggroup"),
        ("loggingConfig.cloudwatchConfig.largeDataDeliveryS3Config.bucketName", "bucket"),
    ),
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": (
        ("dataCaptureConfig.destinationS3Uri", "s3uri"),
        ("asyncInferenceConfig.outputConfig.s3OutputPath", "s3uri"),
    ),
    "aws:ec2/flowLog:FlowLog": (("logDestination", "arn"),),
    "aws:cloudtrail/trail:Trail": (("s3BucketName", "bucket"), ("cloudWatchLogsGroupArn", "arn")),
}


def _sinks(r: Res) -> Iterator[tuple[str, str, Any]]:
    """(property, kind, reference) for every sink a resource writes to; kind: bucket|loggroup|arn|s3uri."""
    p = r.props
    for path, kind in _SINK_PATHS.get(r.type, ()):
        yield path, kind, get(p, path)
    if r.type == _DATA_QUALITY_JOB:
        outputs = get(p, "dataQualityJobOutputConfig.monitoringOutputs")
        for i, o in enumerate(as_list(outputs) if not is_unknown(outputs) else [outputs]):
            yield (
                f"dataQualityJobOutputConfig.monitoringOutputs[{i}].s3Output.s3Uri",
                "s3uri",
                o if is_unknown(o) else get(o, "s3Output.s3Uri"),
            )


SINK_TYPES = (*_SINK_PATHS, _DATA_QUALITY_JOB)


@rule(
    name="sinks-in-home-region",
    kind="stack",
    severity="high",
    controls=("R6", "L6"),
    config_schema=HOME_REGION,
    remediation="Send invocation logs, data capture, monitoring output, flow logs and the trail to buckets "
    "and log groups created in the home region by this stack.",
)
def sinks_in_home_region(stack: StackIndex, cfg: dict):
    """Log, capture and monitoring sinks are in the home region."""
    home = cfg["homeRegion"]
    log_groups: dict[str, Res] = {}
    for lg in stack.of_type(LOG_GROUP):
        name = get(lg.props, "name")
        if isinstance(name, str):
            log_groups[name] = lg
    for r in stack.of_type(*SINK_TYPES):
        own = region_of(r)
        if isinstance(own, str) and own != home:
            yield Finding(
                f"{r.type.rsplit(':', 1)[-1]} itself is in {own}, not the home region {home}", r.urn
            )
        for prop, kind, ref in _sinks(r):
            if ref is None:
                continue
            if is_unknown(ref):
                # preview: resolve the sink through the property's dependency on a stack resource
                types = {"loggroup": (LOG_GROUP,), "arn": (LOG_GROUP, *BUCKET_TYPES)}.get(
                    kind, BUCKET_TYPES
                )
                dep = stack.ref(r, prop, types)
                region = region_of(dep) if dep is not None else UNKNOWN
                if is_unknown(region):
                    yield cannot_verify(prop, r.urn)
                elif region != home:
                    yield Finding(
                        f"{prop} ({dep.name}) is in {region}, not the home region {home}", r.urn
                    )
                continue
            target: Res | None = None
            region: Any = None
            if kind == "arn":
                region = arn_region(ref)
                if region == "":  # S3 ARNs carry no region
                    target = stack.bucket_by_name(ref)
                    region = region_of(target) if target else None
                elif region is None and kind == "arn" and ":" not in ref:
                    target = log_groups.get(ref)  # a log group named by name
                    region = region_of(target) if target else None
            elif kind == "loggroup":
                target = log_groups.get(ref)
                region = region_of(target) if target else None
            else:
                name = s3_uri_bucket(ref) if kind == "s3uri" else ref
                target = stack.bucket_by_name(name) if name else None
                region = region_of(target) if target else None
            if is_unknown(region):
                yield cannot_verify(f"region of {prop}", r.urn)
            elif region is None:
                yield Finding(
                    f"{prop} {ref} is not managed in this stack: its region cannot be verified",
                    r.urn,
                )
            elif region != home:
                yield Finding(f"{prop} {ref} is in {region}, not the home region {home}", r.urn)


def _image_problem(image: Any, cfg: dict) -> str | None:
    if not isinstance(image, str):
        return None
    host, sep, rest = image.partition("/")
    m = _ECR_IMAGE.match(host.lower() + sep) if sep else None
    if not m:
        return f"image {image} is not from a private ECR registry"
    region = m.group(2) or m.group(3)
    if region not in cfg["allowedRegions"]:
        return f"image {image} is pulled from {region}, outside {cfg['allowedRegions']}"
    return None


def container_images(r: Res) -> Iterator[tuple[str, Any]]:
    """(path, image) for SageMaker Model containers and Kubernetes pod templates."""
    if r.type == "aws:sagemaker/model:Model":
        pc = get(r.props, "primaryContainer")
        if is_unknown(pc):
            yield "primaryContainer", pc
        elif pc:
            yield "primaryContainer.image", get(pc, "image")
        containers = get(r.props, "containers")
        if is_unknown(containers):
            yield "containers", containers
            return
        for i, c in enumerate(containers or []):
            yield f"containers[{i}].image", get(c, "image") if not is_unknown(c) else c
        return
    path = pod_path(r)
    spec = get(r.props, path)
    if is_unknown(spec):
        yield path, spec
        return
    for label, c in pod_containers(spec):
        yield (
            f"{path}.{label}" + ("" if is_unknown(c) else ".image"),
            (c if is_unknown(c) else get(c, "image")),
        )


#: every pod-bearing Kubernetes kind (kept under this name for existing importers)
K8S_WORKLOADS = POD_KINDS


@rule(
    name="images-from-in-region-registry",
    severity="high",
    controls=("R7",),
    types=("aws:sagemaker/model:Model", *K8S_WORKLOADS),
    config_schema=ALLOWED_REGIONS,
    remediation="Push the image to a private ECR repository in an allowed region and reference it there.",
)
def images_in_region(r: Res, cfg: dict):
    """Container images come from a private ECR registry in an allowed region."""
    for path, image in container_images(r):
        if is_unknown(image):
            yield cannot_verify(path)
        elif (problem := _image_problem(image, cfg)) is not None:
            yield f"{path}: {problem}"


RULES = [
    provider_region_allowed,
    resource_region_allowed,
    kms_no_multi_region,
    replication_in_allowed_regions,
    bedrock_geographies,
    bedrock_models_allowed,
    sinks_in_home_region,
    images_in_region,
]
