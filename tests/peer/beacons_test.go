package main

import (
	"encoding/binary"
	"encoding/hex"
	"io/ioutil"
	"log"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/golang/snappy"
)

// shared/spec/dskit-kv-ring.md §4.4.
const refBeacons = "0a13082a120f08fbd095ffbc311a066e6f64652d31"

func beacons(m map[uint64]BeaconDesc) *PropagationDelayTrackerDesc {
	return &PropagationDelayTrackerDesc{Beacons: m}
}

// mergeBeacons merges through the Mergeable interface; nil = no change.
func mergeBeacons(t *testing.T, l, o *PropagationDelayTrackerDesc, localCAS bool, now time.Time) *PropagationDelayTrackerDesc {
	t.Helper()
	c := l.Merge(o, localCAS, now)
	if c == nil {
		return nil
	}
	d, ok := c.(*PropagationDelayTrackerDesc)
	if !ok || d == nil {
		t.Fatalf("change is %T %v", c, c)
	}
	return d
}

func TestBeaconReferenceEncoding(t *testing.T) {
	want := beacons(map[uint64]BeaconDesc{42: {PublishedAt: 1700000000123, PublishedBy: "node-1"}})
	if got := hex.EncodeToString(want.Marshal()); got != refBeacons {
		t.Fatalf("encode: %s", got)
	}
	raw, _ := hex.DecodeString(refBeacons)
	got, err := UnmarshalPropagationDelayTrackerDesc(raw)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decode: %+v %v", got, err)
	}
	// Deleted beacon: field 2 appears between 1 and 3; full KV value round trip via snappy.
	del := beacons(map[uint64]BeaconDesc{7: {PublishedAt: 1, DeletedAt: 2, PublishedBy: "x"}, 8: {}})
	if got := hex.EncodeToString(beacons(map[uint64]BeaconDesc{7: del.Beacons[7]}).Marshal()); got != "0a0b08071207080110021a0178" {
		t.Fatalf("deleted beacon: %s", got)
	}
	v, err := decodeValue(beaconCodec, encodeValue(del))
	if err != nil || !reflect.DeepEqual(v, del) {
		t.Fatalf("round trip: %+v %v", v, err)
	}
	// Empty bytes decode to an empty value; truncated input is an error.
	if v, err := decodeValue(beaconCodec, nil); err != nil || len(v.(*PropagationDelayTrackerDesc).Beacons) != 0 {
		t.Fatalf("empty: %+v %v", v, err)
	}
	if _, err := UnmarshalPropagationDelayTrackerDesc(raw[:len(raw)-1]); err == nil {
		t.Fatal("truncated value decoded")
	}
}

func TestBeaconMergeRules(t *testing.T) {
	now := time.UnixMilli(5000)
	l := beacons(map[uint64]BeaconDesc{
		1: {PublishedAt: 100, PublishedBy: "a"},
		2: {PublishedAt: 100, DeletedAt: 200, PublishedBy: "a"},
		3: {PublishedAt: 100, PublishedBy: "a"},
	})
	// Older, equal, and equal-published with smaller deleted_at: ignored.
	if c := mergeBeacons(t, l, beacons(map[uint64]BeaconDesc{
		1: {PublishedAt: 99, DeletedAt: 300},
		2: {PublishedAt: 100, DeletedAt: 150},
		3: {PublishedAt: 100, PublishedBy: "a"},
	}), false, now); c != nil {
		t.Fatalf("stale beacons applied: %+v", c)
	}
	// Absent -> added; greater published_at -> replaced; equal with greater deleted_at -> replaced.
	c := mergeBeacons(t, l, beacons(map[uint64]BeaconDesc{
		1: {PublishedAt: 100, DeletedAt: 400, PublishedBy: "a"},
		3: {PublishedAt: 101, PublishedBy: "b"},
		9: {PublishedAt: 300, PublishedBy: "c"},
		2: {PublishedAt: 100, DeletedAt: 200, PublishedBy: "a"}, // identical: not a change
	}), false, now)
	want := map[uint64]BeaconDesc{
		1: {PublishedAt: 100, DeletedAt: 400, PublishedBy: "a"},
		3: {PublishedAt: 101, PublishedBy: "b"},
		9: {PublishedAt: 300, PublishedBy: "c"},
	}
	if c == nil || !reflect.DeepEqual(c.Beacons, want) {
		t.Fatalf("change: %+v", c)
	}
	content := c.MergeContent()
	sort.Strings(content)
	if !reflect.DeepEqual(content, []string{"1", "3", "9"}) {
		t.Fatalf("content: %v", content)
	}
	for id, b := range want {
		if l.Beacons[id] != b {
			t.Fatalf("beacon %d: %+v", id, l.Beacons[id])
		}
	}
	// Local CAS: live beacons missing from the incoming value are deleted at now (ms);
	// tombstones missing from it stay as they are.
	c = mergeBeacons(t, l, beacons(map[uint64]BeaconDesc{3: l.Beacons[3]}), true, now)
	if c == nil || !reflect.DeepEqual(c.Beacons, map[uint64]BeaconDesc{9: {PublishedAt: 300, DeletedAt: 5000, PublishedBy: "c"}}) {
		t.Fatalf("localCAS change: %+v", c)
	}
	if l.Beacons[1].DeletedAt != 400 || l.Beacons[2].DeletedAt != 200 || l.Beacons[3].DeletedAt != 0 {
		t.Fatalf("localCAS touched others: %+v", l.Beacons)
	}
	// A value of another type is no change (never a typed nil).
	if c := l.Merge(NewDesc(), false, now); c != nil {
		t.Fatalf("ring merged into beacons: %+v", c)
	}
	// Tombstones: deleted before the limit (ms) go; live ones never do.
	total, removed := l.RemoveTombstones(time.UnixMilli(400))
	if removed != 1 || total != 2 || len(l.Beacons) != 3 {
		t.Fatalf("tombstones: total %d removed %d left %+v", total, removed, l.Beacons)
	}
	if _, ok := l.Beacons[2]; ok {
		t.Fatal("beacon deleted at 200 survived a 400 limit")
	}
	if total, removed := l.RemoveTombstones(time.Time{}); removed != 2 || total != 0 || len(l.Beacons) != 1 {
		t.Fatalf("zero limit: total %d removed %d left %+v", total, removed, l.Beacons)
	}
}

func TestBeaconMergeCommutative(t *testing.T) {
	a := map[uint64]BeaconDesc{1: {PublishedAt: 10}, 2: {PublishedAt: 10, DeletedAt: 20}, 3: {PublishedAt: 5}}
	b := map[uint64]BeaconDesc{1: {PublishedAt: 10, DeletedAt: 30}, 2: {PublishedAt: 10}, 3: {PublishedAt: 6}, 4: {PublishedAt: 1}}
	ab, ba := beacons(a).clone(), beacons(b).clone()
	ab.Merge(beacons(b), false, time.Now())
	ba.Merge(beacons(a), false, time.Now())
	if !reflect.DeepEqual(ab, ba) {
		t.Fatalf("a+b %+v != b+a %+v", ab.Beacons, ba.Beacons)
	}
	if ab.Beacons[1].DeletedAt != 30 || ab.Beacons[2].DeletedAt != 20 || ab.Beacons[3].PublishedAt != 6 || len(ab.Beacons) != 4 {
		t.Fatalf("merged: %+v", ab.Beacons)
	}
}

func TestPlanBeacons(t *testing.T) {
	interval, lifetime := 2*time.Second, 10*time.Second
	now := time.UnixMilli(100000)
	ids := []uint64{0, 5, 6} // 0 is never used as an ID; 5 is taken
	newID := func() uint64 { id := ids[0]; ids = ids[1:]; return id }

	d := beacons(map[uint64]BeaconDesc{
		5: {PublishedAt: 100000 - 10000, PublishedBy: "old"}, // age = lifetime: deleted
		7: {PublishedAt: 100000 - 2000, PublishedBy: "b"},    // age = interval: not recent
	})
	changed, id := planBeacons(d, now, interval, lifetime, "me", newID)
	if !changed || id != 6 {
		t.Fatalf("changed %v id %d", changed, id)
	}
	want := map[uint64]BeaconDesc{
		5: {PublishedAt: 90000, DeletedAt: 100000, PublishedBy: "old"},
		7: {PublishedAt: 98000, PublishedBy: "b"},
		6: {PublishedAt: 100000, PublishedBy: "me"},
	}
	if !reflect.DeepEqual(d.Beacons, want) {
		t.Fatalf("beacons: %+v", d.Beacons)
	}
	// One interval minus 1 ms later the new beacon is still recent: nothing to do.
	if changed, id := planBeacons(d, now.Add(interval-time.Millisecond), interval, lifetime, "me", newID); changed || id != 0 {
		t.Fatalf("published although a recent beacon exists: %v %d", changed, id)
	}
}

func newTestKV(t *testing.T, leftTimeout time.Duration) *KV {
	kv := NewKV(leftTimeout, 4, &Stats{}, log.New(ioutil.Discard, "", 0))
	close(kv.ready) // as Attach, without a memberlist
	return kv
}

func decodeBroadcasts(t *testing.T, msgs [][]byte) []KeyValuePair {
	t.Helper()
	var out []KeyValuePair
	for _, m := range msgs {
		kvp, err := UnmarshalKeyValuePair(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, kvp)
	}
	return out
}

func TestKVBeaconCodec(t *testing.T) {
	kv := newTestKV(t, time.Minute)
	raw, _ := hex.DecodeString(refBeacons)
	in := KeyValuePair{Key: beaconKey, Value: snappy.Encode(nil, raw), Codec: beaconCodec}
	kv.NotifyMsg(in.Marshal())
	s, ok := kv.Snapshot()[beaconKey]
	if !ok || s.Codec != beaconCodec || !reflect.DeepEqual(s.Value, beacons(map[uint64]BeaconDesc{42: {PublishedAt: 1700000000123, PublishedBy: "node-1"}})) {
		t.Fatalf("stored: %+v", s)
	}
	// The change is re-gossiped (gossip queue) with the codec.
	got := decodeBroadcasts(t, kv.GetBroadcasts(0, 1<<20))
	if len(got) != 1 || got[0].Key != beaconKey || got[0].Codec != beaconCodec {
		t.Fatalf("broadcasts: %+v", got)
	}
	// The same message again changes nothing; an unknown codec is invalid.
	kv.NotifyMsg(in.Marshal())
	other := KeyValuePair{Key: "x", Value: []byte{0}, Codec: "replicaDesc"}
	kv.NotifyMsg(other.Marshal())
	if kv.stats.KVUpdates != 1 || kv.stats.InvalidBroadcasts != 1 {
		t.Fatalf("updates %d invalid %d", kv.stats.KVUpdates, kv.stats.InvalidBroadcasts)
	}
	// A ring value under the beacon key is not merged.
	ring := KeyValuePair{Key: beaconKey, Value: encodeValue(&Desc{Ingesters: map[string]InstanceDesc{"a": {Timestamp: 1}}}), Codec: ringCodec}
	kv.NotifyMsg(ring.Marshal())
	if s := kv.Snapshot()[beaconKey]; s.Codec != beaconCodec || kv.stats.KVUpdates != 1 {
		t.Fatalf("codec mismatch merged: %+v", s)
	}

	// Push/pull state carries the key next to a ring; a fresh node takes both from it.
	kv.CASRing("collectors/ring", func(d *Desc) *Desc {
		d.Ingesters["a"] = InstanceDesc{Timestamp: time.Now().Unix()}
		return d
	})
	state := kv.LocalState(false)
	keys := map[string]string{}
	for b := state; len(b) >= 4; {
		l := binary.BigEndian.Uint32(b)
		kvp, err := UnmarshalKeyValuePair(b[4 : 4+l])
		if err != nil {
			t.Fatal(err)
		}
		keys[kvp.Key] = kvp.Codec
		b = b[4+l:]
	}
	if !reflect.DeepEqual(keys, map[string]string{beaconKey: beaconCodec, "collectors/ring": ringCodec}) {
		t.Fatalf("local state keys: %v", keys)
	}
	fresh := newTestKV(t, time.Minute)
	fresh.MergeRemoteState(state, false)
	if !reflect.DeepEqual(fresh.Snapshot()[beaconKey].Value, kv.Snapshot()[beaconKey].Value) {
		t.Fatalf("push/pull: %+v", fresh.Snapshot()[beaconKey])
	}
}

func TestKVBeaconPublishAndExpiry(t *testing.T) {
	kv := newTestKV(t, time.Minute)
	p := NewBeaconPublisher(kv, "node-x", time.Second, time.Hour, kv.stats, kv.logger)
	p.tick()
	p.tick() // the first beacon is recent: no second one
	s := kv.Snapshot()[beaconKey]
	d, _ := s.Value.(*PropagationDelayTrackerDesc)
	if d == nil || len(d.Beacons) != 1 || kv.stats.BeaconsPublished != 1 {
		t.Fatalf("published: %+v, counter %d", s, kv.stats.BeaconsPublished)
	}
	var id uint64
	var b BeaconDesc
	for id, b = range d.Beacons {
	}
	if id == 0 || b.PublishedBy != "node-x" || b.DeletedAt != 0 || time.Since(time.UnixMilli(b.PublishedAt)) > time.Minute {
		t.Fatalf("beacon %d: %+v", id, b)
	}
	// Local CAS results go to the local queue, one KeyValuePair with the beacon codec.
	if kv.localQ.NumQueued() != 1 || kv.gossipQ.NumQueued() != 0 {
		t.Fatalf("queues: local %d gossip %d", kv.localQ.NumQueued(), kv.gossipQ.NumQueued())
	}
	got := decodeBroadcasts(t, kv.GetBroadcasts(0, 1<<20))
	v, err := decodeValue(beaconCodec, got[0].Value)
	if err != nil || got[0].Key != beaconKey || got[0].Codec != beaconCodec || !reflect.DeepEqual(v, d) {
		t.Fatalf("broadcast %+v value %+v %v", got[0], v, err)
	}

	// A tombstone deleted longer than left-timeout ago is dropped on the next merge
	// that changes the key; a recent one stays.
	nowMs := time.Now().UnixMilli()
	in := beacons(map[uint64]BeaconDesc{
		100: {PublishedAt: nowMs - 200000, DeletedAt: nowMs - 120000},
		101: {PublishedAt: nowMs - 200000, DeletedAt: nowMs - 1000},
	})
	kv.mu.Lock()
	kv.apply(beaconKey, beaconCodec, in, false, 0, false)
	kv.mu.Unlock()
	d = kv.Snapshot()[beaconKey].Value.(*PropagationDelayTrackerDesc)
	if _, ok := d.Beacons[100]; ok || len(d.Beacons) != 2 || kv.stats.TombstonesRemoved != 1 {
		t.Fatalf("after expiry: %+v removed %d", d.Beacons, kv.stats.TombstonesRemoved)
	}
	// The broadcast change (gossip queue: not a local CAS) does not carry it either.
	got = decodeBroadcasts(t, kv.gossipQ.GetBroadcasts(0, 1<<20))
	v, _ = decodeValue(beaconCodec, got[0].Value)
	if len(got) != 1 || !reflect.DeepEqual(v.(*PropagationDelayTrackerDesc).MergeContent(), []string{"101"}) {
		t.Fatalf("change broadcast: %+v", v)
	}
}
