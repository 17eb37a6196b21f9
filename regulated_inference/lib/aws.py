"""One home for AWS facts the components, the stack and its config share: pure data, no resources.

- `AwsContext`: the partition, region and account a stack deploys into, built once (from
  `aws.get_caller_identity()` / `get_region()` / `get_partition()` in the stack, or by hand) and
  passed to every component instead of account/region/partition threaded separately. It is a
  TypedDict so it crosses the component provider's boundary (a YAML or TypeScript program passes
  it as an object).
- ARN builders, one per ARN format we use. The formats are those of the AWS Service
  Authorization Reference ("Resource types defined by <service>"); S3 bucket ARNs carry neither
  region nor account, IAM ARNs no region, foundation models no account.
- ECR image parsing, the only parser of image URIs (components and config both call it).
- Identifier shapes: partitions, 12-digit account ids, region codes, IAM role ARNs (the
  patterns other ARN parsers are built from, so a partition or account rule lives here only).
- Name rules (SageMaker, IAM, S3): the limits AWS documents, checked in one place.
"""

import re
from dataclasses import dataclass
from typing import TypedDict


class AwsContext(TypedDict):
    """Where a stack deploys: one partition, one home region, one account."""

    partition: str
    """AWS partition: `aws`, `aws-us-gov` or `aws-cn`."""
    region: str
    """Home region, e.g. `eu-west-2`: resources, ARNs and service endpoints are built for it."""
    account_id: str
    """The 12-digit account that owns the resources (and whose principals policies admit)."""


# -- identifiers -------------------------------------------------------------------------

#: The partitions the project deploys to, each with the prefix of its region codes; `aws` takes
#: every other region (AWS General Reference, "Partitions").
PARTITION_REGION_PREFIXES: dict[str, str] = {"aws-us-gov": "us-gov-", "aws-cn": "cn-"}
PARTITIONS: tuple[str, ...] = ("aws", *PARTITION_REGION_PREFIXES)
#: Regex fragments for building ARN and URI patterns (no anchors, no groups).
PARTITION_PATTERN = "|".join(re.escape(p) for p in PARTITIONS)
#: An account id is exactly 12 ASCII digits (`[0-9]`, not `\d`, which admits other scripts'
#: digits); leading zeros are significant (AWS Account Management guide, "View AWS account
#: identifiers").
ACCOUNT_ID_PATTERN = "[0-9]{12}"
#: Region codes such as `eu-west-2`, `us-gov-west-1`, `us-iso-east-1`.
REGION_PATTERN = "[a-z]{2}(?:-gov|-iso[a-z]*)?-[a-z]+-[0-9]"
ACCOUNT_ID = re.compile(f"^{ACCOUNT_ID_PATTERN}$")
_REGION = re.compile(f"^{REGION_PATTERN}$")


def is_account_id(value: object) -> bool:
    """A 12-digit account id, as a string (an int has lost any leading zero)."""
    return isinstance(value, str) and bool(ACCOUNT_ID.match(value))


def partition_of(region: str) -> str:
    """The partition a region belongs to (AWS General Reference, "Partitions")."""
    for partition, prefix in PARTITION_REGION_PREFIXES.items():
        if region.startswith(prefix):
            return partition
    return "aws"


def context(region: str, account_id: str, partition: str | None = None) -> AwsContext:
    """An `AwsContext`; the partition defaults to the region's."""
    return {
        "partition": partition or partition_of(region),
        "region": region,
        "account_id": account_id,
    }


def check_context(ctx: AwsContext | None) -> str | None:
    """Why `ctx` is not a usable AwsContext (a one-line reason), or None."""
    if not isinstance(ctx, dict):
        return "an AwsContext {partition, region, account_id} is required"
    if not is_account_id(str(ctx.get("account_id") or "")):
        return f"account_id {ctx.get('account_id')!r} is not a 12-digit account id"
    if not _REGION.match(str(ctx.get("region") or "")):
        return f"region {ctx.get('region')!r} is not an AWS region like eu-west-2"
    if ctx.get("partition") != partition_of(ctx["region"]):
        return (
            f"partition {ctx.get('partition')!r} does not match region {ctx['region']} "
            f"({partition_of(ctx['region'])})"
        )
    return None


# -- ARNs ------------------------------------------------------------------------------


def arn(ctx: AwsContext, service: str, resource: str, *, region: bool = True) -> str:
    """`arn:<partition>:<service>:<region>:<account>:<resource>` (region empty for global services)."""
    where = ctx["region"] if region else ""
    return f"arn:{ctx['partition']}:{service}:{where}:{ctx['account_id']}:{resource}"


def s3_bucket_arn(partition: str, bucket: str) -> str:
    """`arn:<p>:s3:::<bucket>`: S3 ARNs name neither region nor account (a pattern may end in `*`)."""
    return f"arn:{partition}:s3:::{bucket}"


def s3_bucket_of_arn(bucket_arn: str) -> str:
    """The bucket named by an `s3_bucket_arn` (what follows `:::`)."""
    return bucket_arn.rsplit(":", 1)[-1]


def s3_object_arn(partition: str, bucket: str, key: str = "*") -> str:
    """`arn:<p>:s3:::<bucket>/<key>`."""
    return f"arn:{partition}:s3:::{bucket}/{key}"


def kms_key_arn(ctx: AwsContext, key_id: str) -> str:
    return arn(ctx, "kms", f"key/{key_id}")


def kms_alias_arn(ctx: AwsContext, alias: str) -> str:
    return arn(ctx, "kms", alias if alias.startswith("alias/") else f"alias/{alias}")


def iam_root_arn(ctx: AwsContext) -> str:
    """The account principal (`arn:<p>:iam::<account>:root`)."""
    return arn(ctx, "iam", "root", region=False)


def iam_role_arn(ctx: AwsContext, name: str, path: str = "/") -> str:
    return arn(ctx, "iam", f"role{path}{name}", region=False)


def iam_policy_arn(ctx: AwsContext, name: str, path: str = "/") -> str:
    return arn(ctx, "iam", f"policy{path}{name}", region=False)


def iam_oidc_provider_arn(ctx: AwsContext, issuer: str) -> str:
    """`arn:<p>:iam::<account>:oidc-provider/<issuer host and path>`."""
    return arn(ctx, "iam", f"oidc-provider/{issuer.removeprefix('https://')}", region=False)


def log_group_arn(ctx: AwsContext, name: str) -> str:
    """`arn:<p>:logs:<r>:<a>:log-group:<name>` (a pattern may end in `*`)."""
    return arn(ctx, "logs", f"log-group:{name}")


def sagemaker_arn(ctx: AwsContext, resource_type: str, name: str) -> str:
    """SageMaker resources: `endpoint`, `endpoint-config`, `model`, `processing-job`,
    `monitoring-schedule`, `model-package`, ... SageMaker lowercases names in ARNs."""
    return arn(ctx, "sagemaker", f"{resource_type}/{name.lower()}")


def sagemaker_endpoint_arn(ctx: AwsContext, name: str) -> str:
    return sagemaker_arn(ctx, "endpoint", name)


def model_package_arn(ctx: AwsContext, group: str, version: int) -> str:
    """Version `version` of a model package group (exists only after CreateModelPackage)."""
    return arn(ctx, "sagemaker", f"model-package/{group}/{version}")


def sns_topic_arn(ctx: AwsContext, name: str) -> str:
    return arn(ctx, "sns", name)


def cloudtrail_arn(ctx: AwsContext, trail: str, *, any_region: bool = False) -> str:
    """A trail's ARN, known before it exists (key and bucket policies name it).
    `any_region`: the `*`-region pattern CloudTrail's encryption context uses."""
    where = "*" if any_region else ctx["region"]
    return f"arn:{ctx['partition']}:cloudtrail:{where}:{ctx['account_id']}:trail/{trail}"


def events_rule_arn(ctx: AwsContext, name: str) -> str:
    return arn(ctx, "events", f"rule/{name}")


def cloudwatch_alarm_arn(ctx: AwsContext, name: str) -> str:
    return arn(ctx, "cloudwatch", f"alarm:{name}")


def ec2_arn(ctx: AwsContext, resource_type: str, resource_id: str) -> str:
    """EC2 resources (`network-interface`, `vpc-flow-log`, `subnet`, `security-group`, ...)."""
    return arn(ctx, "ec2", f"{resource_type}/{resource_id}")


def scheduler_arn(ctx: AwsContext, resource: str) -> str:
    return arn(ctx, "scheduler", resource)


def scheduler_target_arn(partition: str, api: str) -> str:
    """EventBridge Scheduler universal target (`arn:<p>:scheduler:::aws-sdk:<service>:<api>`)."""
    return f"arn:{partition}:scheduler:::{api}"


def bedrock_arn(ctx: AwsContext, resource: str) -> str:
    return arn(ctx, "bedrock", resource)


def bedrock_foundation_model_arn(partition: str, region: str, model_id: str) -> str:
    """Foundation models are AWS-owned: no account in the ARN."""
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def bedrock_inference_profile_arn(ctx: AwsContext, profile_id: str) -> str:
    return arn(ctx, "bedrock", f"inference-profile/{profile_id}")


def bedrock_guardrail_arn(ctx: AwsContext, guardrail_id: str) -> str:
    return arn(ctx, "bedrock", f"guardrail/{guardrail_id}")


def ecr_repository_arn(partition: str, region: str, account: str, repository: str) -> str:
    return f"arn:{partition}:ecr:{region}:{account}:repository/{repository}"


# -- ECR images ------------------------------------------------------------------------

#: A private ECR image pinned by digest:
#: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<repository>@sha256:<64 hex>` (ECR User
#: Guide, "Private registry concepts" and "Pulling an image": the registry URI, repository names
#: of lowercase letters, digits and . _ - / separators, a digest reference `@sha256:`).
ECR_IMAGE = re.compile(
    rf"^(?P<account>{ACCOUNT_ID_PATTERN})\.dkr\.ecr(?:-fips)?\.(?P<region>{REGION_PATTERN})"
    r"\.amazonaws\.com(?:\.cn)?/(?P<repository>[a-z0-9]+(?:[._/-][a-z0-9]+)*)"
    r"@sha256:(?P<digest>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class EcrImage:
    """The parts of an ECR image URI pinned by digest."""

    host: str
    account: str
    region: str
    repository: str
    digest: str

    def repository_arn(self, partition: str = "aws") -> str:
        return ecr_repository_arn(partition, self.region, self.account, self.repository)


def parse_ecr_image(uri: str) -> EcrImage:
    """Split an ECR image URI pinned by digest; ValueError (one line) for anything else."""
    uri = uri or ""
    if "@sha256:" not in uri:
        raise ValueError(
            "must be pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repo>@sha256:<64 hex> "
            "(tags are mutable; controls R7 and K7)"
        )
    match = ECR_IMAGE.match(uri)
    if not match:
        raise ValueError(
            "must be a private ECR image pinned by digest: "
            "<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex> "
            "(tags are mutable; controls R7 and K7)"
        )
    return EcrImage(host=uri.split("/", 1)[0], **match.groupdict())


def check_image_region(uri: str, region: str | None = None) -> EcrImage:
    """`parse_ecr_image`, and the registry must be in `region` when given (residency R7)."""
    image = parse_ecr_image(uri)
    if region is not None and image.region != region:
        raise ValueError(
            f"must come from the home region's ECR ({region}), not {image.region} (residency R7)"
        )
    return image


# -- name rules --------------------------------------------------------------------------

#: SageMaker resource names (models, endpoint configs, endpoints, variants, schedules, jobs):
#: `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}` (SageMaker API reference, e.g. CreateEndpoint EndpointName).
SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
SAGEMAKER_NAME_MAX = 63
#: IAM names (users, groups, roles, policies, ...) and path segments: ASCII letters and digits
#: plus `+ = , . @ _ -`; a path begins and ends with `/`; a role name is 1–64 characters, a
#: policy name 128, a path 512 (IAM User Guide, "IAM and AWS STS quotas": IAM name requirements
#: and character limits; CreateRole RoleName/Path).
IAM_NAME_CHARS = "[A-Za-z0-9_+=,.@-]"
IAM_ROLE_NAME_MAX = 64
IAM_POLICY_NAME_MAX = 128
IAM_PATH_MAX = 512
IAM_ROLE_NAME = re.compile(f"^{IAM_NAME_CHARS}{{1,{IAM_ROLE_NAME_MAX}}}$")
#: `arn:<partition>:iam::<account>:role<path><name>` (IAM User Guide, "IAM identifiers": IAM ARNs).
IAM_ROLE_ARN = re.compile(
    rf"^arn:(?P<partition>{PARTITION_PATTERN}):iam::(?P<account>{ACCOUNT_ID_PATTERN}):role"
    rf"(?P<path>/(?:{IAM_NAME_CHARS}+/)*)(?P<name>{IAM_NAME_CHARS}{{1,{IAM_ROLE_NAME_MAX}}})$"
)


@dataclass(frozen=True)
class IamRoleArn:
    """The parts of an IAM role ARN (the format `iam_role_arn` builds)."""

    partition: str
    account: str
    path: str
    name: str


def parse_iam_role_arn(value: str) -> IamRoleArn:
    """Split an IAM role ARN; ValueError (one line) for anything else."""
    match = IAM_ROLE_ARN.match(value or "")
    if not match or len(match["path"]) > IAM_PATH_MAX:
        raise ValueError(
            "must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/[<path>/]<name> "
            f"(name ≤ {IAM_ROLE_NAME_MAX} and path ≤ {IAM_PATH_MAX} of A-Z a-z 0-9 + = , . @ _ -)"
        )
    return IamRoleArn(**match.groupdict())


#: S3 general purpose bucket names: 3–63 lowercase letters, digits, dots and hyphens, starting and
#: ending with a letter or digit (S3 User Guide, "General purpose bucket naming rules").
S3_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
S3_BUCKET_NAME_MAX = 63


def safe_name(*parts: str, max_len: int = SAGEMAKER_NAME_MAX) -> str:
    """Join parts into a SageMaker-valid name (alphanumerics and single hyphens), truncated."""
    raw = "-".join(p for p in parts if p)
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-zA-Z0-9-]", "-", raw)).strip("-")
    return cleaned[:max_len].rstrip("-")


def is_sagemaker_name(name: str | None) -> bool:
    return bool(SAGEMAKER_NAME.match(name or ""))


def is_bucket_name(name: str | None) -> bool:
    """S3 bucket naming rules, including "no adjacent dots" and "not formatted as an IP address"."""
    name = name or ""
    return (
        bool(S3_BUCKET_NAME.match(name))
        and ".." not in name
        and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name)
    )
