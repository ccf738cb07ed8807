import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { subnetCidr } from "../cidr.js";
import type { NetworkConfig } from "../config.js";

export interface AwsNetworkArgs {
  network: NetworkConfig;
  zones: number;
}

/**
 * The region's private network: a VPC with a private and a public subnet in each of `zones`
 * availability zones, a NAT gateway for image pulls, or an existing VPC's private subnets.
 * Redis, Kafka and the tasks live in the private subnets only.
 */
export class AwsNetwork extends pulumi.ComponentResource {
  readonly vpcId: pulumi.Output<string>;
  readonly privateSubnetIds: pulumi.Output<string>[];
  readonly cidr: pulumi.Output<string>;

  constructor(name: string, args: AwsNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("strata:aws:Network", name, {}, opts);
    const parent = { parent: this };
    if (args.network.mode === "existing") {
      this.vpcId = pulumi.output(args.network.networkId);
      this.privateSubnetIds = args.network.subnetIds.map((id) => pulumi.output(id));
      this.cidr = aws.ec2.getVpcOutput({ id: args.network.networkId }, parent).cidrBlock;
      this.registerOutputs({ vpcId: this.vpcId });
      return;
    }
    const cidr = args.network.cidr;
    const vpc = new aws.ec2.Vpc(
      name,
      { cidrBlock: cidr, enableDnsHostnames: true, enableDnsSupport: true, tags: { Name: name } },
      parent,
    );
    const zones = aws.getAvailabilityZonesOutput({ state: "available" }, parent).names;
    const igw = new aws.ec2.InternetGateway(name, { vpcId: vpc.id }, parent);
    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }],
      },
      parent,
    );
    const publicSubnets: aws.ec2.Subnet[] = [];
    this.privateSubnetIds = [];
    for (let i = 0; i < args.zones; i++) {
      const zone = zones.apply((names) => names[i % names.length]!);
      const pub = new aws.ec2.Subnet(
        `${name}-public-${i}`,
        {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: subnetCidr(cidr, 2 * i + 1),
          mapPublicIpOnLaunch: false,
        },
        parent,
      );
      new aws.ec2.RouteTableAssociation(
        `${name}-public-${i}`,
        { subnetId: pub.id, routeTableId: publicRoutes.id },
        parent,
      );
      publicSubnets.push(pub);
      const priv = new aws.ec2.Subnet(
        `${name}-private-${i}`,
        {
          vpcId: vpc.id,
          availabilityZone: zone,
          cidrBlock: subnetCidr(cidr, 2 * i),
        },
        parent,
      );
      this.privateSubnetIds.push(priv.id);
    }
    // One NAT gateway: outbound only (image pulls, AWS APIs); nothing enters through it.
    const eip = new aws.ec2.Eip(`${name}-nat`, { domain: "vpc" }, parent);
    const nat = new aws.ec2.NatGateway(
      `${name}-nat`,
      { allocationId: eip.id, subnetId: publicSubnets[0]!.id },
      parent,
    );
    const privateRoutes = new aws.ec2.RouteTable(
      `${name}-private`,
      {
        vpcId: vpc.id,
        routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }],
      },
      parent,
    );
    this.privateSubnetIds.forEach(
      (subnetId, i) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-private-${i}`,
          { subnetId, routeTableId: privateRoutes.id },
          parent,
        ),
    );
    this.vpcId = vpc.id;
    this.cidr = vpc.cidrBlock;
    this.registerOutputs({ vpcId: this.vpcId });
  }
}
