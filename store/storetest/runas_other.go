//go:build !unix

package storetest

import "os/exec"

// runAs is a no-op where there is no root to drop.
func runAs(cmd *exec.Cmd, u *osUser) {}
