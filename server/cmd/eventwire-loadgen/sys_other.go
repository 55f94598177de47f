//go:build !linux

package main

import (
	"errors"
	"os/exec"
	"syscall"
	"time"
)

var errNotLinux = errors.New("only available on Linux")

func dialControl(network, address string, c syscall.RawConn) error { return nil }

func raiseFileLimit(want uint64) (uint64, error) { return 0, errNotLinux }

func clientCPU() time.Duration { return 0 }

func clientMaxRSS() int64 { return 0 }

func procRSS(pid int) (int64, error) { return 0, errNotLinux }

func procCPU(pid int) (time.Duration, error) { return 0, errNotLinux }

func sysctl(name string) string { return "" }

func loadAvg() string { return "" }

func dieWithParent(cmd *exec.Cmd) {}
