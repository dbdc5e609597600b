//go:build !unix

package shield

func fdLimit() int { return 0 }
