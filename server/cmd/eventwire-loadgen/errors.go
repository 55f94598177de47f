package main

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// classifyDialErr names the limit behind a failed connect and says whether
// retrying is pointless (fatal): no more file descriptors, ports or memory.
func classifyDialErr(err error) (class string, fatal bool) {
	var se *statusError
	switch {
	case errors.As(err, &se):
		return se.Error(), false
	case errors.Is(err, syscall.EMFILE):
		return "file descriptors: process limit (EMFILE)", true
	case errors.Is(err, syscall.ENFILE):
		return "file descriptors: system limit (ENFILE)", true
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "ephemeral ports exhausted (EADDRNOTAVAIL)", true
	case errors.Is(err, syscall.EADDRINUSE):
		return "source port in use (EADDRINUSE)", false
	case errors.Is(err, syscall.ENOBUFS), errors.Is(err, syscall.ENOMEM):
		return "kernel memory (ENOBUFS/ENOMEM)", true
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (server down or backlog)", false
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset by server", false
	case errors.Is(err, syscall.EAGAIN):
		return "EAGAIN", false
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout (server slow to accept/answer)", false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout (server slow to accept/answer)", false
	}
	return digits.ReplaceAllString(shortErr(err), "N"), false
}
