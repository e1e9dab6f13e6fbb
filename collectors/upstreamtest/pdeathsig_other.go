//go:build !linux

package upstreamtest

import "os/exec"

// killWithParent does nothing where the kernel offers no parent-death signal;
// cleanups still kill the server.
func killWithParent(cmd *exec.Cmd) {}
