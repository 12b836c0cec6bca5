#!/usr/bin/env bash
# Our kindnetd: the pod network of a kind cluster built from scripts/kind/node-image, run by kind's
# own CNI manifest (a DaemonSet on the host network with NET_ADMIN and NET_RAW, the node's
# /etc/cni/net.d mounted, HOST_IP and POD_SUBNET in its environment). Every 10 s it
#   - writes this node's CNI configuration: ptp veths with host-local addresses from the node's
#     podCIDR, and portmap (the plugins the node image carries);
#   - routes every other node's podCIDR through that node's InternalIP (nodes share one network);
#   - masquerades traffic from pods to anything outside the pod subnet and the nodes.
# What kind's kindnetd also does and this one does not: NetworkPolicy, IPv6, dual stack, NAT64.
set -euo pipefail

log() { echo "kindnetd: $*" >&2; }

: "${HOST_IP:?HOST_IP, the InternalIP of this node, is not set}"
: "${POD_SUBNET:?POD_SUBNET is not set}"
CNI_CONFIG=/etc/cni/net.d/10-kindnet.conflist
CHAIN=KINDNET-MASQ

# The backend the node uses (its entrypoint chose the one Docker filled): the one with rules.
legacy=$( (iptables-legacy-save 2>/dev/null || true) | grep -c '^-' || true)
nft=$( (iptables-nft-save 2>/dev/null || true) | grep -c '^-' || true)
if [ "$legacy" -gt "$nft" ]; then iptables=iptables-legacy; else iptables=iptables-nft; fi
log "using $iptables"

write_cni_config() {
  local cidr="$1" device mtu config
  device=$(ip -4 route show default | awk '{ print $5; exit }')
  mtu=$(ip -o link show "$device" | sed -nE 's/.* mtu ([0-9]+) .*/\1/p')
  config=$(printf '%s\n' '{' \
    '  "cniVersion": "1.0.0",' \
    '  "name": "kindnet",' \
    '  "plugins": [' \
    '    {' \
    '      "type": "ptp",' \
    '      "ipMasq": false,' \
    "      \"mtu\": ${mtu:-1500}," \
    '      "ipam": {' \
    '        "type": "host-local",' \
    '        "dataDir": "/run/cni-ipam-state",' \
    '        "routes": [{ "dst": "0.0.0.0/0" }],' \
    "        \"ranges\": [[{ \"subnet\": \"$cidr\" }]]" \
    '      }' \
    '    },' \
    '    { "type": "portmap", "capabilities": { "portMappings": true } }' \
    '  ]' \
    '}')
  if [ ! -f "$CNI_CONFIG" ] || [ "$(cat "$CNI_CONFIG")" != "$config" ]; then
    echo "$config" >"$CNI_CONFIG.tmp"
    mv "$CNI_CONFIG.tmp" "$CNI_CONFIG"
    log "wrote $CNI_CONFIG for $cidr"
  fi
}

masquerade() {
  $iptables -t nat -N "$CHAIN" 2>/dev/null || true
  $iptables -t nat -C POSTROUTING -m addrtype ! --dst-type LOCAL -j "$CHAIN" 2>/dev/null ||
    $iptables -t nat -A POSTROUTING -m addrtype ! --dst-type LOCAL -j "$CHAIN"
  local rules="-d $POD_SUBNET -j RETURN"
  local cidr
  for cidr in "$@"; do rules="$rules
-d $cidr -j RETURN"; done
  rules="$rules
-s $POD_SUBNET -j MASQUERADE"
  local current
  current=$($iptables -t nat -S "$CHAIN" | sed -n "s/^-A $CHAIN //p")
  if [ "$current" != "$rules" ]; then
    $iptables -t nat -F "$CHAIN"
    echo "$rules" | while read -r rule; do
      # shellcheck disable=SC2086
      $iptables -t nat -A "$CHAIN" $rule
    done
    log "masquerade: $(echo "$rules" | tr '\n' ';')"
  fi
}

sync_once() {
  local nodes own="" ip cidr node_ips=""
  nodes=$(kubectl get nodes -o jsonpath='{range .items[*]}{.status.addresses[?(@.type=="InternalIP")].address} {.spec.podCIDR}{"\n"}{end}')
  while read -r ip cidr; do
    [ -n "$ip" ] || continue
    node_ips="$node_ips $ip/32"
    if [ "$ip" = "$HOST_IP" ]; then
      own="$cidr"
    elif [ -n "$cidr" ]; then
      ip route replace "$cidr" via "$ip"
    fi
  done <<<"$nodes"
  if [ -z "$own" ]; then
    log "this node ($HOST_IP) has no podCIDR yet"
    return 0
  fi
  write_cni_config "$own"
  # shellcheck disable=SC2086
  masquerade $node_ips
}

trap 'exit 0' TERM INT
while true; do
  sync_once || log "sync failed; retrying"
  sleep 10 &
  wait $! || true
done
