// Command chat is the chat application from the Ambiorix documentation (section 15.6.1) built on
// this project: one port serves the page at /, the static files under /static/ and the WebSocket
// on /, exactly as an Ambiorix app does, so the documentation's unchanged page works against it
// (served at /ambiorix) next to a page written with the generated typed client (served at /).
//
// Usage:
//
//	go run ./examples/chat [-addr 127.0.0.1:3000] [-redis redis://127.0.0.1:6379] [-compatible fingerprint,...] [-presence-interval 100ms] [-metrics=true] [-v]
//
// then open the address it prints in two browser tabs (add ?name=ada to a tab's address to be
// listed by name). -redis joins this server to every other one started with the same Redis: run
// it twice with -addr 127.0.0.1:3001 and 127.0.0.1:3002, and tabs on either chat together, the
// count is the cluster's and #random spans both. With -metrics (on by default) the same port
// serves Prometheus metrics at /metrics: messages, bytes and handler latencies by name.
// -compatible lists the fingerprints of earlier schemas whose tabs this server still serves
// (docs/CHANGING-A-SCHEMA.md); tabs of other schemas are asked to reload.
package main

//go:generate go run ../../cmd/ambiorixjs build -tsc ../../ts/node_modules/.bin/tsc -entry web/app.ts -out static/app.js

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ambigen/ambigen/broker/redis"
	"github.com/ambigen/ambigen/runtime"
)

// shutdownGrace bounds how long Ctrl-C waits for connections to close before giving up.
const shutdownGrace = 5 * time.Second

func main() {
	addr := flag.String("addr", "127.0.0.1:3000", "address to listen on (host:port)")
	verbose := flag.Bool("v", false, "log at debug level (every connection and ignored message)")
	presenceEvery := flag.Duration("presence-interval", defaultPresenceInterval, "announce the client count at most this often (0: on every join and leave, as the Ambiorix documentation's chat does)")
	compatible := flag.String("compatible", "", "comma-separated `fingerprints` of earlier schemas whose tabs this server still serves")
	redisURL := flag.String("redis", "", "join the servers that use this Redis (`url` redis://host:port) into one chat")
	withMetrics := flag.Bool("metrics", true, "serve Prometheus metrics at /metrics")
	flag.Parse()
	var fingerprints []string
	for _, fp := range strings.Split(*compatible, ",") {
		if fp = strings.TrimSpace(fp); fp == "" {
			continue
		}
		if !runtime.IsFingerprint(fp) {
			fmt.Fprintf(os.Stderr, "chat: -compatible: %q is not a fingerprint (32 lower-case hex digits, as ambigen breaking prints them)\n", fp)
			os.Exit(2)
		}
		fingerprints = append(fingerprints, fp)
	}

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	cfg := config{presenceEvery: *presenceEvery, compatible: fingerprints, metrics: *withMetrics}
	if *redisURL != "" {
		b, err := redis.New(*redisURL, redis.Options{Channel: "ambigen-chat"})
		if err != nil {
			fmt.Fprintf(os.Stderr, "chat: -redis: %v\n", err)
			os.Exit(1)
		}
		cfg.broker = b
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, *addr, logger, cfg)
	stop()
	// The broker goes after the server, whose goodbye to the other nodes goes through it.
	if b, ok := cfg.broker.(*redis.Broker); ok {
		b.Close()
	}
	if err != nil {
		logger.Error("chat stopped", "err", err)
		os.Exit(1)
	}
}

// run serves the chat on addr until ctx is done, then shuts down cleanly.
func run(ctx context.Context, addr string, logger *slog.Logger, cfg config) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := serve(ln, logger, cfg)
	// The URL goes to stdout on its own line so a person (or a script) can pick it up; logs go to stderr.
	fmt.Printf("chat: open http://%s/ in two browser tabs (the Ambiorix documentation page is at /ambiorix)\n", ln.Addr())
	logger.Info("listening", "addr", ln.Addr().String())

	select {
	case <-ctx.Done():
	case err := <-srv.done:
		return err // the listener failed; nothing left to shut down
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.shutdown(sctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	logger.Info("stopped")
	return nil
}
