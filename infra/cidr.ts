/** The n-th block four bits longer than the network (a /20 of a /16): subnets on every cloud. */
export function subnetCidr(vpcCidr: string, n: number): string {
  const [address, bits] = vpcCidr.split("/");
  const prefix = Number(bits) + 4;
  const base = address!.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
  const start = base + n * 2 ** (32 - prefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}
