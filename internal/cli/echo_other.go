//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package cli

import "os"

// withoutEcho cannot turn the echo off here; the prompt says so.
func withoutEcho(_ *os.File, read func() (string, error)) (string, error) { return read() }

// isTerminal says whether f is a character device, the portable check.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok || file == nil {
		return false
	}
	fi, err := file.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
