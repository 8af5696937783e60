#!/usr/bin/env bash
# A parent interface for a macvlan network on a single host, so macvlan can
# be tried without touching a real NIC. Needs root (CAP_NET_ADMIN).
#
#   sudo docker/macvlan-parent.sh up   [NAME]   # create NAME and bring it up
#   sudo docker/macvlan-parent.sh down [NAME]   # delete it again
#
# NAME defaults to $P2P_MACVLAN_PARENT, else p2pdummy0. The interface is a
# `dummy` (a NIC with no wire); kernels built without the dummy driver
# ("Error: Unknown device type") get a veth pair NAME <-> NAMEp instead,
# which serves just as well: macvlan children in bridge mode talk to each
# other inside the kernel, whatever the parent is.
set -euo pipefail

action="${1:-}"
name="${2:-${P2P_MACVLAN_PARENT:-p2pdummy0}}"

case "$action" in
up)
    if ip link show "$name" >/dev/null 2>&1; then
        echo "$name already exists"
    elif ip link add "$name" type dummy 2>/dev/null; then
        echo "created dummy interface $name"
    else
        ip link add "$name" type veth peer name "${name}p"
        ip link set "${name}p" up
        echo "no dummy driver in this kernel: created veth pair $name <-> ${name}p"
    fi
    ip link set "$name" up
    ip -br link show "$name"
    ;;
down)
    # Deleting one end of a veth pair deletes both.
    if ip link show "$name" >/dev/null 2>&1; then
        ip link del "$name"
        echo "deleted $name"
    else
        echo "$name does not exist"
    fi
    ;;
*)
    echo "usage: $0 up|down [INTERFACE]" >&2
    exit 2
    ;;
esac
