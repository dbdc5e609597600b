//go:build !unix

package shield

import "net"

// peek does nothing here; the check falls to the connection's first read.
func peek(net.Conn, []byte) int { return 0 }
