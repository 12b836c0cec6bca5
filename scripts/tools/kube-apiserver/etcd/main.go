// Command etcd runs a single-member etcd, embedded from go.etcd.io/etcd/server/v3 (the version
// k8s.io/kubernetes requires), for the kube-apiserver of the chart tests. It listens on the
// loopback addresses it is given, prints "ready <client URL>" on stdout once it serves, and stops
// on SIGTERM or SIGINT. Its data is test data: fsync is off.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	dataDir := flag.String("data-dir", "", "folder for etcd's data (required)")
	client := flag.String("listen-client-url", "http://127.0.0.1:2379", "client URL")
	peer := flag.String("listen-peer-url", "http://127.0.0.1:2380", "peer URL (single member)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()
	if *dataDir == "" {
		fail("--data-dir is required")
	}
	clientURL, err := url.Parse(*client)
	if err != nil {
		fail("--listen-client-url: %v", err)
	}
	peerURL, err := url.Parse(*peer)
	if err != nil {
		fail("--listen-peer-url: %v", err)
	}

	cfg := embed.NewConfig()
	cfg.Name = "event-pipeline-test"
	cfg.Dir = *dataDir
	cfg.ListenClientUrls = []url.URL{*clientURL}
	cfg.AdvertiseClientUrls = []url.URL{*clientURL}
	cfg.ListenPeerUrls = []url.URL{*peerURL}
	cfg.AdvertisePeerUrls = []url.URL{*peerURL}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = *logLevel
	cfg.LogOutputs = []string{"stderr"}
	cfg.UnsafeNoFsync = true

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		fail("start: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
		fmt.Printf("ready %s\n", clientURL.String())
	case <-time.After(60 * time.Second):
		e.Close()
		fail("not ready after 60 s")
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-signals:
		e.Close()
	case err := <-e.Err():
		e.Close()
		fail("%v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "etcd: "+format+"\n", args...)
	os.Exit(1)
}
