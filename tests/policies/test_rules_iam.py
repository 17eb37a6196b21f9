"""IAM rules (I1-I8) and the policy-document parser."""

from __future__ import annotations

import json

import pytest

from policies.rules import iam
from policies.rules.base import UNKNOWN, res
from policies.rules.iam_documents import DocumentError, action_matches, grants_any, statements

from .conftest import stack_violations, unknowns, violations

RP = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"
BUCKET_ARN = "arn:aws:s3:::models/*"


def doc(*sts, as_string=True):
    d = {"Version": "2012-10-17", "Statement": list(sts) if len(sts) != 1 else sts[0]}
    return json.dumps(d) if as_string else d


def allow(action, resource=BUCKET_ARN, sid="S", **extra):
    return {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource, **extra}


class TestParser:
    def test_string_single_statement(self):
        (st,) = statements(doc(allow("s3:GetObject")))
        assert (st.effect, st.actions, st.resources) == ("Allow", ["s3:GetObject"], [BUCKET_ARN])

    def test_object_list_statements(self):
        sts = statements(
            doc(allow("s3:GetObject"), allow(["s3:PutObject"], sid="T"), as_string=False)
        )
        assert [s.sid for s in sts] == ["S", "T"]

    def test_not_action_not_resource(self):
        (st,) = statements(doc({"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:x"}))
        assert (st.actions, st.not_actions, st.resources, st.not_resources) == (
            None,
            ["iam:*"],
            None,
            ["arn:x"],
        )

    def test_unknown_document(self):
        assert statements(UNKNOWN) is UNKNOWN

    def test_invalid_json(self):
        with pytest.raises(DocumentError):
            statements("{not json")

    def test_wildcard_matching(self):
        assert action_matches("iam:Put*", "iam:PutRolePolicy")
        assert action_matches("S3:getobject", "s3:GetObject")
        assert not action_matches("s3:Get*", "s3:PutObject")

    def test_not_action_grants_everything_else(self):
        (st,) = statements(doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}))
        assert grants_any(st, ("iam:PassRole", "s3:GetObject")) == ["iam:PassRole"]


class TestAdminStar:
    def test_compliant(self):
        assert violations(iam.no_admin_star, RP, {"policy": doc(allow("s3:GetObject"))}) == []

    def test_star_star(self):
        assert violations(iam.no_admin_star, RP, {"policy": doc(allow("*", "*"))}) == [
            'policy statement S: allows Action "*" on Resource "*"'
        ]

    def test_not_action(self):
        st = {"Sid": "N", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}
        assert violations(iam.no_admin_star, "aws:iam/policy:Policy", {"policy": doc(st)}) == [
            "policy statement N: Allow with NotAction grants every other action"
        ]

    def test_role_inline_policy(self):
        props = {
            "assumeRolePolicy": "{}",
            "inlinePolicies": [{"name": "x", "policy": doc(allow("*:*", "*"))}],
        }
        assert violations(iam.no_admin_star, ROLE, props) == [
            'inlinePolicies[0] x statement S: allows Action "*" on Resource "*"'
        ]

    def test_deny_is_ignored(self):
        st = {"Effect": "Deny", "Action": "*", "Resource": "*"}
        assert violations(iam.no_admin_star, RP, {"policy": doc(st)}) == []

    def test_missing_policy(self):
        assert violations(iam.no_admin_star, RP, {}) == []

    def test_unknown_document_cannot_verify(self):
        assert unknowns(iam.no_admin_star, RP, {"policy": UNKNOWN}) == [
            "cannot verify until apply: policy is unknown during preview (policy document)"
        ]

    def test_unknown_resource_cannot_verify(self):
        assert unknowns(
            iam.no_admin_star, RP, {"policy": doc(allow("*", UNKNOWN), as_string=False)}
        ) == ["cannot verify until apply: policy statement S Resource is unknown during preview"]


class TestWildcards:
    def test_compliant(self):
        assert (
            violations(
                iam.no_wildcards, RP, {"policy": doc(allow(["s3:GetObject", "s3:PutObject"]))}
            )
            == []
        )

    def test_star_resource_for_documented_action(self):
        assert (
            violations(
                iam.no_wildcards, RP, {"policy": doc(allow("ecr:GetAuthorizationToken", "*"))}
            )
            == []
        )

    def test_wildcard_action(self):
        assert violations(
            iam.no_wildcards, RP, {"policy": doc(allow(["sagemaker:*", "s3:Get*"]))}
        ) == ["policy statement S: wildcard action(s) s3:Get*, sagemaker:*"]

    def test_star_resource(self):
        assert violations(iam.no_wildcards, RP, {"policy": doc(allow("s3:GetObject", "*"))}) == [
            'policy statement S: Resource "*" for s3:GetObject'
        ]

    def test_not_resource(self):
        st = {"Sid": "S", "Effect": "Allow", "Action": "s3:GetObject", "NotResource": BUCKET_ARN}
        assert violations(iam.no_wildcards, RP, {"policy": doc(st)}) == [
            "policy statement S: NotResource is an implicit wildcard"
        ]

    def test_config_extends_list(self):
        cfg = {"starResourceActions": ["s3:ListAllMyBuckets"]}
        assert (
            violations(
                iam.no_wildcards, RP, {"policy": doc(allow("s3:ListAllMyBuckets", "*"))}, cfg
            )
            == []
        )


class TestEscalation:
    def test_compliant_pass_role_on_exact_arn(self):
        p = doc(allow("iam:PassRole", "arn:aws:iam::111122223333:role/sm-exec"))
        assert violations(iam.no_privilege_escalation, RP, {"policy": p}) == []

    def test_put_role_policy(self):
        assert violations(
            iam.no_privilege_escalation, RP, {"policy": doc(allow("iam:PutRolePolicy"))}
        ) == ["policy statement S: grants iam:PutRolePolicy"]

    def test_pass_role_on_star(self):
        assert violations(
            iam.no_privilege_escalation, RP, {"policy": doc(allow("iam:PassRole", "*"))}
        ) == ['policy statement S: grants iam:PassRole on Resource "*"']

    def test_wildcard_expands(self):
        got = violations(iam.no_privilege_escalation, RP, {"policy": doc(allow("iam:Create*"))})
        assert got == [
            "policy statement S: grants iam:CreateAccessKey, iam:CreateLoginProfile, "
            "iam:CreatePolicyVersion"
        ]


class TestManagedPolicies:
    ATT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"

    def test_customer_managed(self):
        props = {"role": "r", "policyArn": "arn:aws:iam::111122223333:policy/sm-read"}
        assert violations(iam.no_broad_managed_policies, self.ATT, props) == []

    @pytest.mark.parametrize(
        "name", ["AdministratorAccess", "IAMFullAccess", "AmazonSageMakerFullAccess"]
    )
    def test_attachment(self, name):
        props = {"role": "r", "policyArn": f"arn:aws:iam::aws:policy/{name}"}
        assert violations(iam.no_broad_managed_policies, self.ATT, props) == [
            f"policyArn: attaches AWS-managed {name}"
        ]

    def test_role_managed_policy_arns(self):
        props = {"managedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]}
        assert violations(iam.no_broad_managed_policies, ROLE, props) == [
            "managedPolicyArns: attaches AWS-managed AdministratorAccess"
        ]

    def test_missing(self):
        assert violations(iam.no_broad_managed_policies, ROLE, {}) == []


class TestTrust:
    def _trust(self, principal, condition=None):
        st = {"Sid": "T", "Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
        if condition:
            st["Condition"] = condition
        return {"assumeRolePolicy": doc(st)}

    SRC = {"StringEquals": {"aws:SourceAccount": "111122223333"}}

    def test_compliant(self):
        assert (
            violations(
                iam.trust_policy_scoped,
                ROLE,
                self._trust({"Service": "sagemaker.amazonaws.com"}, self.SRC),
            )
            == []
        )

    def test_no_source_condition(self):
        assert violations(
            iam.trust_policy_scoped, ROLE, self._trust({"Service": "sagemaker.amazonaws.com"})
        ) == ["statement T: service trust without aws:SourceAccount/aws:SourceArn condition"]

    def test_documented_exception(self):
        cfg = {"servicesWithoutSourceConditions": ["ec2.amazonaws.com"]}
        assert (
            violations(
                iam.trust_policy_scoped, ROLE, self._trust({"Service": "ec2.amazonaws.com"}), cfg
            )
            == []
        )

    def test_two_services(self):
        p = self._trust({"Service": ["sagemaker.amazonaws.com", "lambda.amazonaws.com"]}, self.SRC)
        assert violations(iam.trust_policy_scoped, ROLE, p) == [
            "statement T: trusts 2 services (sagemaker.amazonaws.com, lambda.amazonaws.com); use one"
        ]

    def test_star(self):
        assert violations(iam.trust_policy_scoped, ROLE, self._trust("*")) == [
            'statement T: trusts Principal "*"'
        ]

    def test_account(self):
        p = self._trust({"AWS": "arn:aws:iam::444455556666:root"}, self.SRC)
        assert violations(iam.trust_policy_scoped, ROLE, p) == [
            "statement T: trusts AWS principal(s) arn:aws:iam::444455556666:root"
        ]

    def test_irsa_needs_sub(self):
        fed = {
            "Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.eks.eu-west-2.amazonaws.com/id/X"
        }
        ok = {
            "StringEquals": {
                "oidc.eks.eu-west-2.amazonaws.com/id/X:sub": "system:serviceaccount:ns:sa"
            }
        }
        assert violations(iam.trust_policy_scoped, ROLE, self._trust(fed, ok)) == []
        assert violations(iam.trust_policy_scoped, ROLE, self._trust(fed)) == [
            "statement T: federated trust without a `:sub` condition"
        ]

    def test_missing(self):
        assert violations(iam.trust_policy_scoped, ROLE, {}) == ["assumeRolePolicy is missing"]


class TestKmsDecrypt:
    def test_exact_key(self):
        p = doc(allow("kms:Decrypt", "arn:aws:kms:eu-west-2:111122223333:key/abc"))
        assert violations(iam.no_kms_decrypt_on_all_keys, RP, {"policy": p}) == []

    def test_decrypt_on_star(self):
        assert violations(
            iam.no_kms_decrypt_on_all_keys, RP, {"policy": doc(allow("kms:Decrypt", "*"))}
        ) == ["policy statement S: grants kms:Decrypt on every key"]

    def test_kms_star_on_star(self):
        assert violations(
            iam.no_kms_decrypt_on_all_keys, RP, {"policy": doc(allow("kms:*", "*"))}
        ) == [
            "policy statement S: grants kms:Decrypt, kms:ReEncryptFrom, kms:CreateGrant on every key"
        ]


class TestOneRolePerWorkload:
    def _model(self, name, role):
        return res("aws:sagemaker/model:Model", {"executionRoleArn": role}, name)

    def test_distinct_roles(self):
        stack = [self._model("a", "arn:role/a"), self._model("b", "arn:role/b")]
        assert stack_violations(iam.one_role_per_workload, stack) == []

    def test_shared_role(self):
        stack = [self._model("a", "arn:role/x"), self._model("b", "arn:role/x")]
        assert stack_violations(iam.one_role_per_workload, stack) == [
            ("a", "role arn:role/x is shared by 2 workloads (a, b)"),
            ("b", "role arn:role/x is shared by 2 workloads (a, b)"),
        ]

    def test_irsa_service_accounts(self):
        sa = {"metadata": {"annotations": {"eks.amazonaws.com/role-arn": "arn:role/x"}}}
        stack = [self._model("a", "arn:role/x"), res("kubernetes:core/v1:ServiceAccount", sa, "sa")]
        assert [n for n, _ in stack_violations(iam.one_role_per_workload, stack)] == ["a", "sa"]


class TestResourcePolicyNotPublic:
    BP = "aws:s3/bucketPolicy:BucketPolicy"

    def test_conditioned_star(self):
        st = {
            "Sid": "S",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": BUCKET_ARN,
            "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}},
        }
        assert (
            violations(iam.resource_policy_not_public, self.BP, {"bucket": "b", "policy": doc(st)})
            == []
        )

    def test_public(self):
        st = {
            "Sid": "S",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "s3:GetObject",
            "Resource": BUCKET_ARN,
        }
        assert violations(
            iam.resource_policy_not_public, self.BP, {"bucket": "b", "policy": doc(st)}
        ) == ['policy statement S: allows Principal "*" without a condition']

    def test_deny_star_is_fine(self):
        st = {
            "Sid": "TLS",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": BUCKET_ARN,
        }
        assert (
            violations(iam.resource_policy_not_public, self.BP, {"bucket": "b", "policy": doc(st)})
            == []
        )

    def test_missing_policy(self):
        assert violations(iam.resource_policy_not_public, "aws:sns/topic:Topic", {}) == []
