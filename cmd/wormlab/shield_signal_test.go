package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestShieldSecondSignal runs `wormlab shield` as a child with a request
// stuck in the upstream and a one-minute grace period: the first SIGTERM
// starts the graceful shutdown, which would wait out the minute; a second
// one must end the process at once, with status 143 and a line saying so.
func TestShieldSecondSignal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	entered, release := make(chan struct{}, 1), make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	defer up.Close()
	defer close(release) // before up.Close, which waits for the handler
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd, stderr := startWormlab(t, t.TempDir(), nil, "shield", "--listen", addr, "--upstream", up.URL, "--grace", "1m", "--quiet")
	kill := time.AfterFunc(30*time.Second, func() { cmd.Process.Kill() }) // far under the minute of grace
	defer kill.Stop()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("shield exited before listening: %v (stderr %q)", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	go http.Get("http://" + addr + "/stuck")
	<-entered
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		t.Fatalf("shield exited (%v) on the first signal with a request in flight and a minute of grace", err)
	case <-time.After(200 * time.Millisecond):
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = <-exited
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 143 {
		t.Errorf("shield ended with %v, want exit status 143 (killed after 30 s means the second signal was ignored)", err)
	}
	if !strings.Contains(stderr.String(), "second SIGTERM") {
		t.Errorf("stderr %q does not say why it stopped", stderr.String())
	}
}
