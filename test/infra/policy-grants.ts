// IAM policy documents flattened to one "<action> <resource>" line per grant, so that a test
// compares a role's rights action by action with the exact list it should hold.
export interface ParsedStatement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

export function statements(policy: unknown): ParsedStatement[] {
  const parsed = (typeof policy === "string" ? JSON.parse(policy) : policy) as {
    Statement: ParsedStatement[];
  };
  return parsed.Statement;
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/** Every (action, resource) pair the policy allows, sorted; a condition is appended as JSON. */
export function grants(policy: unknown): string[] {
  return statements(policy)
    .flatMap((s) => {
      if (s.Effect !== "Allow") throw new Error(`a ${s.Effect} statement in a role policy`);
      const condition = s.Condition ? ` if ${JSON.stringify(s.Condition)}` : "";
      return list(s.Action).flatMap((a) => list(s.Resource).map((r) => `${a} ${r}${condition}`));
    })
    .sort();
}

/** The Lambda base grants: its log group's streams and Lambda's VPC network interfaces. */
export function lambdaBase(logGroupArn: string): string[] {
  return [
    `logs:CreateLogStream ${logGroupArn}:*`,
    `logs:PutLogEvents ${logGroupArn}:*`,
    "ec2:AssignPrivateIpAddresses *",
    "ec2:CreateNetworkInterface *",
    "ec2:DeleteNetworkInterface *",
    "ec2:DescribeNetworkInterfaces *",
    "ec2:UnassignPrivateIpAddresses *",
  ];
}
