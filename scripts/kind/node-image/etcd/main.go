// Command etcd is etcd's own server command (go.etcd.io/etcd/server/v3/etcdmain, every flag
// kubeadm's static pod passes), built from the server module that k8s.io/kubernetes requires:
// the etcd of the node image's registry.k8s.io/etcd image.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
