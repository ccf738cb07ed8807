import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config.js";
import { offlineNamespace, WAREHOUSE_PREFIX } from "../offline/names.js";

/**
 * The region's offline warehouse: an S3 bucket (SSE, every public access blocked, owner-only
 * objects, TLS-only access, versioned so that a mistaken delete can be undone, old versions and
 * abandoned uploads expired) and the Glue database that is the project's Iceberg namespace.
 */
export class AwsOfflineStore extends pulumi.ComponentResource {
  readonly bucketArn: pulumi.Output<string>;
  /** The bucket's name; the CDC plugin zip is uploaded under `plugins/` beside the warehouse. */
  readonly bucketName: pulumi.Output<string>;
  readonly databaseArn: pulumi.Output<string>;
  readonly databaseName: pulumi.Output<string>;
  /** `s3://<bucket>/warehouse`: Iceberg's warehouse location. */
  readonly warehouse: pulumi.Output<string>;

  constructor(name: string, config: StackConfig, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:OfflineStore", name, {}, opts);
    const parent = { parent: this };
    const bucket = new aws.s3.Bucket(`${name}-warehouse`, { forceDestroy: false }, parent);
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-warehouse`,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" },
            bucketKeyEnabled: true,
          },
        ],
      },
      parent,
    );
    new aws.s3.BucketPublicAccessBlock(
      `${name}-warehouse`,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      parent,
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-warehouse`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(
      `${name}-warehouse`,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      parent,
    );
    // Iceberg deletes the files of expired snapshots itself; a deleted file's old version is
    // kept a week (to undo a mistake), then goes. Uploads a crashed writer left go after a day.
    new aws.s3.BucketLifecycleConfiguration(
      `${name}-warehouse`,
      {
        bucket: bucket.id,
        rules: [
          {
            id: "expire-noncurrent",
            status: "Enabled",
            filter: { prefix: `${WAREHOUSE_PREFIX}/` },
            noncurrentVersionExpiration: { noncurrentDays: 7 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      `${name}-warehouse`,
      {
        bucket: bucket.id,
        policy: bucket.arn.apply((arn) =>
          JSON.stringify({
            Version: "2012-10-17",
            Statement: [
              {
                Sid: "TlsOnly",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [arn, `${arn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
              },
            ],
          }),
        ),
      },
      parent,
    );
    const database = new aws.glue.CatalogDatabase(
      `${name}-catalog`,
      {
        name: offlineNamespace(config.project),
        description: `Strata offline store of project ${config.project} (Iceberg tables)`,
        locationUri: pulumi.interpolate`s3://${bucket.bucket}/${WAREHOUSE_PREFIX}`,
      },
      parent,
    );
    this.bucketArn = bucket.arn;
    this.bucketName = bucket.bucket;
    this.databaseArn = database.arn;
    this.databaseName = database.name;
    this.warehouse = pulumi.interpolate`s3://${bucket.bucket}/${WAREHOUSE_PREFIX}`;
    this.registerOutputs({ warehouse: this.warehouse });
  }
}
