import { UserError } from '../util/errors.js';

/**
 * Device cgroup rules as Docker takes them (HostConfig.DeviceCgroupRules,
 * Compose's `device_cgroup_rules`) and as cgroup v1's devices.allow reads
 * them: "TYPE MAJOR:MINOR ACCESS". Part of the Engine contract: the planner
 * refuses a malformed one before anything is created, on either backend.
 */

/** One allow rule: `a` is either type; an undefined number is `*`. */
export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major?: number;
  minor?: number;
  /** Some of "rwm". */
  access: string;
}

/** Docker's form of a device cgroup rule (HostConfig.DeviceCgroupRules): "c 1:3 mr", "a *:* rwm". */
const RULE = /^([acb]) ([0-9]+|\*):([0-9]+|\*) ([rwm]{1,3})$/;

/** A rule line, or undefined when it is not one (or names numbers no dev_t holds: 12-bit major, 20-bit minor). */
export function parseDeviceRule(text: string): DeviceRule | undefined {
  const m = RULE.exec(text);
  if (!m) return undefined;
  const num = (s: string) => (s === '*' ? undefined : Number(s));
  const rule = { type: m[1] as DeviceRule['type'], major: num(m[2]!), minor: num(m[3]!), access: m[4]! };
  return (rule.major ?? 0) <= 0xfff && (rule.minor ?? 0) <= 0xfffff ? rule : undefined;
}

export const DEVICE_RULE_FIX = 'write TYPE MAJOR:MINOR ACCESS: a type of a, b or c, numbers or *, access some of r, w and m (e.g. "c 1:3 mr")';

/** A `device_cgroup_rules` entry checked, for the container it is for. */
export function checkDeviceRule(text: string, name: string): DeviceRule {
  const rule = parseDeviceRule(text);
  if (!rule) throw new UserError(`container ${name}: invalid device cgroup rule "${text}"`, 1, DEVICE_RULE_FIX);
  return rule;
}
