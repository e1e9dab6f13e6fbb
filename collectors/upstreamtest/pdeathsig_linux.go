//go:build linux

package upstreamtest

import (
	"os/exec"
	"syscall"
)

// killWithParent makes the kernel kill the server if the test binary dies
// without running its cleanups (a -timeout panic, a kill -9), so no server
// outlives its test.
func killWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
