package main

// A dskit-like memberlist KV delegate (spec dskit-kv-ring.md §3): one KeyValuePair per
// user message, [u32 BE len][KeyValuePair] records in push/pull state, merge of values
// with change-only re-broadcast, tombstone expiry. Values are Mergeable (one type per
// codec, see the codecs table); the delegate itself knows no value type.

import (
	"encoding/binary"
	"fmt"
	"log"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/hashicorp/memberlist"
)

// Mergeable is a KV value (dskit's Mergeable contract, spec §3.7) plus its protobuf form.
type Mergeable interface {
	// Merge merges other (of the same type) into the receiver in place and returns the
	// change (only the updated entries), or nil. With localCAS, entries missing from
	// other become tombstones stamped now.
	Merge(other Mergeable, localCAS bool, now time.Time) Mergeable
	// MergeContent names the entries contained (broadcast invalidation, "is it empty").
	MergeContent() []string
	// RemoveTombstones deletes tombstones older than limit (all for a zero limit) and
	// returns the tombstones left and the number removed.
	RemoveTombstones(limit time.Time) (total, removed int)
	Clone() Mergeable
	Marshal() []byte // protobuf
}

// Codec is one registered codec ID: an empty value and the protobuf decoder. The wire
// value is snappy block ∘ protobuf for every codec here (spec §4.2).
type Codec struct {
	New       func() Mergeable
	Unmarshal func([]byte) (Mergeable, error)
}

const (
	ringCodec   = "ringDesc"
	beaconCodec = "propagationDelayTracker"
)

// codecs are the codecs this node has registered; KeyValuePairs with any other codec are
// counted invalid and dropped, as a dskit node without that codec does.
var codecs = map[string]Codec{
	ringCodec: {
		New: func() Mergeable { return NewDesc() },
		Unmarshal: func(b []byte) (Mergeable, error) {
			d, err := UnmarshalDesc(b)
			if err != nil {
				return nil, err // not a typed nil
			}
			return d, nil
		},
	},
	beaconCodec: {
		New: func() Mergeable { return NewPropagationDelayTrackerDesc() },
		Unmarshal: func(b []byte) (Mergeable, error) {
			d, err := UnmarshalPropagationDelayTrackerDesc(b)
			if err != nil {
				return nil, err // not a typed nil
			}
			return d, nil
		},
	},
}

func encodeValue(v Mergeable) []byte { return snappy.Encode(nil, v.Marshal()) }

// decodeValue decodes a KV value; empty bytes are the encoding of an empty value (§3.6).
func decodeValue(codec string, v []byte) (Mergeable, error) {
	c, ok := codecs[codec]
	if !ok {
		return nil, fmt.Errorf("codec %q not registered", codec)
	}
	if len(v) == 0 {
		return c.New(), nil
	}
	raw, err := snappy.Decode(nil, v)
	if err != nil {
		return nil, err
	}
	return c.Unmarshal(raw)
}

// isEmpty: no change at all, or a change without entries.
func isEmpty(v Mergeable) bool { return v == nil || len(v.MergeContent()) == 0 }

type kvEntry struct {
	codec      string
	value      Mergeable
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

// apply merges one incoming value into the store; mu must be held. Returns whether the
// local value changed. The change is queued on localQ for local CAS, else on gossipQ.
func (kv *KV) apply(key, codec string, in Mergeable, deleted bool, updMillis int64, localCAS bool) bool {
	now := time.Now()
	e := kv.store[key]
	if e != nil && e.value != nil && e.codec != codec {
		// dskit's Merge fails on a value of another type: logged, nothing stored.
		kv.logger.Printf("[ERR] ringwatch-peer: key %q holds codec %s, ignoring a %s value", key, e.codec, codec)
		return false
	}
	var change Mergeable
	if e == nil || e.value == nil {
		if deleted {
			return false // deletions never create keys
		}
		if e == nil {
			e = &kvEntry{codec: codec}
			kv.store[key] = e
		}
		e.value = in
		change = in
	} else {
		change = e.value.Merge(in, localCAS, now)
	}
	deletedChanged := false
	if deleted && updMillis != 0 && updMillis > e.updateTime {
		e.deleted, e.updateTime, deletedChanged = true, updMillis, true
	}
	if isEmpty(change) && !deletedChanged {
		return false
	}
	if kv.leftTimeout > 0 {
		limit := now.Add(-kv.leftTimeout)
		_, removed := e.value.RemoveTombstones(limit)
		kv.stats.add(&kv.stats.TombstonesRemoved, uint64(removed))
		if change != nil && change != e.value {
			change.RemoveTombstones(limit)
		}
	}
	if deletedChanged && isEmpty(change) {
		change = e.value.Clone()
	}
	e.version++
	kv.stats.add(&kv.stats.KVUpdates, 1)
	if isEmpty(change) {
		return true // local value updated, but nothing left to broadcast
	}
	kvp := KeyValuePair{Key: key, Value: encodeValue(change), Codec: codec, Deleted: e.deleted, UpdateTimeMillis: e.updateTime}
	b := &kvBroadcast{key: key, content: change.MergeContent(), version: e.version, msg: kvp.Marshal()}
	if localCAS {
		kv.localQ.QueueBroadcast(b)
	} else {
		kv.gossipQ.QueueBroadcast(b)
	}
	kv.stats.add(&kv.stats.BroadcastsQueued, 1)
	return true
}

// CAS runs f on a tombstone-free clone of key's value (empty if absent) and merges the
// result as a local CAS; f returns nil for "no change". f runs under the KV lock, so no
// gossip update can slip in between read and write (dskit retries on version change
// instead). Fails if the key holds a value of another codec.
func (kv *KV) CAS(key, codec string, f func(Mergeable) Mergeable) bool {
	c, ok := codecs[codec]
	if !ok {
		return false
	}
	kv.mu.Lock()
	defer kv.mu.Unlock()
	cur := c.New()
	if e := kv.store[key]; e != nil && e.value != nil {
		if e.codec != codec {
			return false
		}
		cur = e.value.Clone()
		cur.RemoveTombstones(time.Time{})
	}
	next := f(cur)
	if next == nil {
		return false
	}
	return kv.apply(key, codec, next, false, 0, true)
}

// CASRing is CAS for a ringDesc key.
func (kv *KV) CASRing(key string, f func(*Desc) *Desc) bool {
	return kv.CAS(key, ringCodec, func(v Mergeable) Mergeable {
		if d := f(v.(*Desc)); d != nil {
			return d
		}
		return nil // not a typed nil
	})
}

func (kv *KV) handleKVP(b []byte) (KeyValuePair, Mergeable, bool) {
	kvp, err := UnmarshalKeyValuePair(b)
	if _, registered := codecs[kvp.Codec]; err != nil || kvp.Key == "" || !registered {
		kv.stats.add(&kv.stats.InvalidBroadcasts, 1)
		return kvp, nil, false
	}
	v, err := decodeValue(kvp.Codec, kvp.Value)
	if err != nil {
		kv.logger.Printf("[ERR] ringwatch-peer: failed to decode value of key %q: %v", kvp.Key, err)
		kv.stats.add(&kv.stats.InvalidBroadcasts, 1)
		return kvp, nil, false
	}
	return kvp, v, true
}

// ---- memberlist.Delegate ----

func (kv *KV) NodeMeta(limit int) []byte { return nil }

func (kv *KV) NotifyMsg(b []byte) {
	if !kv.isReady() || len(b) == 0 {
		return
	}
	kv.stats.add(&kv.stats.BroadcastsReceived, 1)
	kvp, v, ok := kv.handleKVP(b)
	if !ok {
		return
	}
	kv.mu.Lock()
	kv.apply(kvp.Key, kvp.Codec, v, kvp.Deleted, kvp.UpdateTimeMillis, false)
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
		if e.value == nil {
			continue
		}
		kvp := KeyValuePair{Key: key, Value: encodeValue(e.value), Codec: e.codec, Deleted: e.deleted, UpdateTimeMillis: e.updateTime}
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
		kvp, v, ok := kv.handleKVP(rec)
		if !ok {
			continue
		}
		kv.mu.Lock()
		kv.apply(kvp.Key, kvp.Codec, v, kvp.Deleted, kvp.UpdateTimeMillis, false)
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
	Value      Mergeable // nil if the key has no value
}

func (kv *KV) Snapshot() map[string]kvSnapshot {
	kv.mu.Lock()
	defer kv.mu.Unlock()
	out := map[string]kvSnapshot{}
	for k, e := range kv.store {
		s := kvSnapshot{Codec: e.codec, Deleted: e.deleted, UpdateTime: e.updateTime, Version: e.version}
		if e.value != nil {
			s.Value = e.value.Clone()
		}
		out[k] = s
	}
	return out
}
