package main

// Control API (JSON). See tests/peer/README.md for the endpoint list.

import (
	"encoding/json"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unsafe"

	"github.com/hashicorp/memberlist"
)

type memberJSON struct {
	Name        string `json:"name"`
	Addr        string `json:"addr"`
	Port        uint64 `json:"port"`
	State       string `json:"state"`
	Incarnation uint64 `json:"incarnation"`
}

var memberStates = map[int64]string{0: "alive", 1: "suspect", 2: "dead", 3: "left"}

// allMembers reads memberlist's private node table. memberlist 0.2.2 exposes neither
// suspect/dead/left states (Node.State is never set) nor incarnations, and the tests
// need exactly those; the Debian package pins the layout, and a mismatch degrades to
// Members() with every node reported alive.
func allMembers(m *memberlist.Memberlist) []memberJSON {
	v := reflect.ValueOf(m).Elem()
	lockF, nodesF := v.FieldByName("nodeLock"), v.FieldByName("nodes")
	if !lockF.IsValid() || lockF.Type() != reflect.TypeOf(sync.RWMutex{}) || !nodesF.IsValid() || nodesF.Kind() != reflect.Slice {
		var out []memberJSON
		for _, n := range m.Members() {
			out = append(out, memberJSON{Name: n.Name, Addr: n.Addr.String(), Port: uint64(n.Port), State: "alive"})
		}
		return out
	}
	lock := (*sync.RWMutex)(unsafe.Pointer(lockF.UnsafeAddr()))
	lock.RLock()
	defer lock.RUnlock()
	out := make([]memberJSON, 0, nodesF.Len())
	for i := 0; i < nodesF.Len(); i++ {
		ns := nodesF.Index(i).Elem()
		node := ns.FieldByName("Node")
		st := ns.FieldByName("State").Int()
		name, ok := memberStates[st]
		if !ok {
			name = "unknown"
		}
		out = append(out, memberJSON{
			Name:        node.FieldByName("Name").String(),
			Addr:        net.IP(node.FieldByName("Addr").Bytes()).String(),
			Port:        node.FieldByName("Port").Uint(),
			State:       name,
			Incarnation: ns.FieldByName("Incarnation").Uint(),
		})
	}
	return out
}

type instanceJSON struct {
	Addr                     string            `json:"addr"`
	Timestamp                int64             `json:"timestamp"`
	State                    string            `json:"state"`
	Tokens                   []uint32          `json:"tokens"`
	Zone                     string            `json:"zone"`
	RegisteredTimestamp      int64             `json:"registered_timestamp"`
	ID                       string            `json:"id"`
	ReadOnlyUpdatedTimestamp int64             `json:"read_only_updated_timestamp"`
	ReadOnly                 bool              `json:"read_only"`
	Versions                 map[string]uint64 `json:"versions"`
}

func ringJSON(d *Desc, withLeft bool) map[string]instanceJSON {
	out := map[string]instanceJSON{}
	if d == nil {
		return out
	}
	for id, i := range d.Ingesters {
		if i.State == LEFT && !withLeft {
			continue
		}
		j := instanceJSON{Addr: i.Addr, Timestamp: i.Timestamp, State: i.State.String(), Tokens: i.Tokens, Zone: i.Zone,
			RegisteredTimestamp: i.RegisteredTimestamp, ID: i.ID, ReadOnlyUpdatedTimestamp: i.ReadOnlyUpdatedTimestamp,
			ReadOnly: i.ReadOnly, Versions: map[string]uint64{}}
		if j.Tokens == nil {
			j.Tokens = []uint32{}
		}
		for k, v := range i.Versions {
			j.Versions[strconv.FormatUint(k, 10)] = v
		}
		out[id] = j
	}
	return out
}

type beaconJSON struct {
	PublishedAt int64  `json:"published_at"`
	DeletedAt   int64  `json:"deleted_at"`
	PublishedBy string `json:"published_by"`
}

// beaconsJSON lists every beacon (deleted ones included) by decimal ID.
func beaconsJSON(d *PropagationDelayTrackerDesc) map[string]beaconJSON {
	out := map[string]beaconJSON{}
	for id, b := range d.Beacons {
		out[strconv.FormatUint(id, 10)] = beaconJSON{PublishedAt: b.PublishedAt, DeletedAt: b.DeletedAt, PublishedBy: b.PublishedBy}
	}
	return out
}

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func errJSON(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

func method(want string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != want {
			errJSON(w, http.StatusMethodNotAllowed, "use "+want)
			return
		}
		h(w, r)
	}
}

func (p *peer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/members", method("GET", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]interface{}{"self": p.opts.name, "members": allMembers(p.ml)})
	}))
	mux.HandleFunc("/kv", method("GET", func(w http.ResponseWriter, r *http.Request) {
		keys := map[string]interface{}{}
		for k, s := range p.kv.Snapshot() {
			// "instances" is always present (empty unless the value is a ring).
			e := map[string]interface{}{"codec": s.Codec, "deleted": s.Deleted, "update_time_millis": s.UpdateTime,
				"version": s.Version, "instances": map[string]instanceJSON{}}
			switch v := s.Value.(type) {
			case *Desc:
				e["instances"] = ringJSON(v, true)
			case *PropagationDelayTrackerDesc:
				e["beacons"] = beaconsJSON(v)
			}
			keys[k] = e
		}
		writeJSON(w, 200, map[string]interface{}{"keys": keys})
	}))
	mux.HandleFunc("/ring", method("GET", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		s, ok := p.kv.Snapshot()[key]
		if !ok {
			errJSON(w, 404, "no such key")
			return
		}
		if s.Codec != ringCodec {
			errJSON(w, 404, "key holds a "+s.Codec+" value, not a ring")
			return
		}
		d, _ := s.Value.(*Desc) // nil while the key has no value yet
		writeJSON(w, 200, map[string]interface{}{"key": key, "codec": s.Codec, "deleted": s.Deleted, "instances": ringJSON(d, false)})
	}))
	mux.HandleFunc("/healthy", method("GET", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-p.stopping:
			errJSON(w, 503, "stopping")
		default:
			writeJSON(w, 200, map[string]interface{}{"status": "ok", "members": p.ml.NumMembers()})
		}
	}))
	mux.HandleFunc("/leave", method("POST", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 202, map[string]string{"status": "leaving"})
		go p.shutdown()
	}))
	mux.HandleFunc("/heartbeat/stop", method("POST", func(w http.ResponseWriter, r *http.Request) {
		key, n := r.URL.Query().Get("key"), 0
		for _, l := range p.lifecycler {
			if key == "" || l.spec.Key == key {
				l.StopHeartbeats()
				n++
			}
		}
		if n == 0 {
			errJSON(w, 404, "no lifecycler for that key")
			return
		}
		writeJSON(w, 200, map[string]int{"stopped": n})
	}))
	mux.HandleFunc("/delay", method("POST", func(w http.ResponseWriter, r *http.Request) {
		ms, err := strconv.Atoi(r.URL.Query().Get("ms"))
		if err != nil || ms < 0 {
			errJSON(w, 400, "ms must be a non-negative integer")
			return
		}
		p.faults.setDelay(time.Duration(ms) * time.Millisecond)
		writeJSON(w, 200, map[string]int{"delay_ms": ms})
	}))
	mux.HandleFunc("/stats", method("GET", func(w http.ResponseWriter, r *http.Request) {
		s := p.stats.snapshot()
		out := map[string]interface{}{}
		for k, v := range s {
			out[k] = v
		}
		out["num_members"] = p.ml.NumMembers()
		out["health_score"] = p.ml.GetHealthScore()
		out["kv_queue_local"] = p.kv.localQ.NumQueued()
		out["kv_queue_gossip"] = p.kv.gossipQ.NumQueued()
		out["send_delay_ms"] = p.faults.delay().Milliseconds()
		writeJSON(w, 200, out)
	}))
	return mux
}
