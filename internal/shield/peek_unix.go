//go:build unix

package shield

import (
	"net"
	"syscall"
)

// peek reads what is already waiting on c into buf without blocking and
// returns how many bytes it got (0 if none yet, or on any error; the
// connection's own reads will meet the error again).
func peek(c net.Conn, buf []byte) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	rc.Read(func(fd uintptr) bool {
		// One try: the socket is non-blocking, so EAGAIN means nothing is
		// waiting, and returning true stops RawConn from waiting for more.
		m, err := syscall.Read(int(fd), buf)
		if err == nil && m > 0 {
			n = m
		}
		return true
	})
	return n
}
