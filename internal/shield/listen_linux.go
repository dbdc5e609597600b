//go:build linux

package shield

import (
	"context"
	"net"
	"syscall"
)

// deferAcceptSeconds is how long the kernel keeps a handshaken connection
// that has sent nothing before handing it over anyway: HTTP clients speak
// first, and a connection that stays silent costs us nothing meanwhile.
const deferAcceptSeconds = 5

// listen listens on addr with TCP_DEFER_ACCEPT, so Accept returns a
// connection only once its first bytes have arrived and the check in
// Accept sees the request line without waiting.
func listen(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_DEFER_ACCEPT, deferAcceptSeconds)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}
