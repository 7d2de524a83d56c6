package ratelimit

// MemoryLen returns the number of counters m holds.
func MemoryLen(m *Memory) int { return m.len() }
