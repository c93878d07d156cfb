#!/usr/bin/env bash
# A real 3-node Docker Swarm on this machine, for the swarm backend's tests and bench.
#
#   test/swarm/testbed.sh up   DIR          bring the bed up (idempotent: on a live bed, it restarts a
#                                           node whose dockerd died, which rejoins with its swarm state);
#                                           prints KEY=VALUE lines
#   test/swarm/testbed.sh push DIR TAR REF  import a rootfs tar on node 1 as REF and push it
#   test/swarm/testbed.sh down DIR          tear everything down (idempotent); leaves nothing
#
# Layout (everything named from DIR, so two beds on one host never meet):
# - a "switch": a bridge in a netns of its own, so the host's iptables, FORWARD policy and
#   br_netfilter never see node traffic and no host firewall rule is added;
# - nodes n1..n3: a netns each, eth0 on the switch at $NET.11-13/24, NO default route (neither a
#   node nor its containers can reach beyond the bed); each runs its own dockerd + containerd with
#   its own data root, exec root and socket, in its own UTS namespace (distinct node names for
#   placement constraints) and mount namespace (its mounts never appear on the host and go with
#   its processes; a tmpfs over /run/containerd keeps it from adopting a system containerd);
#   dockerd's bridges and iptables chains live in the node's netns, away from the host dockerd's;
# - the host leg: a veth on the host at $NET.1, through which host-mode published ports are reached
#   (at the nodes' addresses);
# - the registry: Debian's docker-registry at 127.0.0.1:$PORT on the host AND at the same address in
#   every node (one process per network namespace, all over one storage directory). So an image has
#   one name everywhere: the host's dockerd pushes to it (127.0.0.0/8 is insecure to dockerd by
#   default: no daemon setting to change) and every node pulls it, as in Docker's own stack tutorial
#   (a registry at 127.0.0.1:5000 on every node, through the routing mesh, which this kernel lacks).
# The subnet is 10.213.X.0/24, X from DIR's hash, skipped forward while it meets a host route; the
# registry's port is 15000 + DIR's hash mod 5000, skipped forward while the host listens on it.
# No IPVS in this kernel: VIP endpoints and the ingress mesh do not work on this bed.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 up|push|down DIR [TAR REF]" >&2; exit 2; }
dir=$(realpath -m "$dir")
NODES=3
tag=$(printf '%s' "$dir" | sha256sum | cut -c1-6)
sw=tscsw-$tag-s                  # the switch's netns
hostleg=tscsw${tag}h             # host end of the host leg (15 chars at most: the kernel's limit)
node_ns() { echo "tscsw-$tag-n$1"; }
sock() { echo "$dir/n$1/docker.sock"; }
d() { local i=$1; shift; docker -H "unix://$(sock "$i")" "$@"; }
alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
ns_exists() { [ -e "/run/netns/$1" ]; }
# The processes of node netns $1: in its netns or in its cgroups.
node_pids() {
  { ns_exists "$1" && ip netns pids "$1" 2>/dev/null
    for c in /sys/fs/cgroup/*/"$1" /sys/fs/cgroup/"$1"; do
      [ -d "$c" ] && find "$c" -name cgroup.procs -exec cat {} + 2>/dev/null
    done; true; } | sort -u | tr '\n' ' '
}

# The subnet: chosen once and kept in DIR, so a re-run and `down` agree with `up`.
pick_subnet() {
  if [ -f "$dir/subnet" ]; then cat "$dir/subnet"; return; fi
  local x=$(( 16#$tag % 200 + 20 )) n
  for _ in $(seq 200); do
    n=10.213.$x
    # Free when no host route other than the default one covers it and no host address is in it.
    if [ -z "$(ip -4 route show match "$n.0/24" | grep -v "^default")$(ip -4 route show root "$n.0/24")" ] && ! ip -4 -o addr | grep -q " $n\."; then
      echo "$n"; return
    fi
    x=$(( (x - 20 + 1) % 200 + 20 ))
  done
  echo "testbed: no free 10.213.X.0/24 subnet on this host" >&2; exit 1
}

# The registry's port: chosen once and kept in DIR, as the subnet.
pick_port() {
  if [ -f "$dir/regport" ]; then cat "$dir/regport"; return; fi
  local p=$(( 16#$tag % 5000 + 15000 ))
  for _ in $(seq 200); do
    [ -z "$(ss -Hltn "sport = :$p")" ] && { echo "$p"; return; }
    p=$(( (p - 15000 + 1) % 5000 + 15000 ))
  done
  echo "testbed: no free port for the registry on 127.0.0.1" >&2; exit 1
}

# A registry process in network namespace $1 (empty: the host's), pid in $2, unless one lives.
start_registry() {
  local netns=$1 pidfile=$2
  { [ -f "$pidfile" ] && alive "$(cat "$pidfile")"; } && return
  if [ -n "$netns" ]; then
    setsid nsenter --net="/run/netns/$netns" docker-registry serve "$dir/registry/config.yml" >"$pidfile.log" 2>&1 </dev/null &
  else
    setsid docker-registry serve "$dir/registry/config.yml" >"$pidfile.log" 2>&1 </dev/null &
  fi
  echo $! > "$pidfile"
}

# Waits until the registry answers in network namespace $1 (empty: the host's).
await_registry() {
  local netns=$1 pidfile=$2 in=()
  [ -n "$netns" ] && in=(nsenter --net="/run/netns/$netns")
  for _ in $(seq 100); do "${in[@]}" curl -sf --noproxy '*' "http://$reg/v2/" >/dev/null && return; sleep 0.1; done
  echo "testbed: the registry ${netns:+in $netns }did not answer:" >&2; cat "$pidfile.log" >&2; exit 1
}

up() {
  mkdir -p "$dir"; chmod 700 "$dir"
  NET=$(pick_subnet); echo "$NET" > "$dir/subnet"
  PORT=$(pick_port); echo "$PORT" > "$dir/regport"
  reg=127.0.0.1:$PORT

  # The switch and the host leg.
  ns_exists "$sw" || ip netns add "$sw"
  ip -n "$sw" link show br0 >/dev/null 2>&1 || ip -n "$sw" link add br0 type bridge
  ip -n "$sw" link set lo up; ip -n "$sw" link set br0 up
  ip link show "$hostleg" >/dev/null 2>&1 || ip link add "$hostleg" type veth peer name host netns "$sw"
  ip -n "$sw" link set host master br0 up
  ip addr replace "$NET.1/24" dev "$hostleg"; ip link set "$hostleg" up

  # The registry's storage and settings, shared by its processes (one secret: an upload begun at
  # one of them could be finished at another).
  if [ ! -f "$dir/registry/config.yml" ]; then
    mkdir -p "$dir/registry/data"
    cat > "$dir/registry/config.yml" <<YML
version: 0.1
log: {level: warn, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $dir/registry/data}, delete: {enabled: true}}
http: {addr: "$reg", secret: "$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"}
YML
  fi
  start_registry "" "$dir/registry.pid"

  # The nodes.
  local i ns nd
  for i in $(seq 1 $NODES); do
    ns=$(node_ns "$i"); nd=$dir/n$i; mkdir -p "$nd"
    ns_exists "$ns" || ip netns add "$ns"
    ip -n "$sw" link show "n$i" >/dev/null 2>&1 || ip -n "$sw" link add "n$i" type veth peer name eth0 netns "$ns"
    ip -n "$sw" link set "n$i" master br0 up
    ip -n "$ns" link set lo up; ip -n "$ns" addr replace "$NET.1$i/24" dev eth0; ip -n "$ns" link set eth0 up
    start_registry "$ns" "$nd/registry.pid"
    d "$i" version >/dev/null 2>&1 && continue
    echo '{}' > "$nd/daemon.json"
    # nsenter --net, not `ip netns exec`: the latter remounts /sys and hides cgroup v1's hierarchies.
    # The address pools are the node's own (its netns): they never meet the host's routes.
    setsid nsenter --net="/run/netns/$ns" unshare --uts --mount --propagation slave sh -c "
      hostname n$i && mount -t tmpfs -o mode=0700 tscsw /run/containerd &&
      exec dockerd --config-file $nd/daemon.json --data-root $nd/data --exec-root $nd/exec \
        --pidfile $nd/dockerd.pid -H unix://$(sock "$i") --cgroup-parent /$ns \
        --bip 172.31.1$i.1/24 --default-address-pool base=172.30.0.0/16,size=24 \
        --insecure-registry $reg --log-level warn" >"$nd/dockerd.log" 2>&1 </dev/null &
  done
  for i in $(seq 1 $NODES); do
    for _ in $(seq 120); do d "$i" version >/dev/null 2>&1 && break; sleep 0.25; done
    d "$i" version >/dev/null 2>&1 || { echo "testbed: node n$i's dockerd did not answer:" >&2; tail -20 "$dir/n$i/dockerd.log" >&2; exit 1; }
  done
  await_registry "" "$dir/registry.pid"
  for i in $(seq 1 $NODES); do await_registry "$(node_ns "$i")" "$dir/n$i/registry.pid"; done

  # The swarm: n1 the manager, n2 and n3 workers.
  if [ "$(d 1 info -f '{{.Swarm.LocalNodeState}}')" != active ]; then
    d 1 swarm init --advertise-addr "$NET.11" --default-addr-pool 10.214.0.0/16 >/dev/null
  fi
  local token; token=$(d 1 swarm join-token -q worker)
  for i in $(seq 2 $NODES); do
    [ "$(d "$i" info -f '{{.Swarm.LocalNodeState}}')" = active ] && continue
    d "$i" swarm join --token "$token" --advertise-addr "$NET.1$i" "$NET.11:2377" >/dev/null
  done
  for _ in $(seq 120); do
    [ "$(d 1 node ls --format '{{.Status}}' | grep -c Ready)" -ge $NODES ] && break; sleep 0.25
  done
  [ "$(d 1 node ls --format '{{.Status}}' | grep -c Ready)" -ge $NODES ] || { echo "testbed: the swarm has not $NODES Ready nodes:" >&2; d 1 node ls >&2; exit 1; }

  echo "TESTBED_DIR=$dir"
  echo "TESTBED_REGISTRY=$reg"
  echo "TESTBED_HOST_ADDR=$NET.1"
  echo "TESTBED_MANAGER=unix://$(sock 1)"
  for i in $(seq 1 $NODES); do echo "TESTBED_NODE_$i=n$i unix://$(sock "$i") $NET.1$i $(node_ns "$i")"; done
}

push() {
  local tar=$1 ref=$2
  d 1 import -c 'CMD ["sh"]' "$tar" "$ref" >/dev/null
  d 1 push -q "$ref" >/dev/null
  d 1 image rm "$ref" >/dev/null   # only the registry keeps it: every node pulls alike
}

down() {
  local i ns nd p
  # No grace: everything of the bed goes. Killed in turn until none is left: each node's dockerd
  # (so it restarts nothing), then what is in its netns (containerd, shims) and in its cgroups
  # (the containers, in netns of their own). Its mounts live in its mount namespace and go with it.
  for i in $(seq 1 $NODES); do
    ns=$(node_ns "$i"); nd=$dir/n$i
    p=$(cat "$nd/dockerd.pid" 2>/dev/null || true)
    alive "$p" && kill -KILL "$p"
    for _ in $(seq 40); do
      local pids; pids=$(node_pids "$ns")
      [ -z "$pids" ] && break
      kill -KILL $pids 2>/dev/null || true; sleep 0.1
    done
    for c in /sys/fs/cgroup/*/"$ns" /sys/fs/cgroup/"$ns"; do
      [ -d "$c" ] && { find "$c" -depth -type d -exec rmdir {} + 2>/dev/null || true; }
    done
    ns_exists "$ns" && ip netns del "$ns"
    # Should any mount of the node have reached the host, it goes too (deepest first).
    awk -v d="$nd/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount -l "$m" || true; done
  done
  if [ -f "$dir/registry.pid" ]; then
    local pid; pid=$(cat "$dir/registry.pid")
    if alive "$pid"; then kill -TERM "$pid"; for _ in $(seq 40); do alive "$pid" || break; sleep 0.1; done; fi
  fi
  ip link show "$hostleg" >/dev/null 2>&1 && ip link del "$hostleg"
  ns_exists "$sw" && ip netns del "$sw"
  rm -rf "$dir"
}

case $cmd in
  up) up ;;
  push) [ $# -eq 4 ] || { echo "usage: $0 push DIR TAR REF" >&2; exit 2; }; push "$3" "$4" ;;
  down) down ;;
  *) echo "usage: $0 up|push|down DIR [TAR REF]" >&2; exit 2 ;;
esac
