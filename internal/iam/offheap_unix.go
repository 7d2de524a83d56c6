//go:build unix

package iam

import (
	"syscall"
	"unsafe"
)

// allocOffHeap returns n zeroed values of T in anonymous memory mapped
// outside the Go heap, with the function that unmaps it. T must hold no
// pointers: the collector neither scans nor counts this memory, so a large,
// long-lived index adds nothing to the heap the collector paces itself by
// (with GOGC=100 a 100 MB index in the heap would let the heap grow by
// another 100 MB before a collection). The same technique as fastcache's.
func allocOffHeap[T any](n int) ([]T, func()) {
	var zero T
	size := n * int(unsafe.Sizeof(zero))
	if size == 0 {
		return nil, func() {}
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]T, n), func() {} // no mapping: the heap will do
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n), func() { _ = syscall.Munmap(b) }
}
