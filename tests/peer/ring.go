package main

// ring.Desc / InstanceDesc (dskit ring/ring.proto), hand-encoded with gogo's varint
// primitives so the build needs no protoc step. Field order, packed tokens, proto3
// default omission and "map entries always carry key and value" follow Go's gogo
// output (spec dskit-kv-ring.md §5.1, §5.7). Merge follows dskit Desc.Merge (§6).

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/gogo/protobuf/proto"
)

type InstanceState int32

const (
	ACTIVE  InstanceState = 0
	LEAVING InstanceState = 1
	PENDING InstanceState = 2
	JOINING InstanceState = 3
	LEFT    InstanceState = 4
)

var stateNames = map[InstanceState]string{ACTIVE: "ACTIVE", LEAVING: "LEAVING", PENDING: "PENDING", JOINING: "JOINING", LEFT: "LEFT"}

func (s InstanceState) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("UNKNOWN(%d)", int32(s))
}

func parseState(s string) (InstanceState, error) {
	for k, v := range stateNames {
		if v == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown instance state %q", s)
}

type InstanceDesc struct {
	Addr                     string
	Timestamp                int64
	State                    InstanceState
	Tokens                   []uint32
	Zone                     string
	RegisteredTimestamp      int64
	ID                       string
	ReadOnlyUpdatedTimestamp int64
	ReadOnly                 bool
	Versions                 map[uint64]uint64
}

type Desc struct {
	Ingesters map[string]InstanceDesc
}

func NewDesc() *Desc { return &Desc{Ingesters: map[string]InstanceDesc{}} }

func (i InstanceDesc) clone() InstanceDesc {
	c := i
	if i.Tokens != nil {
		c.Tokens = append([]uint32(nil), i.Tokens...)
	}
	if i.Versions != nil {
		c.Versions = make(map[uint64]uint64, len(i.Versions))
		for k, v := range i.Versions {
			c.Versions[k] = v
		}
	}
	return c
}

func (d *Desc) clone() *Desc {
	out := NewDesc()
	for k, v := range d.Ingesters {
		out.Ingesters[k] = v.clone()
	}
	return out
}

func (d *Desc) Clone() Mergeable { return d.clone() }

// ---- protobuf encoding ----

func appendTag(b []byte, field int, wire int) []byte {
	return append(b, proto.EncodeVarint(uint64(field<<3|wire))...)
}

func appendBytesField(b []byte, field int, v []byte) []byte {
	b = appendTag(b, field, 2)
	b = append(b, proto.EncodeVarint(uint64(len(v)))...)
	return append(b, v...)
}

func appendVarintField(b []byte, field int, v uint64) []byte {
	b = appendTag(b, field, 0)
	return append(b, proto.EncodeVarint(v)...)
}

func (i *InstanceDesc) Marshal() []byte {
	var b []byte
	if i.Addr != "" {
		b = appendBytesField(b, 1, []byte(i.Addr))
	}
	if i.Timestamp != 0 {
		b = appendVarintField(b, 2, uint64(i.Timestamp))
	}
	if i.State != 0 {
		b = appendVarintField(b, 3, uint64(i.State))
	}
	if len(i.Tokens) > 0 {
		var packed []byte
		for _, t := range i.Tokens {
			packed = append(packed, proto.EncodeVarint(uint64(t))...)
		}
		b = appendBytesField(b, 6, packed)
	}
	if i.Zone != "" {
		b = appendBytesField(b, 7, []byte(i.Zone))
	}
	if i.RegisteredTimestamp != 0 {
		b = appendVarintField(b, 8, uint64(i.RegisteredTimestamp))
	}
	if i.ID != "" {
		b = appendBytesField(b, 9, []byte(i.ID))
	}
	if i.ReadOnlyUpdatedTimestamp != 0 {
		b = appendVarintField(b, 10, uint64(i.ReadOnlyUpdatedTimestamp))
	}
	if i.ReadOnly {
		b = appendVarintField(b, 11, 1)
	}
	for k, v := range i.Versions {
		var e []byte
		e = appendVarintField(e, 1, k)
		e = appendVarintField(e, 2, v)
		b = appendBytesField(b, 12, e)
	}
	return b
}

func (d *Desc) Marshal() []byte {
	var b []byte
	for id, inst := range d.Ingesters {
		var e []byte
		e = appendBytesField(e, 1, []byte(id))
		e = appendBytesField(e, 2, inst.Marshal()) // written even when empty ("12 00"), as gogo does
		b = appendBytesField(b, 1, e)
	}
	return b
}

// ---- protobuf decoding ----

var errTruncated = errors.New("protobuf: truncated")

type pbField struct {
	num   int
	wire  int
	u     uint64 // varint / fixed value
	bytes []byte // length-delimited value
}

// nextField reads one field from b and returns it plus the remaining bytes.
func nextField(b []byte) (pbField, []byte, error) {
	var f pbField
	key, n := proto.DecodeVarint(b)
	if n == 0 {
		return f, nil, errTruncated
	}
	b = b[n:]
	f.num, f.wire = int(key>>3), int(key&7)
	if f.num <= 0 {
		return f, nil, fmt.Errorf("protobuf: invalid field number %d", f.num)
	}
	switch f.wire {
	case 0:
		v, n := proto.DecodeVarint(b)
		if n == 0 {
			return f, nil, errTruncated
		}
		f.u, b = v, b[n:]
	case 1:
		if len(b) < 8 {
			return f, nil, errTruncated
		}
		b = b[8:]
	case 2:
		l, n := proto.DecodeVarint(b)
		if n == 0 || uint64(len(b)-n) < l {
			return f, nil, errTruncated
		}
		f.bytes, b = b[n:n+int(l)], b[n+int(l):]
	case 5:
		if len(b) < 4 {
			return f, nil, errTruncated
		}
		b = b[4:]
	default:
		return f, nil, fmt.Errorf("protobuf: unsupported wire type %d", f.wire)
	}
	return f, b, nil
}

func UnmarshalInstanceDesc(b []byte) (InstanceDesc, error) {
	var i InstanceDesc
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return i, err
		}
		b = rest
		switch {
		case f.num == 1 && f.wire == 2:
			i.Addr = string(f.bytes)
		case f.num == 2 && f.wire == 0:
			i.Timestamp = int64(f.u)
		case f.num == 3 && f.wire == 0:
			i.State = InstanceState(f.u)
		case f.num == 6 && f.wire == 2: // packed
			p := f.bytes
			for len(p) > 0 {
				v, n := proto.DecodeVarint(p)
				if n == 0 {
					return i, errTruncated
				}
				i.Tokens = append(i.Tokens, uint32(v))
				p = p[n:]
			}
		case f.num == 6 && f.wire == 0: // unpacked form is accepted too
			i.Tokens = append(i.Tokens, uint32(f.u))
		case f.num == 7 && f.wire == 2:
			i.Zone = string(f.bytes)
		case f.num == 8 && f.wire == 0:
			i.RegisteredTimestamp = int64(f.u)
		case f.num == 9 && f.wire == 2:
			i.ID = string(f.bytes)
		case f.num == 10 && f.wire == 0:
			i.ReadOnlyUpdatedTimestamp = int64(f.u)
		case f.num == 11 && f.wire == 0:
			i.ReadOnly = f.u != 0
		case f.num == 12 && f.wire == 2:
			var k, v uint64
			e := f.bytes
			for len(e) > 0 {
				ef, er, err := nextField(e)
				if err != nil {
					return i, err
				}
				e = er
				if ef.num == 1 && ef.wire == 0 {
					k = ef.u
				} else if ef.num == 2 && ef.wire == 0 {
					v = ef.u
				}
			}
			if i.Versions == nil {
				i.Versions = map[uint64]uint64{}
			}
			i.Versions[k] = v
		}
	}
	return i, nil
}

func UnmarshalDesc(b []byte) (*Desc, error) {
	d := NewDesc()
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		b = rest
		if f.num != 1 || f.wire != 2 {
			continue
		}
		var key string
		var inst InstanceDesc
		e := f.bytes
		for len(e) > 0 {
			ef, er, err := nextField(e)
			if err != nil {
				return nil, err
			}
			e = er
			if ef.num == 1 && ef.wire == 2 {
				key = string(ef.bytes)
			} else if ef.num == 2 && ef.wire == 2 {
				if inst, err = UnmarshalInstanceDesc(ef.bytes); err != nil {
					return nil, err
				}
			}
		}
		d.Ingesters[key] = inst
	}
	return d, nil
}

// ---- dskit merge semantics ----

func tokensEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func normalizeTokens(t []uint32) []uint32 {
	if len(t) == 0 {
		return nil
	}
	out := append([]uint32(nil), t...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	w := 1
	for r := 1; r < len(out); r++ {
		if out[r] != out[w-1] {
			out[w] = out[r]
			w++
		}
	}
	return out[:w]
}

// Merge implements Mergeable: other must be a *Desc (anything else is no change).
func (d *Desc) Merge(other Mergeable, localCAS bool, now time.Time) Mergeable {
	o, ok := other.(*Desc)
	if !ok || o == nil {
		return nil
	}
	if change := d.mergeDesc(o, localCAS, now); change != nil {
		return change
	}
	return nil // not a typed nil
}

// mergeDesc merges other into d in place and returns the change (only updated
// instances), or nil. With localCAS, instances missing from other become LEFT
// tombstones at now.
func (d *Desc) mergeDesc(other *Desc, localCAS bool, now time.Time) *Desc {
	if d.Ingesters == nil {
		d.Ingesters = map[string]InstanceDesc{}
	}
	// Normalise the incoming side only (spec §6.1 step 1).
	in := make(map[string]InstanceDesc, len(other.Ingesters))
	for id, inst := range other.Ingesters {
		c := inst.clone()
		if c.State == LEFT {
			c.Tokens = nil
		} else {
			c.Tokens = normalizeTokens(c.Tokens)
		}
		in[id] = c
	}

	var updated []string
	tokensChanged := false
	for id, o := range in {
		l := d.Ingesters[id] // zero value (timestamp 0) when missing
		if o.Timestamp > l.Timestamp {
			if !tokensEqual(l.Tokens, o.Tokens) {
				tokensChanged = true
			}
			d.Ingesters[id] = o
			updated = append(updated, id)
		} else if o.Timestamp == l.Timestamp && l.State != LEFT && o.State == LEFT {
			d.Ingesters[id] = o
			updated = append(updated, id)
		}
	}
	if localCAS {
		for id, l := range d.Ingesters {
			if _, ok := in[id]; !ok && l.State != LEFT {
				// Timestamp "now", not the old one, so in-flight older updates cannot resurrect it.
				l.State = LEFT
				l.Tokens = nil
				l.Timestamp = now.Unix()
				d.Ingesters[id] = l
				updated = append(updated, id)
			}
		}
	}
	if len(updated) == 0 {
		return nil
	}
	if tokensChanged {
		resolveConflicts(d.Ingesters)
	}
	out := NewDesc()
	for _, id := range updated {
		out.Ingesters[id] = d.Ingesters[id].clone()
	}
	return out
}

// resolveConflicts gives each token owned by several non-LEFT instances to one
// owner: non-LEAVING beats LEAVING, then the byte-wise smaller ID (spec §6.2).
func resolveConflicts(m map[string]InstanceDesc) {
	owner := map[uint32]string{}
	conflict := false
	better := func(a, b string) bool { // a wins over b
		la, lb := m[a].State == LEAVING, m[b].State == LEAVING
		if la != lb {
			return lb
		}
		return a < b
	}
	for id, inst := range m {
		if inst.State == LEFT {
			continue
		}
		for _, t := range inst.Tokens {
			if cur, ok := owner[t]; ok {
				conflict = true
				if better(id, cur) {
					owner[t] = id
				}
			} else {
				owner[t] = id
			}
		}
	}
	if !conflict {
		return
	}
	newTokens := map[string][]uint32{}
	for t, id := range owner {
		newTokens[id] = append(newTokens[id], t)
	}
	for id, inst := range m {
		if inst.State == LEFT {
			continue
		}
		toks := newTokens[id]
		sort.Slice(toks, func(i, j int) bool { return toks[i] < toks[j] })
		inst.Tokens = toks
		m[id] = inst
	}
}

// RemoveTombstones deletes LEFT entries older than limit (all LEFT entries for a zero limit).
func (d *Desc) RemoveTombstones(limit time.Time) (total, removed int) {
	for id, inst := range d.Ingesters {
		if inst.State != LEFT {
			continue
		}
		if limit.IsZero() || time.Unix(inst.Timestamp, 0).Before(limit) {
			delete(d.Ingesters, id)
			removed++
		} else {
			total++
		}
	}
	return
}

func (d *Desc) MergeContent() []string {
	out := make([]string, 0, len(d.Ingesters))
	for id := range d.Ingesters {
		out = append(out, id)
	}
	return out
}

// ---- KeyValuePair (dskit kv/memberlist/kv.proto) ----

type KeyValuePair struct {
	Key              string
	Value            []byte
	Codec            string
	Deleted          bool
	UpdateTimeMillis int64
}

func (k *KeyValuePair) Marshal() []byte {
	var b []byte
	if k.Key != "" {
		b = appendBytesField(b, 1, []byte(k.Key))
	}
	if len(k.Value) > 0 {
		b = appendBytesField(b, 2, k.Value)
	}
	if k.Codec != "" {
		b = appendBytesField(b, 3, []byte(k.Codec))
	}
	if k.Deleted {
		b = appendVarintField(b, 4, 1)
	}
	if k.UpdateTimeMillis != 0 {
		b = appendVarintField(b, 5, uint64(k.UpdateTimeMillis))
	}
	return b
}

func UnmarshalKeyValuePair(b []byte) (KeyValuePair, error) {
	var k KeyValuePair
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return k, err
		}
		b = rest
		switch {
		case f.num == 1 && f.wire == 2:
			k.Key = string(f.bytes)
		case f.num == 2 && f.wire == 2:
			k.Value = append([]byte(nil), f.bytes...)
		case f.num == 3 && f.wire == 2:
			k.Codec = string(f.bytes)
		case f.num == 4 && f.wire == 0:
			k.Deleted = f.u != 0
		case f.num == 5 && f.wire == 0:
			k.UpdateTimeMillis = int64(f.u)
		}
	}
	return k, nil
}
