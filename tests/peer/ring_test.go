package main

import (
	"encoding/hex"
	"encoding/json"
	"io/ioutil"
	"testing"
	"time"
)

// Reference encodings from shared/spec/dskit-kv-ring.md §4.4.
const refInstance = "0a0d31302e302e302e313a393039351080e2cfaa06320801ac0280d0acf30e3a067a6f6e652d614080b5eda5064a0a696e6765737465722d31"
const refKVP = "0a0f636f6c6c6563746f72732f72696e67124a49500a470a0a696e6765737465722d3112390a0d31302e0102bc313a393039351080e2cfaa06320801ac0280d0acf30e3a067a6f6e652d614080b5eda5064a0a696e6765737465722d311a0872696e6744657363"

func refInst() InstanceDesc {
	return InstanceDesc{Addr: "10.0.0.1:9095", Timestamp: 1700000000, Tokens: []uint32{1, 300, 4000000000}, Zone: "zone-a", RegisteredTimestamp: 1690000000, ID: "ingester-1"}
}

func TestReferenceEncodings(t *testing.T) {
	i := refInst()
	if got := hex.EncodeToString(i.Marshal()); got != refInstance {
		t.Fatalf("InstanceDesc: %s", got)
	}
	d := &Desc{Ingesters: map[string]InstanceDesc{"ingester-1": i}}
	if got := hex.EncodeToString(d.Marshal()); got != "0a470a0a696e6765737465722d311239"+refInstance {
		t.Fatalf("Desc: %s", got)
	}
	if got := hex.EncodeToString((&Desc{Ingesters: map[string]InstanceDesc{"x": {}}}).Marshal()); got != "0a050a01781200" {
		t.Fatalf("empty instance: %s", got)
	}
	left := InstanceDesc{Addr: "10.0.0.1:9095", Timestamp: 1700000100, State: LEFT, Zone: "zone-a", RegisteredTimestamp: 1690000000, ID: "ingester-1"}
	if got := hex.EncodeToString(left.Marshal()); got != "0a0d31302e302e302e313a3930393510e4e2cfaa0618043a067a6f6e652d614080b5eda5064a0a696e6765737465722d31" {
		t.Fatalf("LEFT: %s", got)
	}
	ro := refInst()
	ro.State, ro.ReadOnly, ro.ReadOnlyUpdatedTimestamp, ro.Versions = LEAVING, true, 1700000001, map[uint64]uint64{1: 2}
	if got := hex.EncodeToString(ro.Marshal()); got != "0a0d31302e302e302e313a393039351080e2cfaa061801320801ac0280d0acf30e3a067a6f6e652d614080b5eda5064a0a696e6765737465722d315081e2cfaa065801620408011002" {
		t.Fatalf("read-only: %s", got)
	}
	raw, _ := hex.DecodeString(refKVP)
	kvp, err := UnmarshalKeyValuePair(raw)
	if err != nil || kvp.Key != "collectors/ring" || kvp.Codec != "ringDesc" {
		t.Fatalf("kvp: %+v %v", kvp, err)
	}
	v, err := decodeValue(kvp.Codec, kvp.Value)
	got, _ := v.(*Desc)
	if err != nil || got == nil || len(got.Ingesters) != 1 || !tokensEqual(got.Ingesters["ingester-1"].Tokens, i.Tokens) || got.Ingesters["ingester-1"].Zone != "zone-a" {
		t.Fatalf("decoded: %+v %v", got, err)
	}
	kvp.Deleted, kvp.UpdateTimeMillis = true, 1700000000123
	kvp.Value = raw[19 : 19+0x4a] // keep Go's snappy bytes
	if h := hex.EncodeToString(kvp.Marshal()); h != refKVP+"200128fbd095ffbc31" {
		t.Fatalf("deleted kvp: %s", h)
	}
}

func TestDecodeRealFixture(t *testing.T) {
	for _, name := range []string{"nolabel-lzw", "label-lzw", "nocompress"} {
		bin, err := ioutil.ReadFile("../fixtures/dskit-2023/" + name + ".collectors_ring.ringdesc.bin")
		if err != nil {
			t.Fatal(err)
		}
		v, err := decodeValue(ringCodec, bin)
		if err != nil {
			t.Fatal(err)
		}
		d := v.(*Desc)
		tj, _ := ioutil.ReadFile("../fixtures/dskit-2023/" + name + ".truth.json")
		var truth map[string]interface{}
		if err := json.Unmarshal(tj, &truth); err != nil {
			t.Fatal(err)
		}
		if len(d.Ingesters) != 3 {
			t.Fatalf("%s: %d instances", name, len(d.Ingesters))
		}
		// Round trip through our encoder must decode to the same value.
		bv, err := decodeValue(ringCodec, encodeValue(d))
		if err != nil {
			t.Fatal(err)
		}
		back := bv.(*Desc)
		if len(back.Ingesters) != len(d.Ingesters) {
			t.Fatalf("%s: round trip has %d instances", name, len(back.Ingesters))
		}
		for id, inst := range d.Ingesters {
			if b := back.Ingesters[id]; b.Timestamp != inst.Timestamp || !tokensEqual(b.Tokens, inst.Tokens) || b.State != inst.State {
				t.Fatalf("%s/%s round trip differs", name, id)
			}
		}
	}
}

// mergeRing merges through the Mergeable interface; a nil result means "no change".
func mergeRing(t *testing.T, l, o *Desc, localCAS bool, now time.Time) *Desc {
	t.Helper()
	c := l.Merge(o, localCAS, now)
	if c == nil {
		return nil
	}
	d, ok := c.(*Desc)
	if !ok || d == nil {
		t.Fatalf("change is %T %v", c, c)
	}
	return d
}

func TestMergeRules(t *testing.T) {
	now := time.Unix(2000, 0)
	l := &Desc{Ingesters: map[string]InstanceDesc{"a": {Timestamp: 10, Tokens: []uint32{1, 2}}, "b": {Timestamp: 10, Tokens: []uint32{3}}}}
	// Older and equal non-LEFT updates are ignored.
	if c := mergeRing(t, l, &Desc{Ingesters: map[string]InstanceDesc{"a": {Timestamp: 10, Tokens: []uint32{9}}}}, false, now); c != nil {
		t.Fatalf("equal ts applied: %+v", c)
	}
	// Equal timestamp + LEFT wins, tokens cleared.
	c := mergeRing(t, l, &Desc{Ingesters: map[string]InstanceDesc{"b": {Timestamp: 10, State: LEFT, Tokens: []uint32{3}}}}, false, now)
	if c == nil || l.Ingesters["b"].State != LEFT || len(l.Ingesters["b"].Tokens) != 0 || len(c.Ingesters) != 1 {
		t.Fatalf("LEFT not applied: %+v", l)
	}
	// Newer with conflicting token: smaller ID wins; change holds only the updated instance.
	c = mergeRing(t, l, &Desc{Ingesters: map[string]InstanceDesc{"c": {Timestamp: 11, Tokens: []uint32{2, 5, 5}}}}, false, now)
	if !tokensEqual(l.Ingesters["a"].Tokens, []uint32{1, 2}) || !tokensEqual(l.Ingesters["c"].Tokens, []uint32{5}) || len(c.Ingesters) != 1 {
		t.Fatalf("conflict: %+v change %+v", l, c)
	}
	// LEAVING loses a conflict regardless of ID.
	c = mergeRing(t, l, &Desc{Ingesters: map[string]InstanceDesc{"a": {Timestamp: 12, State: LEAVING, Tokens: []uint32{1, 5}}}}, false, now)
	if !tokensEqual(l.Ingesters["a"].Tokens, []uint32{1}) || !tokensEqual(l.Ingesters["c"].Tokens, []uint32{5}) {
		t.Fatalf("leaving conflict: %+v", l)
	}
	// Local CAS: missing instances become LEFT at now.
	c = mergeRing(t, l, &Desc{Ingesters: map[string]InstanceDesc{"a": l.Ingesters["a"]}}, true, now)
	if l.Ingesters["c"].State != LEFT || l.Ingesters["c"].Timestamp != 2000 || len(c.Ingesters) != 1 {
		t.Fatalf("localCAS: %+v", l)
	}
	if total, removed := l.RemoveTombstones(time.Unix(1000, 0)); removed != 1 || total != 1 {
		t.Fatalf("tombstones: %d %d", total, removed)
	}
}
