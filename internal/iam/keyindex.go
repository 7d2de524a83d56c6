package iam

import (
	"encoding/binary"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"

	"github.com/google/uuid"
)

// keyIndex holds what a token exchange needs to know about each of up to
// millions of API keys, found by the SHA-256 of the key's value or by the
// key's id, in 80–100 bytes per key (SPEC §12: 1M keys within 300 MB).
//
// Its records and both hash tables hold no pointers and live outside the Go
// heap (allocOffHeap), so the garbage collector neither scans nor counts
// them; release returns their memory. The tables are open-addressing arrays of
// record numbers probed linearly, kept at most three-quarters full; owners
// are interned, and ids of the form "ApiKey-<uuid>" (every id Gatehouse
// makes) are kept as their 16 bytes. It is not safe for concurrent use.
type keyIndex struct {
	chunks   [][]keyRec // record i is chunks[i/recChunk][i%recChunk]; record 0 is unused: 0 marks an empty slot
	nrecs    uint32     // records made so far
	free     []uint32   // numbers of unused records
	byDigest []uint32   // slots by digest; len is a power of two
	byID     []uint32   // slots by id; same len
	n        int
	seed     maphash.Seed
	rawIDs   []string // ids of another form, numbered by their records
	rawFree  []uint32
	owners   []string // interned iam_ids
	ownerOf  map[string]uint32
	mem      *offHeapMem // releases the off-heap memory of chunks and tables
}

// offHeapMem is the off-heap memory of one keyIndex. A keyIndex that is
// dropped without release (its Service is no longer used) has it released
// by a cleanup once the index is unreachable: nothing points into that
// memory from the heap then, as every value the index gives out is a copy.
type offHeapMem struct {
	chunks []func()
	tables func()
}

func (m *offHeapMem) free() {
	for _, f := range m.chunks {
		f()
	}
	if m.tables != nil {
		m.tables()
	}
	m.chunks, m.tables = nil, nil
}

// keyRec is one key. It holds no pointers.
type keyRec struct {
	digest  [32]byte
	id      [16]byte // the uuid of "ApiKey-<uuid>"; with recRawID, id[:4] numbers rawIDs
	expires int64    // Unix nanoseconds; 0: never
	owner   uint32   // index in owners
	cap     Role
	flags   uint8
}

const (
	recUsed = 1 << iota
	recDisabled
	recRawID // the id is not "ApiKey-<uuid>"; it is in rawIDs
)

const keyIDPrefix = "ApiKey-"

// recChunk records are allocated at a time (4 MiB), so that a growing index
// never copies its records and leaves the old copies for the collector.
const recChunk = 1 << 16

// rec is record i.
func (x *keyIndex) rec(i uint32) *keyRec { return &x.chunks[i/recChunk][i%recChunk] }

func newKeyIndex() *keyIndex {
	x := &keyIndex{nrecs: 1, seed: maphash.MakeSeed(), ownerOf: map[string]uint32{}, mem: &offHeapMem{}}
	runtime.AddCleanup(x, (*offHeapMem).free, x.mem)
	return x
}

func (x *keyIndex) len() int { return x.n }

// digestHash places a digest. Digests are SHA-256 outputs, uniform already;
// the seed keeps the placement unknown to whoever chose the key.
func (x *keyIndex) digestHash(d *[32]byte) uint64 {
	return maphash.Bytes(x.seed, d[:8])
}

// idHash places an id; an "ApiKey-<uuid>" by its 16 bytes, as recIDHash
// places its record.
func (x *keyIndex) idHash(id string) uint64 {
	if u, ok := parseKeyID(id); ok {
		return maphash.Bytes(x.seed, u[:])
	}
	return maphash.String(x.seed, id)
}

func (x *keyIndex) recIDHash(r *keyRec) uint64 {
	if r.flags&recRawID != 0 {
		return maphash.String(x.seed, x.rawIDs[binary.LittleEndian.Uint32(r.id[:4])])
	}
	return maphash.Bytes(x.seed, r.id[:])
}

// lookup returns the number of the record with digest d.
func (x *keyIndex) lookup(d *[32]byte) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	mask := uint64(len(x.byDigest) - 1)
	for p := x.digestHash(d) & mask; ; p = (p + 1) & mask {
		i := x.byDigest[p]
		if i == 0 {
			return 0, false
		}
		if x.rec(i).digest == *d {
			return i, true
		}
	}
}

// lookupID returns the number of the record of the key with this id.
func (x *keyIndex) lookupID(id string) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	u, isUUID := parseKeyID(id)
	mask := uint64(len(x.byID) - 1)
	for p := x.idHash(id) & mask; ; p = (p + 1) & mask {
		i := x.byID[p]
		if i == 0 {
			return 0, false
		}
		r := x.rec(i)
		if raw := r.flags&recRawID != 0; raw != isUUID && (isUUID && r.id == u || raw && x.id(r) == id) {
			return i, true
		}
	}
}

// id is a record's key id.
func (x *keyIndex) id(r *keyRec) string {
	if r.flags&recRawID != 0 {
		return x.rawIDs[binary.LittleEndian.Uint32(r.id[:4])]
	}
	return keyIDPrefix + uuid.UUID(r.id).String()
}

// state rebuilds the keyState of record i.
func (x *keyIndex) state(i uint32) *keyState {
	r := x.rec(i)
	k := &keyState{ID: x.id(r), IAMID: x.owners[r.owner], Disabled: r.flags&recDisabled != 0, Cap: r.cap}
	if r.expires != 0 {
		k.ExpiresAt = time.Unix(0, r.expires).UTC()
	}
	return k
}

// release returns the index's off-heap memory; x must not be used after.
func (x *keyIndex) release() {
	x.mem.free()
	*x = keyIndex{mem: &offHeapMem{}}
}

// put stores k under digest d, replacing any record with the same digest or
// the same id.
func (x *keyIndex) put(d [32]byte, k *keyState) {
	if i, ok := x.lookupID(k.ID); ok {
		x.drop(i)
	}
	if i, ok := x.lookup(&d); ok {
		x.drop(i)
	}
	if (x.n+1)*4 > len(x.byDigest)*3 {
		x.grow()
	}
	r := keyRec{digest: d, cap: k.Cap, flags: recUsed}
	if k.Disabled {
		r.flags |= recDisabled
	}
	if !k.ExpiresAt.IsZero() {
		r.expires = k.ExpiresAt.UnixNano()
	}
	o, ok := x.ownerOf[k.IAMID]
	if !ok {
		o = uint32(len(x.owners))
		x.owners = append(x.owners, k.IAMID)
		x.ownerOf[k.IAMID] = o
	}
	r.owner = o
	if u, ok := parseKeyID(k.ID); ok {
		r.id = u
	} else {
		var j uint32
		if n := len(x.rawFree); n > 0 {
			j, x.rawFree = x.rawFree[n-1], x.rawFree[:n-1]
			x.rawIDs[j] = k.ID
		} else {
			j = uint32(len(x.rawIDs))
			x.rawIDs = append(x.rawIDs, k.ID)
		}
		binary.LittleEndian.PutUint32(r.id[:4], j)
		r.flags |= recRawID
	}
	var i uint32
	if n := len(x.free); n > 0 {
		i, x.free = x.free[n-1], x.free[:n-1]
	} else {
		i = x.nrecs
		x.nrecs++
		if int(i/recChunk) == len(x.chunks) {
			c, release := allocOffHeap[keyRec](recChunk)
			x.chunks = append(x.chunks, c)
			x.mem.chunks = append(x.mem.chunks, release)
		}
	}
	*x.rec(i) = r
	x.place(i)
	x.n++
}

// place puts record i into both tables, which have room.
func (x *keyIndex) place(i uint32) {
	r := x.rec(i)
	mask := uint64(len(x.byDigest) - 1)
	p := x.digestHash(&r.digest) & mask
	for x.byDigest[p] != 0 {
		p = (p + 1) & mask
	}
	x.byDigest[p] = i
	p = x.recIDHash(r) & mask
	for x.byID[p] != 0 {
		p = (p + 1) & mask
	}
	x.byID[p] = i
}

// grow doubles both tables (16 slots at first) and places every record again.
func (x *keyIndex) grow() { x.resize(max(16, 2*len(x.byDigest))) }

// reserve sizes both tables for n keys at once, when they are smaller.
func (x *keyIndex) reserve(n int) {
	size := 16
	for size*3 < n*4 {
		size *= 2
	}
	if size > len(x.byDigest) {
		x.resize(size)
	}
}

// resize makes both tables n slots long and places every record again.
func (x *keyIndex) resize(n int) {
	if x.mem.tables != nil {
		x.mem.tables()
	}
	t, release := allocOffHeap[uint32](2 * n)
	x.byDigest, x.byID, x.mem.tables = t[:n:n], t[n:], release
	for i := uint32(1); i < x.nrecs; i++ {
		if x.rec(i).flags&recUsed != 0 {
			x.place(i)
		}
	}
}

// removeID drops the key with this id, if present.
func (x *keyIndex) removeID(id string) {
	if i, ok := x.lookupID(id); ok {
		x.drop(i)
	}
}

// evictOne drops one key, found from a random slot.
func (x *keyIndex) evictOne() {
	if x.n == 0 {
		return
	}
	mask := len(x.byDigest) - 1
	for p := rand.IntN(len(x.byDigest)); ; p = (p + 1) & mask {
		if i := x.byDigest[p]; i != 0 {
			x.drop(i)
			return
		}
	}
}

// drop frees record i and empties its slots.
func (x *keyIndex) drop(i uint32) {
	r := x.rec(i)
	unslot(x.byDigest, i, x.digestHash(&r.digest), func(j uint32) uint64 { return x.digestHash(&x.rec(j).digest) })
	unslot(x.byID, i, x.recIDHash(r), func(j uint32) uint64 { return x.recIDHash(x.rec(j)) })
	if r.flags&recRawID != 0 {
		j := binary.LittleEndian.Uint32(r.id[:4])
		x.rawIDs[j] = ""
		x.rawFree = append(x.rawFree, j)
	}
	*r = keyRec{}
	x.free = append(x.free, i)
	x.n--
}

// unslot empties the slot of record i in a linearly probed table, found from
// its hash h, and moves later records of the same probe run back into the
// gap, so that every record stays reachable from its home slot without
// tombstones.
func unslot(t []uint32, i uint32, h uint64, hashOf func(uint32) uint64) {
	mask := uint64(len(t) - 1)
	p := h & mask
	for t[p] != i {
		p = (p + 1) & mask
	}
	for q := p; ; {
		t[p] = 0
		for {
			q = (q + 1) & mask
			if t[q] == 0 {
				return
			}
			home := hashOf(t[q]) & mask
			// t[q] may move to p unless its home lies cyclically in (p, q].
			if (p <= q && (home <= p || home > q)) || (p > q && home <= p && home > q) {
				t[p] = t[q]
				p = q
				break
			}
		}
	}
}

// parseKeyID returns the uuid of an id of the form "ApiKey-<uuid>" in its
// canonical lower-case spelling, the only one id gives back.
func parseKeyID(id string) ([16]byte, bool) {
	rest, ok := strings.CutPrefix(id, keyIDPrefix)
	if !ok || len(rest) != 36 {
		return [16]byte{}, false
	}
	u, err := uuid.Parse(rest)
	if err != nil || u.String() != rest {
		return [16]byte{}, false
	}
	return u, true
}
