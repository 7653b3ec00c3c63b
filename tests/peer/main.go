// ringwatch-peer: a Go memberlist node that behaves on the wire like a Grafana dskit
// memberlist-KV node (TCPTransport framing, cluster label, KV delegate, ring
// lifecycler), controllable over a small HTTP API. Test tool for ringwatch.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"log"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/memberlist"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

type options struct {
	name, bindAddr, advertiseAddr, transport, label string
	bindPort, advertisePort                         int
	joins, encKeys, dropPacketsTo                   stringList
	labelSkip                                       bool
	tlsCert, tlsKey, tlsCA, tlsServerName           string
	tlsSkipVerify                                   bool
	gossipInterval, pullPush, probeInterval         time.Duration
	probeTimeout, gossipToDead, streamTimeout       time.Duration
	deadReclaim, leftTimeout, sendDelay             time.Duration
	beaconInterval, beaconLifetime                  time.Duration
	leaveTimeout, drainTimeout                      time.Duration
	gossipNodes, retransmitMult, suspicionMult      int
	protocolVersion, joinRetries                    int
	compression                                     bool
	dropRate                                        float64
	rings                                           ringSpecs
	httpAddr, readyFile                             string
	exitWithParent                                  bool
}

func parseFlags() *options {
	o := &options{}
	host, _ := os.Hostname()
	flag.StringVar(&o.name, "name", host, "memberlist node name (also the default ring instance id)")
	flag.StringVar(&o.bindAddr, "bind-addr", "0.0.0.0", "IP address to listen on")
	flag.IntVar(&o.bindPort, "bind-port", 7946, "gossip port (0 = kernel-chosen; see -ready-file)")
	flag.StringVar(&o.advertiseAddr, "advertise-addr", "", "IP to advertise (default: bind address, or a private IP for 0.0.0.0)")
	flag.IntVar(&o.advertisePort, "advertise-port", 0, "port to advertise with -advertise-addr (0 = bound port)")
	flag.Var(&o.joins, "join", "address (ip:port) of a member to join; repeatable")
	flag.StringVar(&o.transport, "transport", "tcp", "tcp = dskit TCPTransport framing; udp = memberlist NetTransport (no label, no TLS)")
	flag.StringVar(&o.label, "label", "", "cluster label (tcp transport only)")
	flag.BoolVar(&o.labelSkip, "label-verification-disabled", false, "accept packets and streams with any label or none")
	flag.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (enables TLS on every connection)")
	flag.StringVar(&o.tlsKey, "tls-key", "", "TLS key file")
	flag.StringVar(&o.tlsCA, "tls-ca", "", "CA file used to verify peers (default: system roots)")
	flag.StringVar(&o.tlsServerName, "tls-server-name", "", "expected server name (default: dialed host)")
	flag.BoolVar(&o.tlsSkipVerify, "tls-insecure-skip-verify", false, "do not verify peer certificates")
	flag.DurationVar(&o.gossipInterval, "gossip-interval", 200*time.Millisecond, "gossip interval")
	flag.IntVar(&o.gossipNodes, "gossip-nodes", 3, "nodes gossiped to per interval")
	flag.DurationVar(&o.pullPush, "pullpush-interval", 30*time.Second, "push/pull interval (0 = disabled)")
	flag.IntVar(&o.retransmitMult, "retransmit-mult", 4, "broadcast retransmit multiplier")
	flag.DurationVar(&o.probeInterval, "probe-interval", 5*time.Second, "probe interval (dskit: 5s)")
	flag.DurationVar(&o.probeTimeout, "probe-timeout", 2*time.Second, "probe timeout (dskit: 2s)")
	flag.IntVar(&o.suspicionMult, "suspicion-mult", 4, "suspicion multiplier")
	flag.DurationVar(&o.gossipToDead, "gossip-to-dead", 30*time.Second, "time dead nodes are still gossiped to (and kept in /members)")
	flag.DurationVar(&o.deadReclaim, "dead-node-reclaim", 0, "time before a dead node's name can be reclaimed by another address")
	flag.DurationVar(&o.streamTimeout, "stream-timeout", 2*time.Second, "stream dial and exchange timeout (memberlist TCPTimeout)")
	flag.BoolVar(&o.compression, "compression", true, "enable memberlist LZW compression")
	flag.Var(&o.encKeys, "encryption-key", "base64 AES key (16/24/32 bytes); repeatable, first = primary")
	flag.IntVar(&o.protocolVersion, "protocol-version", int(memberlist.DefaultLANConfig().ProtocolVersion), "memberlist protocol version spoken")
	flag.DurationVar(&o.sendDelay, "send-delay", 0, "delay added before every sent packet (fault injection)")
	flag.Float64Var(&o.dropRate, "drop-rate", 0, "fraction of sent packets silently dropped (fault injection)")
	flag.Var(&o.dropPacketsTo, "drop-packets-to", "ip:port whose packets (not streams) are silently dropped; repeatable (fault injection)")
	flag.DurationVar(&o.leftTimeout, "left-timeout", 5*time.Minute, "tombstones (LEFT instances, deleted beacons) older than this are removed on merge (0 = keep)")
	flag.DurationVar(&o.beaconInterval, "beacon-interval", 0, "publish propagation delay tracker beacons like dskit's tracker at this interval (0 = disabled)")
	flag.DurationVar(&o.beaconLifetime, "beacon-lifetime", 10*time.Minute, "live beacons this old are marked deleted (with -beacon-interval)")
	flag.Var(&o.rings, "ring", "key=K,id=ID,zone=Z,tokens=N,period=D[,state=ACTIVE][,addr=A]; repeatable")
	flag.StringVar(&o.httpAddr, "http", "127.0.0.1:0", "control API listen address")
	flag.StringVar(&o.readyFile, "ready-file", "", "write a JSON file with the actual ports once up")
	flag.DurationVar(&o.leaveTimeout, "leave-timeout", 5*time.Second, "bound on memberlist Leave")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 5*time.Second, "bound on waiting for the LEFT broadcast to drain")
	flag.IntVar(&o.joinRetries, "join-retries", 20, "join attempts before giving up")
	flag.BoolVar(&o.exitWithParent, "exit-with-parent", false, "exit at once if the parent process dies (no orphans when a test runner is killed)")
	flag.Parse()
	return o
}

func loadTLS(o *options) (server, client *tls.Config, err error) {
	if o.tlsCert == "" && o.tlsKey == "" && o.tlsCA == "" && !o.tlsSkipVerify && o.tlsServerName == "" {
		return nil, nil, nil
	}
	client = &tls.Config{ServerName: o.tlsServerName, InsecureSkipVerify: o.tlsSkipVerify}
	server = &tls.Config{}
	if o.tlsCert != "" || o.tlsKey != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, nil, err
		}
		server.Certificates = []tls.Certificate{cert}
	}
	if o.tlsCA != "" {
		pem, err := ioutil.ReadFile(o.tlsCA)
		if err != nil {
			return nil, nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, nil, fmt.Errorf("no certificates in %s", o.tlsCA)
		}
		client.RootCAs = pool
	}
	return server, client, nil
}

type peer struct {
	opts       *options
	logger     *log.Logger
	stats      *Stats
	faults     *faults
	kv         *KV
	ml         *memberlist.Memberlist
	lifecycler []*Lifecycler
	beacons    *BeaconPublisher // nil unless -beacon-interval > 0
	httpSrv    *http.Server
	stopOnce   sync.Once
	stopping   chan struct{}
	done       chan struct{}
}

func main() {
	o := parseFlags()
	stats := &Stats{}
	logger := log.New(probeFailureCounter{os.Stderr, stats}, "", log.LstdFlags|log.Lmicroseconds)
	rand.Seed(time.Now().UnixNano())
	p := &peer{opts: o, logger: logger, stats: stats, stopping: make(chan struct{}), done: make(chan struct{})}
	p.faults = &faults{dropRate: o.dropRate, rng: rand.New(rand.NewSource(time.Now().UnixNano()))}
	p.faults.setDelay(o.sendDelay)
	if err := p.faults.setDropPacketsTo(o.dropPacketsTo); err != nil {
		logger.Printf("[ERR] ringwatch-peer: %v", err)
		os.Exit(1)
	}
	if o.exitWithParent {
		go watchParent(logger)
	}
	if err := p.run(); err != nil {
		logger.Printf("[ERR] ringwatch-peer: %v", err)
		os.Exit(1)
	}
}

func (p *peer) run() error {
	o := p.opts
	if o.beaconInterval < 0 || (o.beaconInterval > 0 && o.beaconLifetime <= 0) {
		return fmt.Errorf("-beacon-interval must be >= 0 and -beacon-lifetime > 0")
	}
	p.kv = NewKV(o.leftTimeout, o.retransmitMult, p.stats, p.logger)

	c := memberlist.DefaultLANConfig()
	c.Name = o.name
	c.Delegate = p.kv
	c.Logger = p.logger
	c.TCPTimeout = o.streamTimeout
	c.ProbeInterval, c.ProbeTimeout, c.SuspicionMult = o.probeInterval, o.probeTimeout, o.suspicionMult
	c.GossipInterval, c.GossipNodes, c.GossipToTheDeadTime = o.gossipInterval, o.gossipNodes, o.gossipToDead
	c.PushPullInterval, c.RetransmitMult, c.DeadNodeReclaimTime = o.pullPush, o.retransmitMult, o.deadReclaim
	c.EnableCompression = o.compression
	c.ProtocolVersion = uint8(o.protocolVersion)
	c.AdvertiseAddr, c.AdvertisePort = o.advertiseAddr, o.advertisePort
	c.DisableTcpPings = true // as dskit (since 2022-07)
	if len(o.encKeys) > 0 {
		var keys [][]byte
		for _, k := range o.encKeys {
			b, err := base64.StdEncoding.DecodeString(k)
			if err != nil {
				return fmt.Errorf("encryption key: %v", err)
			}
			keys = append(keys, b)
		}
		kr, err := memberlist.NewKeyring(keys, keys[0])
		if err != nil {
			return err
		}
		c.Keyring = kr
	}

	var boundPort int
	switch o.transport {
	case "tcp":
		srvTLS, cliTLS, err := loadTLS(o)
		if err != nil {
			return fmt.Errorf("TLS: %v", err)
		}
		t, err := NewTCPTransport(TCPTransportConfig{BindAddr: o.bindAddr, BindPort: o.bindPort, Label: o.label,
			SkipLabelCheck: o.labelSkip, TLSServer: srvTLS, TLSClient: cliTLS}, p.faults, p.stats, p.logger)
		if err != nil {
			return err
		}
		c.Transport = t
		c.UDPBufferSize = 10 * 1024 * 1024 // dskit's packet budget
		boundPort = t.BoundPort()
	case "udp":
		if o.label != "" || o.tlsCert != "" {
			return fmt.Errorf("-label and TLS need -transport=tcp (memberlist 0.2.2 has no label support)")
		}
		nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{o.bindAddr}, BindPort: o.bindPort, Logger: p.logger})
		if err != nil {
			return err
		}
		c.Transport = newFaultyNetTransport(nt, p.faults, p.stats)
		boundPort = nt.GetAutoBindPort()
	default:
		return fmt.Errorf("unknown -transport %q", o.transport)
	}
	c.BindAddr, c.BindPort = o.bindAddr, boundPort

	ml, err := memberlist.Create(c)
	if err != nil {
		return err
	}
	p.ml = ml
	p.kv.Attach(ml)

	httpLn, err := net.Listen("tcp", o.httpAddr)
	if err != nil {
		return fmt.Errorf("http listen: %v", err)
	}
	p.httpSrv = &http.Server{Handler: p.routes()}
	go func() { _ = p.httpSrv.Serve(httpLn) }()

	joined := p.join(1)
	if !joined && len(o.joins) > 0 {
		go p.join(o.joinRetries)
	}
	for _, spec := range o.rings {
		if spec.ID == "" {
			spec.ID = o.name
		}
		if spec.Addr == "" {
			spec.Addr = httpLn.Addr().String()
		}
		l := NewLifecycler(spec, p.kv, p.logger)
		l.Register()
		p.lifecycler = append(p.lifecycler, l)
	}
	if o.beaconInterval > 0 { // dskit starts the tracker after the initial join
		p.beacons = NewBeaconPublisher(p.kv, o.name, o.beaconInterval, o.beaconLifetime, p.stats, p.logger)
		p.beacons.Start()
	}

	if o.readyFile != "" {
		local := ml.LocalNode()
		ready := map[string]interface{}{"name": o.name, "gossip_addr": local.Addr.String(), "gossip_port": local.Port,
			"http_addr": httpLn.Addr().String(), "http_port": httpLn.Addr().(*net.TCPAddr).Port, "pid": os.Getpid()}
		b, _ := json.Marshal(ready)
		tmp := o.readyFile + ".tmp"
		if err := ioutil.WriteFile(tmp, b, 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Clean(o.readyFile)); err != nil {
			return err
		}
	}
	p.logger.Printf("[INFO] ringwatch-peer: %s up: gossip %s:%d (%s), http %s", o.name, ml.LocalNode().Addr, ml.LocalNode().Port, o.transport, httpLn.Addr())

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		s := <-sig
		p.logger.Printf("[INFO] ringwatch-peer: %v received, leaving", s)
		p.shutdown()
	}()
	<-p.done
	return nil
}

// join tries the -join addresses up to attempts times with capped backoff.
func (p *peer) join(attempts int) bool {
	if len(p.opts.joins) == 0 {
		return true
	}
	backoff := 100 * time.Millisecond
	for i := 0; i < attempts; i++ {
		select {
		case <-p.stopping:
			return false
		default:
		}
		n, err := p.ml.Join(p.opts.joins)
		if err == nil && n > 0 {
			p.logger.Printf("[INFO] ringwatch-peer: joined %d nodes", n)
			return true
		}
		p.logger.Printf("[WARN] ringwatch-peer: join attempt %d failed: %v", i+1, err)
		if i+1 < attempts {
			time.Sleep(backoff)
			if backoff *= 2; backoff > 2*time.Second {
				backoff = 2 * time.Second
			}
		}
	}
	return false
}

// shutdown: LEFT tombstones, wait (bounded) for them to be gossiped, leave, exit 0.
func (p *peer) shutdown() {
	p.stopOnce.Do(func() {
		close(p.stopping)
		if p.beacons != nil {
			p.beacons.Stop()
		}
		for _, l := range p.lifecycler {
			l.Unregister()
		}
		if len(p.lifecycler) > 0 && p.ml.NumMembers() > 1 {
			deadline := time.Now().Add(p.opts.drainTimeout)
			for !p.kv.Drained() && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !p.kv.Drained() {
				p.logger.Printf("[WARN] ringwatch-peer: broadcast queue not drained after %v", p.opts.drainTimeout)
			}
		}
		if err := p.ml.Leave(p.opts.leaveTimeout); err != nil {
			p.logger.Printf("[WARN] ringwatch-peer: leave: %v", err)
		}
		if err := p.ml.Shutdown(); err != nil {
			p.logger.Printf("[WARN] ringwatch-peer: shutdown: %v", err)
		}
		_ = p.httpSrv.Close()
		p.logger.Printf("[INFO] ringwatch-peer: %s stopped", p.opts.name)
		close(p.done)
	})
}

// watchParent exits when we get reparented, i.e. the process that started us is gone.
func watchParent(logger *log.Logger) {
	ppid := os.Getppid()
	for range time.Tick(200 * time.Millisecond) {
		if os.Getppid() != ppid {
			logger.Printf("[WARN] ringwatch-peer: parent %d gone, exiting", ppid)
			os.Exit(2)
		}
	}
}
