//go:build unix

package storetest

import (
	"os/exec"
	"syscall"
)

// runAs makes cmd run as u; only root may do this.
func runAs(cmd *exec.Cmd, u *osUser) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid}}
}
