#!/bin/sh
# Before the kubelet starts: its cgroup root (/kubelet, kubelet.slice with the systemd driver)
# must exist. The entrypoint makes it on cgroup v1; on cgroup v2 it can only be made once systemd
# has moved every process out of the root cgroup, so here.
set -eu
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  mkdir -p /sys/fs/cgroup/kubelet /sys/fs/cgroup/kubelet.slice
elif [ ! -d /sys/fs/cgroup/systemd/kubelet.slice ]; then
  mkdir -p /sys/fs/cgroup/systemd/kubelet.slice
fi
