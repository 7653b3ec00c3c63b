package main

// A ring lifecycler modelled on dskit's BasicLifecycler: registers directly in the
// configured state with random unique tokens, heartbeats through local CAS, and
// unregisters (LEFT tombstone) on graceful shutdown.

import (
	"fmt"
	"log"
	"math/rand"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type RingSpec struct {
	Key     string
	ID      string
	Zone    string
	Addr    string
	Tokens  int
	Period  time.Duration
	State   InstanceState
	StateOK bool
}

func parseRingSpec(s string) (RingSpec, error) {
	r := RingSpec{Key: "collectors/ring", Tokens: 16, Period: 5 * time.Second, State: ACTIVE}
	for _, kv := range strings.Split(s, ",") {
		if kv == "" {
			continue
		}
		p := strings.SplitN(kv, "=", 2)
		if len(p) != 2 {
			return r, fmt.Errorf("ring option %q: want name=value", kv)
		}
		var err error
		switch p[0] {
		case "key":
			r.Key = p[1]
		case "id":
			r.ID = p[1]
		case "zone":
			r.Zone = p[1]
		case "addr":
			r.Addr = p[1]
		case "tokens":
			r.Tokens, err = strconv.Atoi(p[1])
		case "period":
			r.Period, err = time.ParseDuration(p[1])
		case "state":
			r.State, err = parseState(strings.ToUpper(p[1]))
		default:
			err = fmt.Errorf("unknown ring option %q", p[0])
		}
		if err != nil {
			return r, err
		}
	}
	if r.Key == "" || r.Tokens < 0 || r.Period <= 0 {
		return r, fmt.Errorf("invalid ring spec %q", s)
	}
	return r, nil
}

type ringSpecs []RingSpec

func (r *ringSpecs) String() string { return fmt.Sprint(*r) }
func (r *ringSpecs) Set(s string) error {
	spec, err := parseRingSpec(s)
	if err != nil {
		return err
	}
	*r = append(*r, spec)
	return nil
}

type Lifecycler struct {
	spec       RingSpec
	kv         *KV
	logger     *log.Logger
	tokens     []uint32
	registered int64
	stopped    int32 // heartbeats stopped via the API (stuck instance)
	quit       chan struct{}
	wg         sync.WaitGroup
}

func NewLifecycler(spec RingSpec, kv *KV, logger *log.Logger) *Lifecycler {
	return &Lifecycler{spec: spec, kv: kv, logger: logger, quit: make(chan struct{})}
}

func pickTokens(n int, taken map[uint32]bool) []uint32 {
	out := make([]uint32, 0, n)
	for len(out) < n {
		t := rand.Uint32()
		if taken[t] {
			continue
		}
		taken[t] = true
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (l *Lifecycler) instance(now int64) InstanceDesc {
	return InstanceDesc{Addr: l.spec.Addr, Timestamp: now, State: l.spec.State, Tokens: append([]uint32(nil), l.tokens...),
		Zone: l.spec.Zone, RegisteredTimestamp: l.registered, ID: l.spec.ID}
}

// Register adds the instance (reusing its tokens if the ring already holds it).
func (l *Lifecycler) Register() {
	l.kv.CASRing(l.spec.Key, func(d *Desc) *Desc {
		now := time.Now().Unix()
		if cur, ok := d.Ingesters[l.spec.ID]; ok && len(cur.Tokens) > 0 {
			l.tokens = cur.Tokens
		} else {
			taken := map[uint32]bool{}
			for id, inst := range d.Ingesters {
				if id != l.spec.ID {
					for _, t := range inst.Tokens {
						taken[t] = true
					}
				}
			}
			l.tokens = pickTokens(l.spec.Tokens, taken)
		}
		l.registered = now
		d.Ingesters[l.spec.ID] = l.instance(now)
		return d
	})
	l.logger.Printf("[INFO] ringwatch-peer: registered %s in %s with %d tokens", l.spec.ID, l.spec.Key, len(l.tokens))
	l.wg.Add(1)
	go l.loop()
}

func (l *Lifecycler) heartbeat() {
	l.kv.CASRing(l.spec.Key, func(d *Desc) *Desc {
		now := time.Now().Unix()
		inst, ok := d.Ingesters[l.spec.ID]
		if !ok { // forgotten by someone: re-register with our tokens
			inst = l.instance(now)
		}
		inst.Timestamp = now
		d.Ingesters[l.spec.ID] = inst
		return d
	})
}

func (l *Lifecycler) loop() {
	defer l.wg.Done()
	t := time.NewTicker(l.spec.Period)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			if atomic.LoadInt32(&l.stopped) == 0 {
				l.heartbeat()
			}
		}
	}
}

func (l *Lifecycler) StopHeartbeats()         { atomic.StoreInt32(&l.stopped, 1) }
func (l *Lifecycler) HeartbeatsStopped() bool { return atomic.LoadInt32(&l.stopped) != 0 }

// Unregister stops heartbeats and removes the instance; local CAS turns it into a LEFT
// tombstone with no tokens and timestamp now.
func (l *Lifecycler) Unregister() {
	close(l.quit)
	l.wg.Wait()
	l.kv.CASRing(l.spec.Key, func(d *Desc) *Desc {
		delete(d.Ingesters, l.spec.ID)
		return d
	})
	l.logger.Printf("[INFO] ringwatch-peer: unregistered %s from %s", l.spec.ID, l.spec.Key)
}
