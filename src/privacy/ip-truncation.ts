/**
 * Client IP truncation to a network prefix: `203.0.113.195` → `203.0.113.0`
 * (/24), `2001:db8:85a3:8d3:1319:8a2e:370:7348` → `2001:db8:85a3::` (/48).
 * Enough for geography and abuse ranges, not enough to single out a person.
 */
import { isIPv4, isIPv6 } from 'node:net';

function truncateV4(ip: string, prefix: number): string {
  const parts = ip.split('.').map(Number);
  const value =
    ((parts[0] ?? 0) * 2 ** 24 + (parts[1] ?? 0) * 2 ** 16 + (parts[2] ?? 0) * 2 ** 8 + (parts[3] ?? 0)) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const v = (value & mask) >>> 0;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail is converted). */
function v6Groups(ip: string): number[] {
  let text = ip.split('%')[0] as string;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const p = (v4[1] as string).split('.').map(Number);
    text = `${text.slice(0, v4.index)}${(((p[0] ?? 0) << 8) | (p[1] ?? 0)).toString(16)}:${(((p[2] ?? 0) << 8) | (p[3] ?? 0)).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

function formatV6(groups: number[]): string {
  // RFC 5952: compress the longest run (2+) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

function truncateV6(ip: string, prefix: number): string {
  const groups = v6Groups(ip).map((g, i) => {
    const bitsKept = Math.max(0, Math.min(16, prefix - i * 16));
    return bitsKept === 16 ? g : bitsKept === 0 ? 0 : g & ((0xffff << (16 - bitsKept)) & 0xffff);
  });
  return formatV6(groups);
}

/** The address truncated to its prefix, or undefined when `value` is not an IP address. */
export function truncateIp(value: string, ipv4Prefix: number, ipv6Prefix: number): string | undefined {
  if (isIPv4(value)) return truncateV4(value, ipv4Prefix);
  if (isIPv6(value)) return truncateV6(value, ipv6Prefix);
  return undefined;
}
