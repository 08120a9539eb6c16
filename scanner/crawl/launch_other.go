//go:build !linux

package crawl

import "syscall"

// sysProcAttr has no process-group or parent-death options off Linux; stop
// still kills the browser process itself.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(pid int) {}

// killByMarker finds no leftovers where there is no /proc to look in.
func killByMarker(marker string) int { return 0 }
