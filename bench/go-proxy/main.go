// Knative's data path, for the data-path benchmark: Go's net/http/httputil.ReverseProxy
// with the transport Knative's activator builds (knative.dev/pkg/network
// NewProxyAutoTransport: http.DefaultTransport cloned, keep-alive on, compression off,
// HTTP/2 not attempted, idle connections bounded overall and per host) and a pool of
// copy buffers, as its activator handler sets. Standard library only.
//
// Run by bench/data-path.ts: BENCH_REPLICA=host:port, and the bench sets GOMAXPROCS.
// Prints {"msg":"listening","port":N,"pid":N} and serves until SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// bufferPool hands ReverseProxy 32 KiB copy buffers, as Knative's activator does, rather
// than one allocation per response.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte {
	if v, ok := b.pool.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32*1024)
}

func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }

func main() {
	replica := os.Getenv("BENCH_REPLICA")
	target, err := url.Parse("http://" + replica)
	if replica == "" || err != nil {
		fmt.Fprintln(os.Stderr, "usage: BENCH_REPLICA=host:port go-proxy")
		os.Exit(2)
	}
	// Knative's activator: MaxIdleProxyConns 1000, MaxIdleProxyConnsPerHost 100; above
	// the bench's connection count, so no request waits for or throws away a connection.
	maxIdlePerHost := 100
	if v, err := strconv.Atoi(os.Getenv("BENCH_GO_MAX_IDLE_PER_HOST")); err == nil && v > 0 {
		maxIdlePerHost = v
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DisableKeepAlives = false
	transport.DisableCompression = true
	transport.ForceAttemptHTTP2 = false
	transport.MaxIdleConns = 1000
	transport.MaxIdleConnsPerHost = maxIdlePerHost

	proxy := httputil.NewSingleHostReverseProxy(target)
	base := proxy.Director
	proxy.Director = func(r *http.Request) {
		base(r)
		// The same forwarding headers the activator and nginx set (X-Forwarded-For is
		// ReverseProxy's own); the Host header is the client's.
		r.Header.Set("X-Forwarded-Host", r.Host)
		r.Header.Set("X-Forwarded-Proto", "http")
	}
	proxy.Transport = transport
	proxy.BufferPool = &bufferPool{}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server := &http.Server{Handler: proxy, IdleTimeout: 65 * time.Second, ReadHeaderTimeout: 30 * time.Second}
	line, _ := json.Marshal(map[string]any{"msg": "listening", "port": ln.Addr().(*net.TCPAddr).Port, "pid": os.Getpid()})
	fmt.Println(string(line))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = server.Shutdown(ctx)
	}()
	if err := server.Serve(ln); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
