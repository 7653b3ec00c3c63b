package main

import (
	"reflect"
	"sync/atomic"
)

// Stats are plain counters exported by GET /stats (JSON names = snake_case of fields).
type Stats struct {
	PacketsSent           uint64 `json:"packets_sent"`
	PacketsSentErrors     uint64 `json:"packets_sent_errors"`
	PacketsDropped        uint64 `json:"packets_dropped"`     // -drop-rate
	PacketsPartitioned    uint64 `json:"packets_partitioned"` // -drop-packets-to
	PingsPartitioned      uint64 `json:"pings_partitioned"`   // ping messages in those packets
	IndirectPingsSent     uint64 `json:"indirect_pings_sent"` // indirect ping requests sent (not partitioned)
	ProbeFailures         uint64 `json:"probe_failures"`      // probe rounds that ended in suspecting the target
	BytesSent             uint64 `json:"bytes_sent"`
	PacketsReceived       uint64 `json:"packets_received"`
	PacketsReceivedErrors uint64 `json:"packets_received_errors"`
	BytesReceived         uint64 `json:"bytes_received"`
	LabelRejections       uint64 `json:"label_rejections"`
	UnknownConnections    uint64 `json:"unknown_connections"`
	TLSHandshakeErrors    uint64 `json:"tls_handshake_errors"` // inbound only (dskit logs these, tests count them)
	StreamsSent           uint64 `json:"streams_sent"`
	StreamsSentErrors     uint64 `json:"streams_sent_errors"`
	StreamsReceived       uint64 `json:"streams_received"`
	BroadcastsReceived    uint64 `json:"kv_broadcasts_received"`
	InvalidBroadcasts     uint64 `json:"kv_broadcasts_invalid"`
	BroadcastsQueued      uint64 `json:"kv_broadcasts_queued"`
	KVUpdates             uint64 `json:"kv_updates"`
	StatePulls            uint64 `json:"kv_state_pulls"`  // LocalState calls (our state sent)
	StatePushes           uint64 `json:"kv_state_pushes"` // MergeRemoteState calls (state received)
	TombstonesRemoved     uint64 `json:"kv_tombstones_removed"`
	BeaconsPublished      uint64 `json:"beacons_published"`
}

func (s *Stats) add(p *uint64, n uint64) { atomic.AddUint64(p, n) }

// snapshot reads every counter atomically into a map for JSON output.
func (s *Stats) snapshot() map[string]uint64 {
	out := map[string]uint64{}
	v := reflect.ValueOf(s).Elem()
	for i := 0; i < v.NumField(); i++ {
		p := v.Field(i).Addr().Interface().(*uint64)
		out[v.Type().Field(i).Tag.Get("json")] = atomic.LoadUint64(p)
	}
	return out
}
