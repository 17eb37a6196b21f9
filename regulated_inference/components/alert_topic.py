"""`AlertTopic`: the KMS-encrypted SNS topic every alarm notifies (E6, N11, M1), and an
EventBridge rule that forwards every deployment state change of the stack's endpoints —
rollbacks included — to it. Only this account's CloudWatch alarms and that rule may publish.
"""

import json
from typing import NotRequired, TypedDict

import pulumi
import pulumi_aws as aws

from regulated_inference.lib import aws as aws_facts
from regulated_inference.lib import iam
from regulated_inference.lib import sagemaker as sm
from regulated_inference.lib.aws import AwsContext
from regulated_inference.lib.errors import ComponentArgsError
from regulated_inference.lib.outputs import publish_outputs, type_token

_COMPONENT = "AlertTopic"
_EMAIL = "email"


class AlertTopicArgs(TypedDict):
    """Arguments of `AlertTopic`."""

    kms_key_arn: pulumi.Input[str]
    """CMK the topic encrypts messages with; its key policy must let CloudWatch alarms use it."""
    emails: list[str]
    """E-mail addresses subscribed (each confirms by e-mail). At least one."""
    aws: AwsContext
    """This account and home region: only its CloudWatch alarms (and the deployment-event rule)
    may publish; the endpoints of the event rule are in its region."""
    deployment_event_endpoints: NotRequired[list[str]]
    """Endpoint names whose deployment state changes (rollbacks included) are forwarded."""


#: EventBridge event SageMaker sends for blue/green and rolling deployments, including an
#: automatic rollback ("Events that Amazon SageMaker AI sends to Amazon EventBridge",
#: "SageMaker endpoint deployment state change"; `resources` holds the endpoint ARN).
DEPLOYMENT_EVENT_SOURCE = "aws.sagemaker"
DEPLOYMENT_EVENT_DETAIL_TYPE = "SageMaker Endpoint Deployment State Change"


def deployment_event_pattern(endpoint_arns: list[str]) -> dict:
    """Every deployment state change of these endpoints. Not filtered on the state: a rollback
    must never be missed because a state name changed, and people need the start too."""
    return {
        "source": [DEPLOYMENT_EVENT_SOURCE],
        "detail-type": [DEPLOYMENT_EVENT_DETAIL_TYPE],
        "resources": sorted(endpoint_arns),
    }


def _validate_alert_topic(args: AlertTopicArgs) -> None:
    c = _COMPONENT
    emails = list(args.get("emails") or [])
    if not emails or any("@" not in e for e in emails):
        raise ComponentArgsError(c, "emails", emails, "at least one e-mail address")
    if not args.get("kms_key_arn"):
        raise ComponentArgsError(c, "kms_key_arn", None, "alerts are KMS-encrypted (E6)")
    problem = aws_facts.check_context(args.get("aws"))
    if problem:
        raise ComponentArgsError(c, "aws", args.get("aws"), problem)
    for e in args.get("deployment_event_endpoints") or []:
        if not sm.SAGEMAKER_NAME.match(e or ""):
            raise ComponentArgsError(c, "deployment_event_endpoints", e, "endpoint names")


class AlertTopic(pulumi.ComponentResource):
    """A KMS-encrypted SNS topic that only this account's CloudWatch alarms can publish to."""

    arn: pulumi.Output[str]
    """The topic ARN (alarm action)."""
    deployment_event_rule_arn: pulumi.Output[str] | None
    """ARN of the EventBridge rule forwarding endpoint deployment events (None without endpoints)."""

    def __init__(self, name: str, args: AlertTopicArgs, opts: pulumi.ResourceOptions | None = None):
        _validate_alert_topic(args)
        super().__init__(type_token(_COMPONENT), name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        topic = aws.sns.Topic(
            f"{name}-topic", name=name, kms_master_key_id=args["kms_key_arn"], opts=child
        )
        endpoints = list(args.get("deployment_event_endpoints") or [])
        rule_arn = (
            self._deployment_events(name, args["aws"], endpoints, topic) if endpoints else None
        )
        aws.sns.TopicPolicy(
            f"{name}-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, rule_arn).apply(
                lambda r: alert_topic_policy(args["aws"], r[0], r[1])
            ),
            opts=child,
        )
        for i, email in enumerate(args["emails"]):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}", topic=topic.arn, protocol=_EMAIL, endpoint=email, opts=child
            )
        publish_outputs(self, arn=topic.arn, deployment_event_rule_arn=rule_arn)

    def _deployment_events(
        self, name: str, ctx: AwsContext, endpoints: list[str], topic: aws.sns.Topic
    ) -> pulumi.Output[str]:
        """An EventBridge rule forwarding the endpoints' deployment state changes to the topic."""
        child = pulumi.ResourceOptions(parent=self)
        rule = aws.cloudwatch.EventRule(
            f"{name}-deployments",
            name=f"{name}-deployments"[:64],
            description="SageMaker endpoint deployment state changes (rollbacks included)",
            event_pattern=json.dumps(
                deployment_event_pattern(
                    [aws_facts.sagemaker_endpoint_arn(ctx, e) for e in endpoints]
                )
            ),
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-deployments-to-topic", rule=rule.name, arn=topic.arn, opts=child
        )
        return rule.arn


def alert_topic_policy(ctx: AwsContext, topic_arn: str, rule_arn: str | None) -> str:
    """Who may publish: this account's CloudWatch alarms, the deployment-event rule, over TLS."""

    def publish_from(sid: str, service: str, source: dict[str, dict[str, str]]) -> dict:
        return iam.allow_service(
            sid,
            service,
            "sns:Publish",
            topic_arn,
            {**iam.on_behalf_of(ctx["account_id"]), **source},
        )

    statements = []
    if rule_arn:
        statements.append(
            publish_from(
                "EndpointDeploymentEventsOfThisStack",
                "events.amazonaws.com",
                {"ArnEquals": {"aws:SourceArn": rule_arn}},
            )
        )
    return iam.document(
        [
            *statements,
            publish_from(
                "CloudWatchAlarmsOfThisAccount",
                "cloudwatch.amazonaws.com",
                {"ArnLike": {"aws:SourceArn": aws_facts.cloudwatch_alarm_arn(ctx, "*")}},
            ),
            iam.deny_insecure_transport("sns:Publish", topic_arn),
        ]
    )


__all__ = [
    "AlertTopic",
    "AlertTopicArgs",
    "DEPLOYMENT_EVENT_DETAIL_TYPE",
    "DEPLOYMENT_EVENT_SOURCE",
    "alert_topic_policy",
    "deployment_event_pattern",
]
