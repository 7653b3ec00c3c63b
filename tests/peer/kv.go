package main

// A dskit-like memberlist KV delegate (spec dskit-kv-ring.md §3): one KeyValuePair per
// user message, [u32 BE len][KeyValuePair] records in push/pull state, merge of
// ring.Desc values with change-only re-broadcast, LEFT tombstone expiry.

import (
	"encoding/binary"
	"log"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/hashicorp/memberlist"
)

const ringCodec = "ringDesc"

type kvEntry struct {
	codec      string
	desc       *Desc
	deleted    bool
	updateTime int64 // unix ms, only set together with deleted
	version    uint64
}

type KV struct {
	mu          sync.Mutex
	store       map[string]*kvEntry
	localQ      *memberlist.TransmitLimitedQueue // results of local CAS, drained first (dskit ≥ 2024-07)
	gossipQ     *memberlist.TransmitLimitedQueue // changes caused by received data
	leftTimeout time.Duration
	stats       *Stats
	logger      *log.Logger
	ready       chan struct{} // closed once memberlist exists; hooks are no-ops before (as dskit)
}

func NewKV(leftTimeout time.Duration, retransmitMult int, stats *Stats, logger *log.Logger) *KV {
	kv := &KV{store: map[string]*kvEntry{}, leftTimeout: leftTimeout, stats: stats, logger: logger, ready: make(chan struct{})}
	kv.localQ = &memberlist.TransmitLimitedQueue{RetransmitMult: retransmitMult, NumNodes: func() int { return 1 }}
	kv.gossipQ = &memberlist.TransmitLimitedQueue{RetransmitMult: retransmitMult, NumNodes: func() int { return 1 }}
	return kv
}

// Attach wires the queues to the cluster size once memberlist is created.
func (kv *KV) Attach(m *memberlist.Memberlist) {
	kv.localQ.NumNodes = m.NumMembers
	kv.gossipQ.NumNodes = m.NumMembers
	close(kv.ready)
}

func (kv *KV) isReady() bool {
	select {
	case <-kv.ready:
		return true
	default:
		return false
	}
}

// kvBroadcast is one queued KeyValuePair carrying a change.
type kvBroadcast struct {
	key     string
	content []string
	version uint64
	msg     []byte
}

// Invalidates: a newer broadcast for the same key whose content covers the older one's.
func (b *kvBroadcast) Invalidates(other memberlist.Broadcast) bool {
	o, ok := other.(*kvBroadcast)
	if !ok || o.key != b.key || b.version < o.version {
		return false
	}
	have := make(map[string]struct{}, len(b.content))
	for _, c := range b.content {
		have[c] = struct{}{}
	}
	for _, c := range o.content {
		if _, ok := have[c]; !ok {
			return false
		}
	}
	return true
}
func (b *kvBroadcast) Message() []byte { return b.msg }
func (b *kvBroadcast) Finished()       {}

func encodeRing(d *Desc) []byte { return snappy.Encode(nil, d.Marshal()) }

func decodeRing(v []byte) (*Desc, error) {
	if len(v) == 0 {
		return NewDesc(), nil
	}
	raw, err := snappy.Decode(nil, v)
	if err != nil {
		return nil, err
	}
	return UnmarshalDesc(raw)
}

// apply merges one incoming value into the store; mu must be held. Returns whether the
// local value changed. The change is queued on localQ for local CAS, else on gossipQ.
func (kv *KV) apply(key, codec string, in *Desc, deleted bool, updMillis int64, localCAS bool) bool {
	now := time.Now()
	e := kv.store[key]
	var change *Desc
	if e == nil || e.desc == nil {
		if deleted {
			return false // deletions never create keys
		}
		if e == nil {
			e = &kvEntry{codec: codec}
			kv.store[key] = e
		}
		e.desc = in
		change = in
	} else {
		change = e.desc.Merge(in, localCAS, now)
	}
	deletedChanged := false
	if deleted && updMillis != 0 && updMillis > e.updateTime {
		e.deleted, e.updateTime, deletedChanged = true, updMillis, true
	}
	if (change == nil || len(change.Ingesters) == 0) && !deletedChanged {
		return false
	}
	if kv.leftTimeout > 0 {
		limit := now.Add(-kv.leftTimeout)
		_, removed := e.desc.RemoveTombstones(limit)
		kv.stats.add(&kv.stats.TombstonesRemoved, uint64(removed))
		if change != nil && change != e.desc {
			change.RemoveTombstones(limit)
		}
	}
	if deletedChanged && (change == nil || len(change.Ingesters) == 0) {
		change = e.desc.Clone()
	}
	e.version++
	kv.stats.add(&kv.stats.KVUpdates, 1)
	if change == nil || len(change.Ingesters) == 0 {
		return true // local value updated, but nothing left to broadcast
	}
	kvp := KeyValuePair{Key: key, Value: encodeRing(change), Codec: codec, Deleted: e.deleted, UpdateTimeMillis: e.updateTime}
	b := &kvBroadcast{key: key, content: change.MergeContent(), version: e.version, msg: kvp.Marshal()}
	if localCAS {
		kv.localQ.QueueBroadcast(b)
	} else {
		kv.gossipQ.QueueBroadcast(b)
	}
	kv.stats.add(&kv.stats.BroadcastsQueued, 1)
	return true
}

// CAS runs f on a tombstone-free clone of key's ring (empty if absent) and merges the
// result as a local CAS. f runs under the KV lock, so no gossip update can slip in
// between read and write (dskit retries on version change instead).
func (kv *KV) CAS(key string, f func(*Desc) *Desc) bool {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	cur := NewDesc()
	if e := kv.store[key]; e != nil && e.desc != nil {
		cur = e.desc.Clone()
		cur.RemoveTombstones(time.Time{})
	}
	next := f(cur)
	if next == nil {
		return false
	}
	return kv.apply(key, ringCodec, next, false, 0, true)
}

func (kv *KV) handleKVP(b []byte) (KeyValuePair, *Desc, bool) {
	kvp, err := UnmarshalKeyValuePair(b)
	if err != nil || kvp.Key == "" || kvp.Codec != ringCodec {
		kv.stats.add(&kv.stats.InvalidBroadcasts, 1)
		return kvp, nil, false
	}
	d, err := decodeRing(kvp.Value)
	if err != nil {
		kv.logger.Printf("[ERR] ringwatch-peer: failed to decode value of key %q: %v", kvp.Key, err)
		kv.stats.add(&kv.stats.InvalidBroadcasts, 1)
		return kvp, nil, false
	}
	return kvp, d, true
}

// ---- memberlist.Delegate ----

func (kv *KV) NodeMeta(limit int) []byte { return nil }

func (kv *KV) NotifyMsg(b []byte) {
	if !kv.isReady() || len(b) == 0 {
		return
	}
	kv.stats.add(&kv.stats.BroadcastsReceived, 1)
	kvp, d, ok := kv.handleKVP(b)
	if !ok {
		return
	}
	kv.mu.Lock()
	kv.apply(kvp.Key, kvp.Codec, d, kvp.Deleted, kvp.UpdateTimeMillis, false)
	kv.mu.Unlock()
}

func (kv *KV) GetBroadcasts(overhead, limit int) [][]byte {
	if !kv.isReady() {
		return nil
	}
	msgs := kv.localQ.GetBroadcasts(overhead, limit)
	used := 0
	for _, m := range msgs {
		used += len(m) + overhead
	}
	if limit-used > overhead {
		msgs = append(msgs, kv.gossipQ.GetBroadcasts(overhead, limit-used)...)
	}
	return msgs
}

func (kv *KV) LocalState(join bool) []byte {
	if !kv.isReady() {
		return nil
	}
	kv.mu.Lock()
	defer kv.mu.Unlock()
	var buf []byte
	for key, e := range kv.store {
		if e.desc == nil {
			continue
		}
		kvp := KeyValuePair{Key: key, Value: encodeRing(e.desc), Codec: e.codec, Deleted: e.deleted, UpdateTimeMillis: e.updateTime}
		rec := kvp.Marshal()
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(rec)))
		buf = append(buf, l[:]...)
		buf = append(buf, rec...)
	}
	kv.stats.add(&kv.stats.StatePulls, 1)
	return buf
}

func (kv *KV) MergeRemoteState(buf []byte, join bool) {
	if !kv.isReady() {
		return
	}
	kv.stats.add(&kv.stats.StatePushes, 1)
	for len(buf) >= 4 {
		l := binary.BigEndian.Uint32(buf)
		if uint64(l) > uint64(len(buf)-4) {
			kv.logger.Printf("[WARN] ringwatch-peer: push/pull record length %d exceeds remaining %d bytes", l, len(buf)-4)
			return
		}
		rec := buf[4 : 4+l]
		buf = buf[4+l:]
		kvp, d, ok := kv.handleKVP(rec)
		if !ok {
			continue
		}
		kv.mu.Lock()
		kv.apply(kvp.Key, kvp.Codec, d, kvp.Deleted, kvp.UpdateTimeMillis, false)
		kv.mu.Unlock()
	}
}

// Drained reports whether every queued change has been sent its retransmit quota.
func (kv *KV) Drained() bool { return kv.localQ.NumQueued() == 0 && kv.gossipQ.NumQueued() == 0 }

// Snapshot returns deep copies of every entry for the HTTP API.
type kvSnapshot struct {
	Codec      string
	Deleted    bool
	UpdateTime int64
	Version    uint64
	Desc       *Desc
}

func (kv *KV) Snapshot() map[string]kvSnapshot {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	out := map[string]kvSnapshot{}
	for k, e := range kv.store {
		s := kvSnapshot{Codec: e.codec, Deleted: e.deleted, UpdateTime: e.updateTime, Version: e.version}
		if e.desc != nil {
			s.Desc = e.desc.Clone()
		}
		out[k] = s
	}
	return out
}
