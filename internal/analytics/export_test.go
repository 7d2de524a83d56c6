package analytics

import (
	"log/slog"
	"time"

	"gatehouse/internal/store"
)

const (
	BatchSize  = batchSize
	BufferSize = bufferSize
)

// NewWriterDelay is NewWriter with another longest wait before a write.
func NewWriterDelay(st store.EventStore, log *slog.Logger, delay time.Duration) *Writer {
	return newWriter(st, log, delay)
}
