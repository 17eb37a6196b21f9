// The regulated-inference components from TypeScript, through the generated SDK
// (`pulumi package add ../../provider`). Classes are the schema's resources, argument names its
// camelCase inputProperties (tests/provider/schema.golden.json; checked by
// tests/examples/test_examples.py). Where a component deploys (`aws`: partition, region, account) is a plain input: resolve it first.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as regulatedInference from "@pulumi/regulated-inference";

const config = new pulumi.Config();
const stack = pulumi.getStack();

async function main() {
    const region = (await aws.getRegion()).region;
    const accountId = (await aws.getCallerIdentity()).accountId;
    const partition = (await aws.getPartition()).partition;
    const where = { partition: partition, region: region, accountId: accountId };
    const logGroupPrefix = `/team-inference/${stack}/`;

    const keys = new regulatedInference.EncryptionKeys("keys", {
        aws: where,
        logGroupPrefix: logGroupPrefix,
        trailName: `team-inference-${stack}-audit`,
        deletionWindowDays: 30,
    });

    const network = new regulatedInference.IsolatedNetwork("network", {
        cidr: "10.80.0.0/20",
        subnetCidrs: ["10.80.0.0/24", "10.80.1.0/24"],
        availabilityZones: [`${region}a`, `${region}b`],
        aws: where,
        logsKmsKeyArn: keys.logsKeyArn,
        logGroupName: `${logGroupPrefix}vpc-flow-logs`,
        logRetentionDays: 365,
    });

    const alerts = new regulatedInference.AlertTopic("alerts", {
        aws: where,
        kmsKeyArn: keys.logsKeyArn,
        emails: [config.require("alertEmail")],
    });

    return {
        vpcId: network.vpcId,
        privateSubnetIds: network.privateSubnetIds,
        dataKeyArn: keys.dataKeyArn,
        alertTopicArn: alerts.arn,
    };
}

export = main();
