//go:build !unix

package iam

// allocOffHeap allocates in the Go heap where anonymous mappings are not
// available.
func allocOffHeap[T any](n int) ([]T, func()) { return make([]T, n), func() {} }
