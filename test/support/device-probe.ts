/**
 * What a container may do with device nodes, probed from inside it (busybox
 * sh), the same on this host and in the VM suite. Every node is made by the
 * container itself (mknod) or handed in as `devices:`, and none reaches
 * hardware: the mem driver's minors 200-202 do not exist, so an open the
 * device list lets through fails with ENXIO ("No such device or address")
 * while one the list refuses fails with EPERM ("Operation not permitted"),
 * before any driver is asked. b 8:0 is opened for reading, zero bytes.
 */

/** The host-side node to map as `devices: [NODE:/dev/probe:r]` (mknod c 1 201 on the host). */
export const PROBE_DEVICE = { major: 1, minor: 201, inContainer: '/dev/probe' };
/** The rule that lets the container use c 1:202 (and nothing else beyond the defaults). */
export const PROBE_RULE = 'c 1:202 rw';

export const PROBE_SCRIPT = [
  // One line per probe: "NAME open", or "NAME " and the error.
  'say() { echo "$1 $(grep -o "Operation not permitted\\|No such device or address\\|Invalid argument" /tmp/err || echo open)"; }',
  'rd() { dd if="$2" of=/dev/null count=0 2>/tmp/err; say "$1"; }',
  'wr() { (echo x > "$2") 2>/tmp/err; say "$1"; }',
  'mknod /tmp/disk b 8 0 && mknod /tmp/m200 c 1 200 && mknod /tmp/m202 c 1 202 && echo "mknod ok"',
  'rd disk-read /tmp/disk',
  'rd m200-read /tmp/m200',
  'rd m202-read /tmp/m202',
  'wr m202-write /tmp/m202',
  `[ -e ${PROBE_DEVICE.inContainer} ] && { rd probe-read ${PROBE_DEVICE.inContainer}; wr probe-write ${PROBE_DEVICE.inContainer}; }`,
  'wr null-write /dev/null',
  'rd zero-read /dev/zero',
  'true',
].join('\n');

const EPERM = 'Operation not permitted';
const ENXIO = 'No such device or address';

/**
 * The lines a container with PROBE_DEVICE (r) and PROBE_RULE prints under a
 * device list (Docker's defaults plus those two); a privileged container
 * (no list) reaches the mem driver everywhere.
 */
export function expectedProbe(filtered: boolean): string[] {
  return [
    'mknod ok',
    ...(filtered ? [`disk-read ${EPERM}`, `m200-read ${EPERM}`] : [`m200-read ${ENXIO}`]),
    `m202-read ${ENXIO}`,
    `m202-write ${ENXIO}`,
    `probe-read ${ENXIO}`,
    `probe-write ${filtered ? EPERM : ENXIO}`,
    'null-write open',
    'zero-read open',
  ];
}
