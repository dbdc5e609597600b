//go:build !linux

package shield

import "net"

// listen listens on addr; only Linux has TCP_DEFER_ACCEPT.
func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
