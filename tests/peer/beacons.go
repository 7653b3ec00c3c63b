package main

// dskit's propagation delay tracker as a publisher (spec dskit-kv-ring.md §4.1, §5.3,
// §6.5, §7.9): PropagationDelayTrackerDesc / BeaconDesc, hand-encoded like ring.go,
// their merge rules, and the ticker that expires old beacons and publishes new ones
// through local CAS. The delay measurement side is not reproduced (ringwatch measures).

import (
	"log"
	"math/rand"
	"strconv"
	"sync"
	"time"
)

// beaconKey is the tracker's KV key; dskit adds no prefix.
const beaconKey = "memberlist-propagation-delay-tracker"

type BeaconDesc struct {
	PublishedAt int64 // unix ms
	DeletedAt   int64 // unix ms, 0 = live
	PublishedBy string
}

type PropagationDelayTrackerDesc struct {
	Beacons map[uint64]BeaconDesc
}

func NewPropagationDelayTrackerDesc() *PropagationDelayTrackerDesc {
	return &PropagationDelayTrackerDesc{Beacons: map[uint64]BeaconDesc{}}
}

func (d *PropagationDelayTrackerDesc) clone() *PropagationDelayTrackerDesc {
	out := NewPropagationDelayTrackerDesc()
	for id, b := range d.Beacons {
		out.Beacons[id] = b
	}
	return out
}

func (d *PropagationDelayTrackerDesc) Clone() Mergeable { return d.clone() }

// ---- protobuf ----

func (b *BeaconDesc) Marshal() []byte {
	var out []byte
	if b.PublishedAt != 0 {
		out = appendVarintField(out, 1, uint64(b.PublishedAt))
	}
	if b.DeletedAt != 0 {
		out = appendVarintField(out, 2, uint64(b.DeletedAt))
	}
	if b.PublishedBy != "" {
		out = appendBytesField(out, 3, []byte(b.PublishedBy))
	}
	return out
}

// Marshal writes map entries with both key and value, as gogo does (§5.7).
func (d *PropagationDelayTrackerDesc) Marshal() []byte {
	var out []byte
	for id, b := range d.Beacons {
		var e []byte
		e = appendVarintField(e, 1, id)
		e = appendBytesField(e, 2, b.Marshal())
		out = appendBytesField(out, 1, e)
	}
	return out
}

func UnmarshalBeaconDesc(b []byte) (BeaconDesc, error) {
	var d BeaconDesc
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return d, err
		}
		b = rest
		switch {
		case f.num == 1 && f.wire == 0:
			d.PublishedAt = int64(f.u)
		case f.num == 2 && f.wire == 0:
			d.DeletedAt = int64(f.u)
		case f.num == 3 && f.wire == 2:
			d.PublishedBy = string(f.bytes)
		}
	}
	return d, nil
}

func UnmarshalPropagationDelayTrackerDesc(b []byte) (*PropagationDelayTrackerDesc, error) {
	d := NewPropagationDelayTrackerDesc()
	for len(b) > 0 {
		f, rest, err := nextField(b)
		if err != nil {
			return nil, err
		}
		b = rest
		if f.num != 1 || f.wire != 2 {
			continue
		}
		var id uint64
		var beacon BeaconDesc
		e := f.bytes
		for len(e) > 0 {
			ef, er, err := nextField(e)
			if err != nil {
				return nil, err
			}
			e = er
			if ef.num == 1 && ef.wire == 0 {
				id = ef.u
			} else if ef.num == 2 && ef.wire == 2 {
				if beacon, err = UnmarshalBeaconDesc(ef.bytes); err != nil {
					return nil, err
				}
			}
		}
		d.Beacons[id] = beacon
	}
	return d, nil
}

// ---- dskit merge semantics (§6.5) ----

// Merge: a beacon of other is taken if absent locally, or if its published_at is greater,
// or equal with a greater deleted_at. With localCAS, live local beacons missing from
// other are deleted at now (ms). The change holds the taken/deleted beacons.
func (d *PropagationDelayTrackerDesc) Merge(other Mergeable, localCAS bool, now time.Time) Mergeable {
	o, ok := other.(*PropagationDelayTrackerDesc)
	if !ok || o == nil {
		return nil
	}
	if d.Beacons == nil {
		d.Beacons = map[uint64]BeaconDesc{}
	}
	change := NewPropagationDelayTrackerDesc()
	for id, ob := range o.Beacons {
		lb, present := d.Beacons[id]
		if !present || ob.PublishedAt > lb.PublishedAt || (ob.PublishedAt == lb.PublishedAt && ob.DeletedAt > lb.DeletedAt) {
			d.Beacons[id] = ob
			change.Beacons[id] = ob
		}
	}
	if localCAS {
		for id, lb := range d.Beacons {
			if _, ok := o.Beacons[id]; !ok && lb.DeletedAt == 0 {
				lb.DeletedAt = now.UnixMilli()
				d.Beacons[id] = lb
				change.Beacons[id] = lb
			}
		}
	}
	if len(change.Beacons) == 0 {
		return nil
	}
	return change
}

func (d *PropagationDelayTrackerDesc) MergeContent() []string {
	out := make([]string, 0, len(d.Beacons))
	for id := range d.Beacons {
		out = append(out, strconv.FormatUint(id, 10))
	}
	return out
}

// RemoveTombstones deletes beacons deleted before limit (ms resolution); every deleted
// beacon for a zero limit.
func (d *PropagationDelayTrackerDesc) RemoveTombstones(limit time.Time) (total, removed int) {
	for id, b := range d.Beacons {
		if b.DeletedAt == 0 {
			continue
		}
		if limit.IsZero() || b.DeletedAt < limit.UnixMilli() {
			delete(d.Beacons, id)
			removed++
		} else {
			total++
		}
	}
	return
}

// ---- publisher (§7.9) ----

// planBeacons is one tracker tick on a tombstone-free value: live beacons aged ≥ lifetime
// are marked deleted at now; if then no live beacon is younger than interval, a new one
// (newID(), now, name) is added. Returns whether d changed and the published ID (0 = none).
func planBeacons(d *PropagationDelayTrackerDesc, now time.Time, interval, lifetime time.Duration, name string, newID func() uint64) (changed bool, published uint64) {
	nowMs := now.UnixMilli()
	recent := false
	for id, b := range d.Beacons {
		if b.DeletedAt != 0 {
			continue
		}
		age := nowMs - b.PublishedAt
		if age >= lifetime.Milliseconds() {
			b.DeletedAt = nowMs
			d.Beacons[id] = b
			changed = true
		} else if age < interval.Milliseconds() {
			recent = true
		}
	}
	if !recent {
		var id uint64
		for {
			id = newID()
			if _, taken := d.Beacons[id]; id != 0 && !taken {
				break
			}
		}
		d.Beacons[id] = BeaconDesc{PublishedAt: nowMs, PublishedBy: name}
		changed, published = true, id
	}
	return changed, published
}

// BeaconPublisher runs the tracker's ticker: first tick after a random delay in
// (0, interval], then every interval.
type BeaconPublisher struct {
	kv                 *KV
	name               string
	interval, lifetime time.Duration
	stats              *Stats
	logger             *log.Logger
	quit               chan struct{}
	stopOnce           sync.Once
	wg                 sync.WaitGroup
}

func NewBeaconPublisher(kv *KV, name string, interval, lifetime time.Duration, stats *Stats, logger *log.Logger) *BeaconPublisher {
	return &BeaconPublisher{kv: kv, name: name, interval: interval, lifetime: lifetime, stats: stats, logger: logger, quit: make(chan struct{})}
}

func (p *BeaconPublisher) Start() {
	p.wg.Add(1)
	go p.loop()
}

func (p *BeaconPublisher) Stop() {
	p.stopOnce.Do(func() { close(p.quit) })
	p.wg.Wait()
}

func (p *BeaconPublisher) loop() {
	defer p.wg.Done()
	first := time.NewTimer(time.Duration(rand.Int63n(int64(p.interval))) + 1)
	defer first.Stop()
	select {
	case <-p.quit:
		return
	case <-first.C:
		p.tick()
	}
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			return
		case <-t.C:
			p.tick()
		}
	}
}

func (p *BeaconPublisher) tick() {
	var published uint64
	ok := p.kv.CAS(beaconKey, beaconCodec, func(v Mergeable) Mergeable {
		d := v.(*PropagationDelayTrackerDesc)
		changed, id := planBeacons(d, time.Now(), p.interval, p.lifetime, p.name, rand.Uint64)
		if !changed {
			return nil
		}
		published = id
		return d
	})
	if ok && published != 0 {
		p.stats.add(&p.stats.BeaconsPublished, 1)
		p.logger.Printf("[DEBUG] ringwatch-peer: published beacon %d", published)
	}
}
